"""Import of jury-approved results (CSV or JSON): every row validated, every rejection explained."""

from __future__ import annotations

import csv
import io
import json
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from issuer.content import CefrLevel, CertificateContent, SkillResult

REQUIRED = (
    "result_id",
    "candidate_name",
    "date_of_birth",
    "candidate_number",
    "email",
    "exam",
    "language",
    "session_date",
    "centre",
)
OPTIONAL = ("level", "score", "score_max", "message_language")
SKILL_PREFIX = "skill_"
MAX_FILE_BYTES = 50 * 1024 * 1024
_EMAIL = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\".]{2,}$")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class ResultsFileError(Exception):
    """The file as a whole cannot be read (not the fault of one row)."""


@dataclass(frozen=True)
class ResultRow:
    """One valid result, ready to become a certificate."""

    line: int
    result_id: str
    email: str
    message_language: str
    fields: Mapping[str, Any]

    def to_content(self, *, certificate_id: str, issued_on: date) -> CertificateContent:
        return CertificateContent(certificate_id=certificate_id, issued_on=issued_on, **self.fields)


@dataclass(frozen=True)
class RejectedRow:
    line: int
    result_id: str | None
    reasons: tuple[str, ...]


@dataclass
class IntakeReport:
    """What a results file holds: valid rows and rejected rows with their reasons."""

    source_name: str
    rows: list[ResultRow] = field(default_factory=list)
    rejected: list[RejectedRow] = field(default_factory=list)


def read_results(path: Path, *, today: date) -> IntakeReport:
    """Read and validate a CSV or JSON results file."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ResultsFileError(f"cannot read {path}: {exc.strerror}") from None
    if size > MAX_FILE_BYTES:
        raise ResultsFileError(f"{path} is {size} bytes; the limit is {MAX_FILE_BYTES}")
    return parse_results(path.read_bytes(), name=path.name, today=today)


def parse_results(raw: bytes, *, name: str, today: date) -> IntakeReport:
    """Validate results from bytes; the format is chosen by the name's extension."""
    if not raw.strip():
        raise ResultsFileError(f"{name} is empty")
    suffix = Path(name).suffix.lower()
    records: Iterable[tuple[int, dict[str, Any]]]
    if suffix == ".json":
        records = _json_records(raw, name)
    elif suffix in (".csv", ".txt", ""):
        records = _csv_records(raw, name)
    else:
        raise ResultsFileError(f"{name}: unsupported format {suffix!r}; use .csv or .json")
    report = IntakeReport(source_name=name)
    for line, record in records:
        _validate_into(report, line, record, today)
    _reject_duplicates(report)
    return report


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


def _csv_records(raw: bytes, name: str) -> Iterator[tuple[int, dict[str, Any]]]:
    # surrogateescape keeps undecodable bytes so the row that holds them is rejected alone.
    text = raw.decode("utf-8-sig", errors="surrogateescape")
    sample = text[:4096]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except (StopIteration, csv.Error) as exc:
        raise ResultsFileError(f"{name}: no readable header line ({exc})") from None
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise ResultsFileError(f"{name}: missing column(s) {', '.join(missing)}")
    unknown = [h for h in header if h not in REQUIRED + OPTIONAL and not h.startswith(SKILL_PREFIX)]
    if unknown:
        raise ResultsFileError(f"{name}: unknown column(s) {', '.join(unknown)}")
    return _csv_rows(reader, header, name)


def _csv_rows(reader: Any, header: list[str], name: str) -> Iterator[tuple[int, dict[str, Any]]]:
    line = reader.line_num + 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ResultsFileError(f"{name}: line {line}: {exc}") from None
        if any(c.strip() for c in cells):
            record: dict[str, Any] = dict(zip(header, cells, strict=False))
            if len(cells) != len(header):
                record["__error__"] = f"{len(cells)} cells where the header has {len(header)}"
            yield line, record
        line = reader.line_num + 1


def _validate_into(report: IntakeReport, line: int, record: dict[str, Any], today: date) -> None:
    reasons: list[str] = []
    if "__error__" in record:
        reasons.append(str(record.pop("__error__")))
    clean = {k: _text(v) for k, v in record.items() if not k.startswith(SKILL_PREFIX)}
    result_id = clean.get("result_id") or None
    for key, value in record.items():
        if isinstance(value, str) and any("\udc80" <= ch <= "\udcff" for ch in value):
            reasons.append(f"{key}: not valid UTF-8 text; save the file as UTF-8")
            clean[key] = ""
    fields = _fields(clean, reasons, today)
    fields["skills"] = _skills(record, reasons)
    email = clean.get("email", "")
    if not _EMAIL.match(email):
        reasons.append(f"email: {email!r} is not an e-mail address" if email else "email: missing")
    lang = (clean.get("message_language") or "fr").lower()
    if lang not in ("fr", "en"):
        reasons.append(f"message_language: {lang!r} must be fr or en")
    if reasons:
        report.rejected.append(RejectedRow(line, result_id, tuple(reasons)))
        return
    report.rows.append(ResultRow(line, str(result_id), email, lang, fields))


def _fields(clean: dict[str, str], reasons: list[str], today: date) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for key in ("result_id", "candidate_name", "candidate_number", "exam", "language", "centre"):
        value = clean.get(key, "")
        if not value:
            reasons.append(f"{key}: missing")
        elif _CONTROL.search(value):
            reasons.append(f"{key}: contains control characters")
        elif len(value) > 200:
            reasons.append(f"{key}: longer than 200 characters")
        fields[key] = value
    birth = _date(clean.get("date_of_birth", ""), "date_of_birth", reasons)
    session = _date(clean.get("session_date", ""), "session_date", reasons)
    if birth and birth > today:
        reasons.append(f"date_of_birth: {birth.isoformat()} is in the future")
    if session and session > today:
        reasons.append(f"session_date: {session.isoformat()} is in the future")
    if birth and session and birth >= session:
        reasons.append("date_of_birth: not before the session date")
    fields["date_of_birth"], fields["session_date"] = birth, session
    _grade(clean, fields, reasons)
    return fields


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
        value, name = _text(raw), key[len(SKILL_PREFIX) :].replace("_", " ").strip()
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


def _date(text: str, key: str, reasons: list[str]) -> date | None:
    if not text:
        reasons.append(f"{key}: missing")
        return None
    try:
        if re.fullmatch(r"\d{2}/\d{2}/\d{4}", text):  # French day/month/year
            day, month, year = (int(p) for p in text.split("/"))
            return date(year, month, day)
        return date.fromisoformat(text)
    except ValueError:
        reasons.append(f"{key}: {text!r} is not a date (YYYY-MM-DD or DD/MM/YYYY)")
        return None


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _reject_duplicates(report: IntakeReport) -> None:
    lines: dict[str, list[int]] = defaultdict(list)
    for row in report.rows:
        lines[row.result_id].append(row.line)
    for rejected in report.rejected:
        if rejected.result_id:
            lines[rejected.result_id].append(rejected.line)
    dup = {rid: sorted(ls) for rid, ls in lines.items() if len(ls) > 1}
    if not dup:
        return
    keep: list[ResultRow] = []
    for row in report.rows:
        if row.result_id in dup:
            where = ", ".join(str(n) for n in dup[row.result_id])
            reason = f"result_id: {row.result_id!r} appears more than once (lines {where})"
            report.rejected.append(RejectedRow(row.line, row.result_id, (reason,)))
        else:
            keep.append(row)
    report.rows = keep
    report.rejected.sort(key=lambda r: r.line)
