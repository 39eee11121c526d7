"""Columns as exam centres name them: headers matched to our fields, or mapped by a file.

A header matches a field when both are equal once case, accents, spaces, hyphens,
underscores and punctuation are set aside ("Date de naissance" = "date_de_naissance").
Anything else is named in a mapping file, a TOML ``[columns]`` table: our field = their header.
"""

from __future__ import annotations

import difflib
import re
import tomllib
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from issuer.spreadsheets import CellValue, ResultsFileError

# Our fields, each with the names exam centres give it (French and English).
FIELD_NAMES: dict[str, tuple[str, ...]] = {
    "result_id": (
        "result_id", "id", "identifiant du résultat", "result reference", "result number",
        "reference", "ref", "identifiant", "identifiant résultat", "numéro de résultat",
        "n° résultat", "référence du résultat",
    ),
    "candidate_name": (
        "candidate_name", "name", "nom complet", "full name", "candidate", "candidate full name",
        "nom et prénom", "nom prénom", "prénom nom", "prénom et nom", "candidat",
        "nom prénom du candidat", "nom complet du candidat",
    ),
    "first_name": (
        "first_name", "given name", "prénom", "given names", "forename", "forenames", "prénoms",
        "prénom du candidat", "prénom usuel",
    ),
    "last_name": (
        "last_name", "surname", "nom", "family name", "nom de famille", "nom du candidat",
        "nom d'usage", "nom usuel",
    ),
    "date_of_birth": (
        "date_of_birth", "birth date", "date de naissance", "dob", "born", "naissance", "né le",
        "née le", "ddn",
    ),
    "candidate_number": (
        "candidate_number", "candidate no", "numéro de candidat", "candidate id", "candidate ref",
        "registration number", "numéro candidat", "n° candidat", "n° de candidat", "no candidat",
        "num candidat", "identifiant candidat", "numéro d'inscription", "n° d'inscription",
        "matricule",
    ),
    "email": (
        "email", "mail", "courriel", "email address", "mél", "adresse électronique",
        "adresse e-mail", "adresse mail", "adresse courriel",
    ),
    "exam": (
        "exam", "exam name", "examen", "examination", "test", "test name", "certification",
        "épreuve", "diplôme", "nom de l'examen", "intitulé de l'examen",
    ),
    "language": (
        "language", "exam language", "langue", "language tested", "tested language", "subject",
        "langue de l'examen", "langue évaluée", "langue étrangère",
    ),
    "level": (
        "level", "cefr", "niveau", "cefr level", "overall level", "level achieved", "cecrl",
        "niveau cecrl", "niveau obtenu", "niveau global", "niveau atteint",
    ),
    "score": (
        "score", "total score", "note", "overall score", "points", "note globale", "note totale",
        "total",
    ),
    "score_max": (
        "score_max", "max score", "note maximale", "maximum score", "out of", "note max", "barème",
        "sur",
    ),
    "session_date": (
        "session_date", "exam date", "date de session", "test date", "date of exam",
        "date de la session", "date d'examen", "date de l'examen", "date de l'épreuve",
        "date de passation",
    ),
    "centre": (
        "centre", "center", "centre d'examen", "exam centre", "exam center", "test centre",
        "test center", "centre d'examens", "centre de passation", "lieu", "site",
    ),
    "message_language": (
        "message_language", "candidate language", "langue du candidat", "preferred language",
        "communication language", "langue de communication", "langue des messages",
        "langue de correspondance",
    ),
}  # fmt: skip
# Skills, by the name the certificate knows them by (the render helper translates these).
SKILL_NAMES: dict[str, tuple[str, ...]] = {
    "listening": ("listening", "compréhension orale", "compréhension de l'oral", "CO"),
    "reading": ("reading", "compréhension écrite", "compréhension des écrits", "CE"),
    "writing": ("writing", "expression écrite", "production écrite", "EE", "PE"),
    "speaking": ("speaking", "expression orale", "production orale", "EO", "PO"),
    "interaction": ("interaction", "spoken interaction", "interaction orale", "IO"),
}  # fmt: skip
SKILL_PREFIX = "skill_"
REQUIRED = (
    "result_id", "date_of_birth", "candidate_number", "exam", "language", "session_date",
    "centre",
)  # fmt: skip
_SKILL_HEADER = re.compile(r"^skill[\s_-]+(.+)$", re.IGNORECASE)


