"""The issuer's certificate design: logo, colours, wording, signature image, per exam.

A design is a TOML file (docs/design.md) laid over the built-in one
(``issuer/designs/default/design.toml``), so an issuer writes only what it changes.
:func:`load_design` refuses a design that cannot render (unknown field, bad colour,
missing or unreadable image, a placeholder that does not exist); :func:`check_design`
then renders one sample page per exam look, before anything is signed.
"""

from __future__ import annotations

import functools
import string
import tomllib
import unicodedata
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from PIL import Image, UnidentifiedImageError
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from issuer.content import IssuerBranding
from issuer.errors import RenderError

BUILT_IN = Path(__file__).parent / "designs" / "default" / "design.toml"
SAMPLE = Path(__file__).parent / "designs" / "sample" / "design.toml"
# What a wording may name in braces; anything else is a typo that would print as is.
PLACEHOLDERS = frozenset({"issuer", "exam", "centre", "language"})
IMAGE_FORMATS = frozenset({"PNG", "JPEG"})
HEX_COLOUR = r"^#[0-9a-fA-F]{6}$"


class DesignError(RenderError):
    """The design cannot be used; the message says which file, field and why."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Colours(_Frozen):
    """Colours of the page, as #rrggbb."""

    ink: str = Field(pattern=HEX_COLOUR)  # text, frame
    muted: str = Field(pattern=HEX_COLOUR)  # the second language's lines, labels
    rule: str = Field(pattern=HEX_COLOUR)  # thin rules and panel borders
    panel: str = Field(pattern=HEX_COLOUR)  # the level and score panels
    accent: str = Field(pattern=HEX_COLOUR)  # the title and the level


class Wording(_Frozen):
    """Every word of the page in one language."""

    title: str
    certifies: str
    born_on: str
    candidate_no: str
    sat: str
    language: str
    session: str
    centre: str
    level: str
    score: str
    skill: str
    skill_level: str
    issued_on: str
    certificate_id: str
    signatory: str
    signed_notice: str

    @field_validator("*")
    @classmethod
    def _known_placeholders(cls, value: str) -> str:
        for _, name, _, _ in string.Formatter().parse(value):
            if name is not None and name not in PLACEHOLDERS:
                known = ", ".join("{" + p + "}" for p in sorted(PLACEHOLDERS))
                raise ValueError(f"unknown placeholder {{{name}}}; known: {known}")
        return value


class SkillName(_Frozen):
    """A skill's name per language, and the other names results files give it."""

    names: dict[str, str]
    aliases: tuple[str, ...] = ()


class Look(_Frozen):
    """What one exam's certificates look like: every field resolved."""

    languages: tuple[str, ...] = Field(min_length=1, max_length=2)
    logo: Path | None = None
    signature: Path | None = None
    colours: Colours
    wording: dict[str, Wording]

    def words(self) -> list[Wording]:
        """The wording of each certificate language, first language first."""
        return [self.wording[language] for language in self.languages]


class Design(_Frozen):
    """A whole design: the default look, the looks of named exams, and the skills' names."""

    source: Path
    default: Look
    exams: dict[str, Look] = {}
    skills: dict[str, SkillName] = {}

    def look_for(self, exam: str) -> Look:
        """The look of ``exam``'s certificates (matched ignoring case and accents)."""
        key = _normalised(exam)
        for name, look in self.exams.items():
            if _normalised(name) == key:
                return look
        return self.default

    def skill_names(self, skill: str, languages: tuple[str, ...]) -> list[str]:
        """``skill`` in each language, or as given when the design does not know it."""
        # A results file may already give both names ("Production orale / Speaking").
        wanted = {_normalised(skill), *(_normalised(part) for part in skill.split(" / "))}
        for key, entry in self.skills.items():
            known = {_normalised(key), *map(_normalised, entry.names.values())}
            if wanted & (known | {_normalised(alias) for alias in entry.aliases}):
                return [entry.names.get(language, skill) for language in languages]
        return [skill]


