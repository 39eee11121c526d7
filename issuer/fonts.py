"""The fonts a certificate embeds: one fallback chain of Noto faces per style, chosen per cluster.

Every text on the page goes through :func:`font_runs`, and :func:`undrawable_characters`
answers with the very same coverage, so a row whose text passes the check never prints a
missing glyph. Fonts come from Debian's ``fonts-noto-core`` and ``fonts-noto-cjk``.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from fontTools.ttLib import TTFont, TTLibError

from issuer.errors import RenderError

NOTO_DIRECTORIES = (
    Path("/usr/share/fonts/truetype/noto"),  # Debian/Ubuntu: fonts-noto-core
    Path("/usr/share/fonts/opentype/noto"),  # Debian/Ubuntu: fonts-noto-cjk
    Path("/usr/share/fonts/noto"),  # Arch, Fedora
    Path("/usr/share/fonts/google-noto"),
)
INSTALL_HINT = "install Noto (apt-get install fonts-noto-core fonts-noto-cjk)"


class CjkVariant(StrEnum):
    """Which regional glyph forms a Han character takes; the index of the face in the .ttc."""

    JAPANESE = "ja"
    KOREAN = "ko"
    SIMPLIFIED_CHINESE = "zh-Hans"
    TRADITIONAL_CHINESE = "zh-Hant"

    @property
    def face_index(self) -> int:
        # The face order of Noto Sans/Serif CJK .ttc files: JP, KR, SC, TC, HK.
        return list(CjkVariant).index(self)


class Style(StrEnum):
    """The three faces the page uses."""

    TEXT = "text"  # labels, values, paragraphs: sans regular
    STRONG = "strong"  # emphasised values: sans bold
    DISPLAY = "display"  # title, candidate's name, exam: serif bold


@dataclass(frozen=True)
class Face:
    """One font program: a file, and the face inside it when the file is a collection."""

    path: Path
    index: int = 0

    @property
    def is_collection(self) -> bool:
        return self.path.suffix.lower() in {".ttc", ".otc"}

    def covers(self, char: str) -> bool:
        return ord(char) in _coverage(self)


# The scripts every certificate must print come first, in this order; the CJK slot takes the
# variant's face. Any other installed Noto Sans face follows as a fallback (Thai, Armenian...).
_CHAINS: dict[Style, tuple[str, ...]] = {
    Style.TEXT: (
        "NotoSans-Regular.ttf",
        "NotoSansArabic-Regular.ttf",
        "NotoSansHebrew-Regular.ttf",
        "NotoSansDevanagari-Regular.ttf",
        "NotoSansCJK-Regular.ttc",
    ),
    Style.STRONG: (
        "NotoSans-Bold.ttf",
        "NotoSansArabic-Bold.ttf",
        "NotoSansHebrew-Bold.ttf",
        "NotoSansDevanagari-Bold.ttf",
        "NotoSansCJK-Bold.ttc",
    ),
    Style.DISPLAY: (
        "NotoSerif-Bold.ttf",
        "NotoNaskhArabic-Bold.ttf",
        "NotoSerifHebrew-Bold.ttf",
        "NotoSerifDevanagari-Bold.ttf",
        "NotoSerifCJK-Bold.ttc",
    ),
}
# Needed for the check to mean anything: without these, most names would be refused.
_REQUIRED = frozenset(_CHAINS[Style.TEXT])
# Noto families that are not a script's text face, or whose cmap lies about what they draw.
_NOT_FALLBACKS = ("Display", "Mono", "UI", "Symbols", "Math", "Music", "Emoji")


def undrawable_characters(text: str) -> list[str]:
    """The characters of ``text`` that no embedded font can draw, each once, in order of appearance.

    Spaces and the invisible characters that need no glyph (joiners, bidi marks, variation
    selectors) are never reported; control characters always are.
    """
    return list(_undrawable(text))


@functools.lru_cache(maxsize=1024)  # the exam, centre and issuer's name repeat on every row
def _undrawable(text: str) -> tuple[str, ...]:
    missing: dict[str, None] = {}
    for char in text:
        if char in missing or _needs_no_glyph(char):
            continue
        if unicodedata.category(char) == "Cc" or _face_for(char) is None:
            missing[char] = None
    return tuple(missing)


def font_runs(text: str, style: Style, variant: CjkVariant) -> list[tuple[str, Face]]:
    """Split ``text`` (logical order) into runs, each drawn by one face of ``style``'s chain.

    A cluster (a character with its marks and joiners) stays in one face when one face covers
    it all; the current face is kept while it covers the next cluster, so digits and spaces
    inside an Arabic name stay in the Arabic face. Raises RenderError on a character that no
    face draws (callers check with :func:`undrawable_characters` first).
    """
    first = chain(style, variant)[0]
    if text and all(first.covers(char) or _needs_no_glyph(char) for char in set(text)):
        return [(text, first)]  # the usual case: every cluster would pick the first face
    return _runs_by_cluster(text, style, variant)


def _runs_by_cluster(text: str, style: Style, variant: CjkVariant) -> list[tuple[str, Face]]:
    runs: list[tuple[str, Face]] = []
    for cluster in _clusters(text):
        face = _pick_face(cluster, style, variant, runs[-1][1] if runs else None)
        if runs and runs[-1][1] == face:
            runs[-1] = (runs[-1][0] + cluster, face)
        else:
            runs.append((cluster, face))
    return runs


def cjk_variant_for(text: str, language: str | None = None) -> CjkVariant:
    """The Han glyph forms for ``text``: kana means Japanese, hangul Korean, else the language."""
    for char in text:
        name = unicodedata.name(char, "")
        if name.startswith(("HIRAGANA", "KATAKANA")):
            return CjkVariant.JAPANESE
        if name.startswith("HANGUL"):
            return CjkVariant.KOREAN
    by_language = {
        "ja": CjkVariant.JAPANESE,
        "ko": CjkVariant.KOREAN,
        "zh-hant": CjkVariant.TRADITIONAL_CHINESE,
        "zh-tw": CjkVariant.TRADITIONAL_CHINESE,
        "zh-hk": CjkVariant.TRADITIONAL_CHINESE,
    }
    code = (language or "").lower()
    return by_language.get(code, by_language.get(code.split("-")[0], CjkVariant.SIMPLIFIED_CHINESE))


@functools.cache
def chain(style: Style, variant: CjkVariant) -> tuple[Face, ...]:
    """The faces of ``style`` in fallback order; the last ones are those of the text style."""
    faces = [_face(name, variant) for name in _CHAINS[style]]
    if style is not Style.TEXT:
        faces += chain(Style.TEXT, variant)
    else:
        faces += _fallback_faces()
    return tuple(dict.fromkeys(face for face in faces if face is not None))


def _pick_face(cluster: str, style: Style, variant: CjkVariant, current: Face | None) -> Face:
    needed = [char for char in cluster if not _needs_no_glyph(char)]
    if current is not None and all(current.covers(char) for char in needed):
        return current
    faces = chain(style, variant)
    for face in faces:
        if all(face.covers(char) for char in needed):
            return face
    # No one face has the whole cluster (a mark only another font has): the base decides.
    for face in faces:
        if needed and face.covers(needed[0]):
            return face
    if not needed:
        return current or faces[0]
    raise RenderError(f"no font can draw the character U+{ord(needed[0]):04X}")


def _clusters(text: str) -> Iterator[str]:
    """Yield base characters with the marks and joiners that follow them."""
    cluster = ""
    for char in text:
        attaches = unicodedata.category(char) in {"Mn", "Mc", "Me"} or char in _JOINERS
        if cluster and (attaches or cluster[-1] in _JOINERS):
            cluster += char
            continue
        if cluster:
            yield cluster
        cluster = char
    if cluster:
        yield cluster


_JOINERS = frozenset("\u200c\u200d\u034f")


def _needs_no_glyph(char: str) -> bool:
    category = unicodedata.category(char)
    if category == "Cc":
        return char in "\t\n\r"  # other control characters are never printable
    if category in {"Zs", "Zl", "Zp"}:
        return True
    code = ord(char)
    if 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF or 0x180B <= code <= 0x180F:
        return True  # variation selectors: they choose a glyph, they have none
    return category == "Cf" or char in _JOINERS


def _face_for(char: str) -> Face | None:
    """The first face of the text chain that draws ``char`` (every chain ends with it)."""
    for face in chain(Style.TEXT, CjkVariant.SIMPLIFIED_CHINESE):
        if face.covers(char):
            return face
    return None


@functools.cache
def _face(file_name: str, variant: CjkVariant) -> Face | None:
    path = _find_font(file_name)
    if path is None:
        if file_name in _REQUIRED:
            searched = ", ".join(str(d) for d in NOTO_DIRECTORIES)
            raise RenderError(f"font {file_name} not found in {searched}; {INSTALL_HINT}")
        return None
    return Face(path, variant.face_index if file_name.endswith(".ttc") else 0)


@functools.cache
def _fallback_faces() -> tuple[Face, ...]:
    primary = set(_CHAINS[Style.TEXT])
    faces = []
    for directory in NOTO_DIRECTORIES:
        if not directory.is_dir():
            continue
        for path in sorted(directory.glob("NotoSans*-Regular.ttf")):
            if path.name not in primary and not any(word in path.name for word in _NOT_FALLBACKS):
                faces.append(Face(path))
    return tuple(faces)


def _find_font(file_name: str) -> Path | None:
    for directory in NOTO_DIRECTORIES:
        if (directory / file_name).is_file():
            return directory / file_name
    return None


@functools.cache
def _coverage(face: Face) -> frozenset[int]:
    """The code points ``face`` maps to a glyph (its best cmap), read once per process."""
    try:
        font = TTFont(str(face.path), fontNumber=face.index, lazy=True)
        cmap = font.getBestCmap() or {}
    except (OSError, TTLibError) as error:
        raise RenderError(f"the font {face.path} cannot be read: {error}") from error
    return frozenset(code for code, glyph in cmap.items() if glyph != ".notdef")