def header_key(text: str) -> str:
    """A header as compared: no case, accents, spaces, hyphens, underscores or punctuation."""
    bare = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in bare if not unicodedata.combining(ch))
    return "".join(ch for ch in bare.casefold() if ch.isalnum())


def _known_names() -> dict[str, tuple[str, str]]:
    """header_key → (our field, the name as exam centres write it)."""
    known: dict[str, tuple[str, str]] = {}
    for name, aliases in FIELD_NAMES.items():
        known.update({header_key(a): (name, a) for a in aliases})
    for skill, aliases in SKILL_NAMES.items():
        known.update({header_key(a): (SKILL_PREFIX + skill, a) for a in aliases})
    return known


KNOWN_NAMES = _known_names()


def is_field(name: str) -> bool:
    """Whether ``name`` is one of our fields (a skill: ``skill_`` and its name)."""
    return name in FIELD_NAMES or (name.startswith(SKILL_PREFIX) and len(name) > len(SKILL_PREFIX))


class ColumnsNotUnderstood(ResultsFileError):
    """Some fields have no column: says which columns were found, and the nearest names."""

    def __init__(
        self, source: str, problems: Sequence[str], found: Sequence[str], unknown: Sequence[str]
    ) -> None:
        self.problems, self.found, self.unknown = tuple(problems), tuple(found), tuple(unknown)
        self.nearest = {h: nearest_names(h) for h in unknown}
        hints = "; ".join(
            f"{h!r} (nearest known names: {', '.join(repr(n) for n in self.nearest[h])})"
            if self.nearest[h]
            else f"{h!r}"
            for h in unknown
        )
        super().__init__(
            f"{source}: {' '.join(problems)}\n"
            f"  Columns found: {', '.join(repr(h) for h in found)}.\n"
            f"  Not understood: {hints or 'none'}.\n"
            "  Name the others in a mapping file: sceau issue FILE --columns MAP.toml, with a "
            '[columns] table of lines  our_field = "Your header"  (e.g. level = "Niveau final").'
        )


class ColumnMappingError(ResultsFileError):
    """The mapping file cannot be used: not TOML, no [columns] table, or unknown fields."""


def nearest_names(header: str, *, count: int = 3) -> list[str]:
    """The known column names closest to ``header`` (difflib), as exam centres write them."""
    keys = difflib.get_close_matches(header_key(header), list(KNOWN_NAMES), n=count, cutoff=0.6)
    return [KNOWN_NAMES[k][1] for k in keys]


@dataclass(frozen=True)
class ColumnMapping:
    """Our field → their header, from a ``[columns]`` table."""

    fields: Mapping[str, str]
    source: str = "mapping"

    def __post_init__(self) -> None:
        for name, header in self.fields.items():
            if not is_field(name):
                near = difflib.get_close_matches(name, [*FIELD_NAMES, "skill_listening"], n=3)
                hint = f" (nearest: {', '.join(near)})" if near else ""
                raise ColumnMappingError(
                    f"{self.source}: {name!r} is not one of our fields{hint}; fields are "
                    f"{', '.join(FIELD_NAMES)}, and skill_<name> for a skill"
                )
            if not isinstance(header, str) or not header.strip():
                raise ColumnMappingError(f"{self.source}: {name} must name a column (a string)")
        taken: dict[str, str] = {}
        for name, header in self.fields.items():
            if (other := taken.setdefault(header_key(header), name)) != name:
                raise ColumnMappingError(
                    f"{self.source}: column {header!r} is mapped to both {other} and {name}"
                )