def load_design(path: Path | None) -> Design:
    """Read the design at ``path`` laid over the built-in one (None: the built-in one)."""
    base = _read_toml(BUILT_IN)
    own = _read_toml(path) if path is not None else {}
    source = path or BUILT_IN
    return _build(_merged(base, own), source, own_root=source.parent)


@functools.cache
def built_in_design() -> Design:
    """The design used when the issuer has none of its own."""
    return load_design(None)


def check_design(design: Design, *, branding: IssuerBranding | None = None) -> None:
    """Render one sample page per look (default and each exam), with the issuer's ``branding``
    when given; raise DesignError naming the look that fails."""
    from issuer.render import render_sample  # the page depends on the design, not the reverse

    for exam in [None, *design.exams]:
        try:
            render_sample(design, exam=exam, branding=branding)
        except DesignError:
            raise
        except RenderError as error:
            where = f"the look of exam {exam!r}" if exam else "the default look"
            message = f"the design {design.source} cannot render {where}: {error}"
            raise DesignError(message) from error


def _build(merged: dict[str, Any], source: Path, *, own_root: Path) -> Design:
    unknown = set(merged) - {"look", "exams", "skills"}
    if unknown:
        raise DesignError(
            f"the design {source} has unknown section(s): {', '.join(sorted(unknown))}"
        )
    default_fields = merged.get("look", {})
    default = _look(default_fields, source, own_root)
    exams = {
        name: _look(_merged(default_fields, fields), source, own_root, exam=name)
        for name, fields in merged.get("exams", {}).items()
    }
    try:
        skills = {k: SkillName.model_validate(v) for k, v in merged.get("skills", {}).items()}
        return Design(source=source, default=default, exams=exams, skills=skills)
    except ValidationError as error:
        raise DesignError(f"the design {source} is not valid: skills.{_first(error)}") from error


def _look(fields: Mapping[str, Any], source: Path, root: Path, exam: str | None = None) -> Look:
    where = f"exams.{exam!r}" if exam else "look"
    values = dict(fields)
    for key in ("logo", "signature"):
        if values.get(key):
            values[key] = _image(root / str(values[key]), source, f"{where}.{key}")
        else:
            values[key] = None
    try:
        look = Look.model_validate(values)
    except ValidationError as error:
        raise DesignError(f"the design {source} is not valid: {where}.{_first(error)}") from error
    missing = [language for language in look.languages if language not in look.wording]
    if missing:
        raise DesignError(
            f"the design {source} ({where}) has no wording for language(s) {', '.join(missing)}"
        )
    return look


def _image(path: Path, source: Path, field: str) -> Path:
    """The image at ``path``, checked to be a PNG or JPEG that opens."""
    try:
        with Image.open(path) as image:
            image.verify()
            kind = image.format
    except FileNotFoundError as error:
        raise DesignError(f"the design {source} ({field}): no image at {path}") from error
    except (OSError, UnidentifiedImageError) as error:
        raise DesignError(f"the design {source} ({field}): {path} is not an image") from error
    if kind not in IMAGE_FORMATS:
        raise DesignError(f"the design {source} ({field}): {path} is {kind}, not PNG or JPEG")
    return path.resolve()


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except FileNotFoundError as error:
        raise DesignError(f"no design file at {path}") from error
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise DesignError(f"the design file {path} cannot be read: {error}") from error


def _merged(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """``over`` laid on ``base``, table by table."""
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merged(merged[key], value)
        else:
            merged[key] = value
    return merged


def _first(error: ValidationError) -> str:
    detail = error.errors()[0]
    location = ".".join(str(part) for part in detail["loc"])
    return f"{location}: {detail['msg']}"


@functools.lru_cache(maxsize=1024)  # looks and skills are matched on every certificate
def _normalised(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    kept = (c for c in decomposed if not unicodedata.combining(c) and c.isalnum())
    return "".join(kept)
