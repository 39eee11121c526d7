"""Import of jury-approved results (CSV, XLSX, ODS or JSON): every row validated, every rejection
explained.

The file is read by :mod:`issuer.spreadsheets`, its columns understood by :mod:`issuer.columns`;
this module turns each row into a :class:`ResultRow` or a :class:`RejectedRow`.
"""

from __future__ import annotations

import functools
import json
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from issuer.columns import SKILL_PREFIX, ColumnMapping, ColumnPlan, understand_columns
from issuer.content import CefrLevel, CertificateContent, SkillResult
from issuer.fonts import undrawable_characters
from issuer.spreadsheets import (
    CellValue,
    FileFormat,
    ResultsFileError,
    cell_date,
    cell_text,
    detect_format,
    read_table,
)

__all__ = [
    "IntakeReport",
    "RejectedRow",
    "RepeatedResult",
    "ResultRow",
    "ResultsFileError",
    "parse_results",
    "read_results",
]

MAX_FILE_BYTES = 50 * 1024 * 1024
PRINTED = ("result_id", "candidate_name", "candidate_number", "exam", "language", "centre")
_EMAIL = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\".]{2,}$")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_LANGUAGES = {
    "fr": "fr", "fra": "fr", "fre": "fr", "francais": "fr", "french": "fr",
    "en": "en", "eng": "en", "anglais": "en", "english": "en",
}  # fmt: skip


@dataclass(frozen=True)
class ResultRow:
    """One valid result, ready to become a certificate."""

    line: int
    result_id: str
    email: str | None  # None: the candidate gets a printable letter instead of a message
    message_language: str
    fields: Mapping[str, Any]

    def to_content(self, *, certificate_id: str, issued_on: date) -> CertificateContent:
        return CertificateContent(certificate_id=certificate_id, issued_on=issued_on, **self.fields)


@dataclass(frozen=True)
class RejectedRow:
    line: int
    result_id: str | None
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class RepeatedResult:
    """The same result, word for word, on several lines: one certificate."""

    result_id: str
    lines: tuple[int, ...]

    def __str__(self) -> str:
        where = ", ".join(str(n) for n in self.lines)
        return f"{self.result_id}: lines {where} are the same result; one certificate is issued"


@dataclass
class IntakeReport:
    """What a results file holds: valid rows and rejected rows with their reasons."""

    source_name: str
    rows: list[ResultRow] = field(default_factory=list)
    rejected: list[RejectedRow] = field(default_factory=list)
    repeats: list[RepeatedResult] = field(default_factory=list)
    columns: ColumnPlan | None = None  # None for JSON, whose keys are our fields
    read_as: str = ""  # how the file was read: "CSV, Windows-1252, separator ';'"