def parse_column_mapping(text: str, *, source: str) -> ColumnMapping:
    """A mapping from TOML text: ``[columns]`` then lines ``our_field = "Their header"``."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ColumnMappingError(f"{source} is not valid TOML: {exc}") from None
    table = document.get("columns")
    if not isinstance(table, dict) or not table:
        raise ColumnMappingError(f'{source}: expected a [columns] table, e.g. level = "Niveau"')
    return ColumnMapping(fields=dict(table), source=source)


def load_column_mapping(path: Path) -> ColumnMapping:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ColumnMappingError(f"cannot read the mapping file {path}: {exc}") from None
    return parse_column_mapping(text, source=path.name)


class Match(StrEnum):
    """How a column was understood, or why it was not."""

    KNOWN_NAME = "known name"
    MAPPING_FILE = "mapping file"
    SKILL_COLUMN = "skill column"
    NOT_UNDERSTOOD = "not understood"
    NO_HEADER = "no header"
    MAPPED_ELSEWHERE = "the mapping file chose another column"


@dataclass(frozen=True)
class Column:
    """One column of the file and how it was understood (field None: ignored)."""

    index: int
    header: str
    field: str | None
    how: Match


@dataclass(frozen=True)
class ColumnPlan:
    """How every column of a file was understood; turns a row's cells into our fields."""

    columns: tuple[Column, ...]
    notes: tuple[str, ...] = field(default=())

    @property
    def fields(self) -> dict[str, Column]:
        return {c.field: c for c in self.columns if c.field}

    @property
    def ignored(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.field is None)

    def record(self, cells: Sequence[CellValue]) -> dict[str, Any]:
        """Our field → the cell's value, for one row."""
        return {
            c.field: cells[c.index] if c.index < len(cells) else None
            for c in self.columns
            if c.field
        }


def understand_columns(
    header: Sequence[str], *, source: str, mapping: ColumnMapping | None = None
) -> ColumnPlan:
    """Match every header to a field (mapping first, then known names); fail with hints."""
    wanted = {header_key(h): f for f, h in (mapping.fields if mapping else {}).items()}
    columns: list[Column] = []
    seen: dict[str, Column] = {}
    for index, text in enumerate(header):
        name, how = _field_of(text, wanted)
        if name in wanted.values() and how is not Match.MAPPING_FILE:
            name, how = None, Match.MAPPED_ELSEWHERE
        if name and name in seen:
            raise ColumnsNotUnderstood(
                source,
                [f"Columns {seen[name].header!r} and {text!r} both mean {name}; map one of them."],
                header,
                [],
            )
        column = Column(index, text, name, how)
        columns.append(column)
        if name:
            seen[name] = column
    _check_mapping_used(mapping, header, source)
    plan = ColumnPlan(tuple(columns), _name_notes(seen))
    _check_complete(plan, header, source)
    return plan


def _field_of(text: str, wanted: Mapping[str, str]) -> tuple[str | None, Match]:
    key = header_key(text)
    if not key:
        return None, Match.NO_HEADER
    if key in wanted:
        return wanted[key], Match.MAPPING_FILE
    if key in KNOWN_NAMES:
        return KNOWN_NAMES[key][0], Match.KNOWN_NAME
    if match := _SKILL_HEADER.match(text.strip()):
        skill = KNOWN_NAMES.get(header_key(match.group(1)), ("", ""))[0]
        if skill.startswith(SKILL_PREFIX):
            return skill, Match.KNOWN_NAME
        return SKILL_PREFIX + match.group(1).strip().lower().replace(" ", "_"), Match.SKILL_COLUMN
    return None, Match.NOT_UNDERSTOOD


def _check_mapping_used(mapping: ColumnMapping | None, header: Sequence[str], source: str) -> None:
    if mapping is None:
        return
    present = {header_key(h) for h in header}
    absent = [f"{f} = {h!r}" for f, h in mapping.fields.items() if header_key(h) not in present]
    if absent:
        problem = f"The mapping file names columns this file lacks: {', '.join(absent)}."
        raise ColumnsNotUnderstood(source, [problem], header, [])


def _name_notes(seen: Mapping[str, Column]) -> tuple[str, ...]:
    if "candidate_name" not in seen and "last_name" in seen and "first_name" not in seen:
        return (
            f"{seen['last_name'].header!r} holds the full name (there is no first-name column)",
        )
    if "candidate_name" not in seen and "first_name" in seen and "last_name" in seen:
        return ("the name on the certificate is the first name, then the last name",)
    return ()


def _check_complete(plan: ColumnPlan, header: Sequence[str], source: str) -> None:
    have = plan.fields
    missing = [f for f in REQUIRED if f not in have]
    if not {"candidate_name", "last_name"} & have.keys():
        missing.insert(1, "candidate_name (or last_name and first_name)")
    if not {"level", "score"} & have.keys():
        missing.append("level (or score)")
    if not missing:
        return
    expected = "; ".join(
        f"{m} (e.g. {', '.join(repr(a) for a in FIELD_NAMES[m.split()[0]][1:3])})" for m in missing
    )
    unknown = [c.header for c in plan.ignored if c.header]
    raise ColumnsNotUnderstood(source, [f"Missing column(s) for {expected}."], header, unknown)