def read_results(
    path: Path, *, today: date, columns: ColumnMapping | None = None, default_language: str = "fr"
) -> IntakeReport:
    """Read and validate a results file (CSV, XLSX, ODS or JSON)."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ResultsFileError(f"cannot read {path}: {exc.strerror}") from None
    if size > MAX_FILE_BYTES:
        raise ResultsFileError(f"{path} is {size} bytes; the limit is {MAX_FILE_BYTES}")
    return parse_results(
        path.read_bytes(),
        name=path.name,
        today=today,
        columns=columns,
        default_language=default_language,
    )


def parse_results(
    raw: bytes,
    *,
    name: str,
    today: date,
    columns: ColumnMapping | None = None,
    default_language: str = "fr",
) -> IntakeReport:
    """Validate results from bytes; the format is found from the content."""
    if not raw.strip():
        raise ResultsFileError(f"{name} is empty")
    file_format = detect_format(raw, name)
    report = IntakeReport(source_name=name, read_as=file_format.value)
    records: Iterable[tuple[int, dict[str, Any]]]
    if file_format is FileFormat.JSON:
        records = _json_records(raw, name)
    else:
        table = read_table(raw, name, file_format)
        report.columns = understand_columns(table.header, source=name, mapping=columns)
        report.read_as = table.described
        records = _table_records(table.rows, report.columns)
    seen: dict[int, dict[str, Any]] = {}
    for line, record in records:
        seen[line] = record
        _validate_into(report, line, record, today, default_language)
    _settle_repeats(report, seen)
    return report


def _table_records(rows: Iterable[Any], plan: ColumnPlan) -> Iterable[tuple[int, dict[str, Any]]]:
    for row in rows:
        record = plan.record(row.cells)
        if row.problem:
            record["__error__"] = row.problem
        yield row.line, record


def _json_records(raw: bytes, name: str) -> list[tuple[int, dict[str, Any]]]:
    try:
        doc = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise ResultsFileError(
            f"{name} is not UTF-8 (byte {exc.start}); save it as UTF-8"
        ) from None
    except json.JSONDecodeError as exc:
        raise ResultsFileError(f"{name}: invalid JSON at line {exc.lineno}: {exc.msg}") from None
    items = doc.get("results") if isinstance(doc, dict) else doc
    if not isinstance(items, list):
        raise ResultsFileError(f'{name}: expected a list of results or {{"results": [...]}}')
    out: list[tuple[int, dict[str, Any]]] = []
    for index, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            item = {"__error__": f"item {index} is not an object"}
        record = {k: v for k, v in item.items() if k != "skills"}
        skills = item.get("skills") or {}
        if isinstance(skills, dict):
            record.update({SKILL_PREFIX + str(k): v for k, v in skills.items()})
        else:
            record["__error__"] = 'skills: expected an object such as {"listening": "B2"}'
        out.append((index, record))
    return out


def _validate_into(
    report: IntakeReport, line: int, record: dict[str, Any], today: date, default_language: str
) -> None:
    reasons: list[str] = []
    if "__error__" in record:
        reasons.append(str(record.pop("__error__")))
    clean = {k: cell_text(v) for k, v in record.items() if not k.startswith(SKILL_PREFIX)}
    clean["candidate_name"] = _full_name(clean)
    fields = _fields(clean, record, reasons, today)
    fields["skills"] = _skills(record, reasons)
    email = clean.get("email") or None
    if email is not None and not _EMAIL.match(email):
        reasons.append(f"email: {email!r} is not an e-mail address")
    lang = _message_language(clean.get("message_language", ""), default_language, reasons)
    result_id = clean.get("result_id") or None
    if reasons:
        report.rejected.append(RejectedRow(line, result_id, tuple(reasons)))
        return
    report.rows.append(ResultRow(line, str(result_id), email, lang, fields))


def _full_name(clean: Mapping[str, str]) -> str:
    """The name as printed: the full-name column, else first name then last name."""
    if full := clean.get("candidate_name", ""):
        return full
    return " ".join(p for p in (clean.get("first_name", ""), clean.get("last_name", "")) if p)


def _fields(
    clean: dict[str, str], record: Mapping[str, Any], reasons: list[str], today: date
) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for key in PRINTED:
        fields[key] = value = clean.get(key, "")
        if not value:
            reasons.append(f"{key}: missing")
        elif problem := _printable_problem(value):
            reasons.append(f"{key}: {problem}")
    first, last = clean.get("first_name") or None, clean.get("last_name") or None
    both = first is not None and last is not None  # else one column holds the whole name
    fields["first_name"], fields["last_name"] = (first, last) if both else (None, None)
    birth = _date(record.get("date_of_birth"), "date_of_birth", reasons)
    session = _date(record.get("session_date"), "session_date", reasons)
    if birth and birth > today:
        reasons.append(f"date_of_birth: {birth.isoformat()} is in the future")
    if session and session > today:
        reasons.append(f"session_date: {session.isoformat()} is in the future")
    if birth and session and birth >= session:
        reasons.append("date_of_birth: not before the session date")
    fields["date_of_birth"], fields["session_date"] = birth, session
    _grade(clean, fields, reasons)
    return fields


def _printable_problem(value: str) -> str | None:
    """Why ``value`` cannot be printed on a certificate, or None."""
    if _CONTROL.search(value):
        return "contains control characters"
    if len(value) > 200:
        return "longer than 200 characters"
    if missing := _undrawable(value):
        shown = ", ".join(f"{ch!r} (U+{ord(ch):04X})" for ch in missing)
        return f"{shown} cannot be drawn by any font of the certificate"
    return None


@functools.lru_cache(maxsize=4096)
def _undrawable(text: str) -> tuple[str, ...]:
    """The fonts' answer, kept: exams, languages and centres repeat on every row."""
    return tuple(undrawable_characters(text))


def _message_language(text: str, default: str, reasons: list[str]) -> str:
    if not text:
        return default
    key = re.split(r"[-_ ]", text.strip().lower())[0].replace("ç", "c")
    if key not in _LANGUAGES:
        reasons.append(f"message_language: {text!r} must be fr or en")
        return default
    return _LANGUAGES[key]


def _grade(clean: dict[str, str], fields: dict[str, Any], reasons: list[str]) -> None:
    level_text, score_text = clean.get("level", ""), clean.get("score", "")
    if not level_text and not score_text:
        reasons.append("level/score: give a CEFR level (A1–C2) or a score")
    fields["level"] = _level(level_text, "level", reasons) if level_text else None
    fields["score"] = _decimal(score_text, "score", reasons) if score_text else None
    max_text = clean.get("score_max", "")
    fields["score_max"] = _decimal(max_text, "score_max", reasons) if max_text else None
    score, top = fields["score"], fields["score_max"]
    if score is not None and top is not None and score > top:
        reasons.append(f"score: {score} is above score_max {top}")


def _skills(record: Mapping[str, Any], reasons: list[str]) -> tuple[SkillResult, ...]:
    skills: list[SkillResult] = []
    for key, raw in record.items():
        if not key.startswith(SKILL_PREFIX):
            continue
        value, name = cell_text(raw), key[len(SKILL_PREFIX) :].replace("_", " ").strip()
        if not value:
            continue
        if value.upper() in CefrLevel.__members__:
            skills.append(SkillResult(skill=name, level=CefrLevel(value.upper())))
        elif (number := _decimal(value, key, reasons)) is not None:
            skills.append(SkillResult(skill=name, score=number))
    return tuple(skills)


def _level(text: str, key: str, reasons: list[str]) -> CefrLevel | None:
    try:
        return CefrLevel(text.strip().upper())
    except ValueError:
        reasons.append(f"{key}: {text!r} is not a CEFR level (A1, A2, B1, B2, C1, C2)")
        return None


def _decimal(text: str, key: str, reasons: list[str]) -> Decimal | None:
    try:
        value = Decimal(text.replace(",", "."))
    except InvalidOperation:
        reasons.append(f"{key}: {text!r} is not a number")
        return None
    if not value.is_finite() or value < 0:
        reasons.append(f"{key}: {text!r} must be a positive number")
        return None
    return value


def _date(value: CellValue, key: str, reasons: list[str]) -> date | None:
    if not cell_text(value):
        reasons.append(f"{key}: missing")
        return None
    try:
        return cell_date(value)
    except ValueError as exc:
        reasons.append(f"{key}: {exc}")
        return None


def _settle_repeats(report: IntakeReport, records: Mapping[int, Mapping[str, Any]]) -> None:
    """A result id on several lines: one certificate if the rows are the same, else none."""
    lines: dict[str, list[int]] = defaultdict(list)
    items: list[ResultRow | RejectedRow] = [*report.rows, *report.rejected]
    for item in items:
        if item.result_id:
            lines[item.result_id].append(item.line)
    repeated = {rid: sorted(ls) for rid, ls in lines.items() if len(ls) > 1}
    if not repeated:
        return
    valid = {row.line: row for row in report.rows}
    keep: list[ResultRow] = []
    for row in report.rows:
        group = repeated.get(row.result_id)
        if group is None:
            keep.append(row)
        elif _same(group, valid, records):
            if row.line == group[0]:
                keep.append(row)
                report.repeats.append(RepeatedResult(row.result_id, tuple(group)))
        else:
            report.rejected.append(RejectedRow(row.line, row.result_id, (_conflict(row, group),)))
    report.rows = keep
    report.rejected = [_with_conflict(r, repeated, valid, records) for r in report.rejected]
    report.rejected.sort(key=lambda r: r.line)


def _same(
    group: list[int], valid: Mapping[int, ResultRow], records: Mapping[int, Mapping[str, Any]]
) -> bool:
    if all(n in valid for n in group):
        first = valid[group[0]]
        return all(
            (valid[n].fields, valid[n].email, valid[n].message_language)
            == (first.fields, first.email, first.message_language)
            for n in group
        )
    texts = [{k: cell_text(v) for k, v in records[n].items()} for n in group]
    return all(t == texts[0] for t in texts)


def _conflict(row: ResultRow | RejectedRow, group: list[int]) -> str:
    where = ", ".join(str(n) for n in group)
    return (
        f"result_id: {row.result_id!r} appears more than once (lines {where}) with different "
        "content; every one of those rows is rejected"
    )


def _with_conflict(
    row: RejectedRow,
    repeated: Mapping[str, list[int]],
    valid: Mapping[int, ResultRow],
    records: Mapping[int, Mapping[str, Any]],
) -> RejectedRow:
    """A row rejected for its own reasons also says when its id is shared with other rows."""
    group = repeated.get(row.result_id or "")
    if (
        group is None
        or _same(group, valid, records)
        or any("appears more" in r for r in row.reasons)
    ):
        return row
    return RejectedRow(row.line, row.result_id, (*row.reasons, _conflict(row, group)))
