"""Text to positioned glyphs: font runs, bidi levels (UAX #9), HarfBuzz shaping, visual order.

A :class:`ShapedLine` keeps the logical text it was made from, so the page can say what it
draws (``/ActualText``): copy-paste and ``pdftotext`` return the text in logical order, also
where the glyphs run right to left or where a vowel sign is drawn before its consonant.
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import uharfbuzz as hb
from bidi import algorithm as uba

from issuer.fonts import CjkVariant, Face, Style, font_runs

FEATURES = {"kern": True, "liga": True}
# Explicit embeddings and boundary-neutral characters are set aside by the bidi algorithm
# (rule X9); they take the level of the character before them, and HarfBuzz still sees them.
_SET_ASIDE = frozenset(uba.X9_REMOVED)
_RIGHT_TO_LEFT = frozenset({"R", "AL", "AN"})


@dataclass(frozen=True)
class PlacedGlyph:
    """One glyph, in font units; ``text`` is what it stands for (on the first glyph of a cluster).

    In a right-to-left run ``text`` is reversed: text extraction reads such runs glyph by
    glyph in visual order and reverses them (as poppler, pdf.js and Acrobat do).
    """

    gid: int
    advance: int
    x_offset: int
    y_offset: int
    text: str


@dataclass(frozen=True)
class GlyphRun:
    """Glyphs of one face, in visual order (left to right)."""

    face: Face
    units_per_em: int
    glyphs: tuple[PlacedGlyph, ...]
    text: str  # the run's characters, in logical order
    right_to_left: bool

    @property
    def advance(self) -> int:
        return sum(glyph.advance for glyph in self.glyphs)


@dataclass(frozen=True)
class ShapedLine:
    """A line of text ready to place: its runs in visual order and its logical text."""

    text: str
    runs: tuple[GlyphRun, ...]
    em_width: float  # the width at size 1
    # Where the page drew this line before (issuer/page_text.py): its operators, made once.
    placements: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)

    def width(self, size: float) -> float:
        """Width in points at ``size``."""
        return self.em_width * size


@functools.lru_cache(maxsize=4096)
def shape_line(text: str, style: Style, variant: CjkVariant) -> ShapedLine:
    """Shape one line of ``text`` (logical order) with ``style``'s fonts.

    Labels repeat on every certificate, so lines are kept: each is shaped once per process.
    """
    items = _bidi_items(text, style, variant)
    runs = tuple(_shape(segment, face, level) for segment, face, level in _visual_order(items))
    kept = tuple(run for run in runs if run.glyphs)
    em_width = sum(run.advance / run.units_per_em for run in kept)
    return ShapedLine(text=text, runs=kept, em_width=em_width)


def _bidi_items(text: str, style: Style, variant: CjkVariant) -> list[tuple[str, Face, int]]:
    """Split ``text`` into (segment, face, bidi level) items, in logical order."""
    levels = _levels(text)
    runs = font_runs(text, style, variant)
    if len(runs) == 1 and len(set(levels)) == 1:
        return [(runs[0][0], runs[0][1], levels[0])]  # one face, one direction: one item
    items: list[tuple[str, Face, int]] = []
    start = 0
    for run, face in runs:
        for offset, char in enumerate(run):
            level = levels[start + offset]
            if items and items[-1][1] == face and items[-1][2] == level:
                items[-1] = (items[-1][0] + char, face, level)
            else:
                items.append((char, face, level))
        start += len(run)
    return items


def _levels(text: str) -> list[int]:
    """The resolved embedding level of each character (rules P2 to I2 of UAX #9)."""
    if not any(unicodedata.bidirectional(char) in _RIGHT_TO_LEFT for char in set(text)):
        return [0] * len(text)  # the usual case (base level 0), without the algorithm's cost
    kept = [i for i, char in enumerate(text) if unicodedata.bidirectional(char) not in _SET_ASIDE]
    base = uba.get_base_level(text)
    storage = uba.get_empty_storage()
    storage["base_level"] = base
    storage["base_dir"] = ("L", "R")[base]
    uba.get_embedding_levels(text, storage, False, False)
    uba.explicit_embed_and_overrides(storage, False)
    uba.resolve_weak_types(storage, False)
    uba.resolve_neutral_types(storage, False)
    uba.resolve_implicit_levels(storage, False)
    resolved = dict(zip(kept, (char["level"] for char in storage["chars"]), strict=True))
    levels, previous = [], base
    for index in range(len(text)):
        previous = resolved.get(index, previous)
        levels.append(previous)
    return levels


def _visual_order(items: list[tuple[str, Face, int]]) -> list[tuple[str, Face, int]]:
    """Rule L2: from the highest level down to the lowest odd one, reverse each sequence."""
    ordered = list(items)
    if not ordered:
        return ordered
    highest = max(level for _, _, level in ordered)
    lowest_odd = min((level for _, _, level in ordered if level % 2), default=highest + 1)
    for level in range(highest, lowest_odd - 1, -1):
        index = 0
        while index < len(ordered):
            if ordered[index][2] < level:
                index += 1
                continue
            end = index
            while end < len(ordered) and ordered[end][2] >= level:
                end += 1
            ordered[index:end] = reversed(ordered[index:end])
            index = end
    return ordered


def _shape(segment: str, face: Face, level: int) -> GlyphRun:
    font = _hb_font(face)
    buffer = hb.Buffer()
    buffer.add_codepoints([ord(char) for char in segment])
    buffer.direction = "rtl" if level % 2 else "ltr"
    buffer.guess_segment_properties()
    buffer.cluster_level = hb.BufferClusterLevel.MONOTONE_GRAPHEMES
    hb.shape(font, buffer, FEATURES)
    infos, positions = buffer.glyph_infos, buffer.glyph_positions
    carriers = _cluster_carriers(infos, positions)
    clusters = sorted(carriers)
    ends = dict(zip(clusters, [*clusters[1:], len(segment)], strict=True))
    glyphs = []
    for index, (info, position) in enumerate(zip(infos, positions, strict=True)):
        text = ""
        if carriers[info.cluster] == index:
            text = segment[info.cluster : ends[info.cluster]]
            if level % 2:
                text = text[::-1]  # a right-to-left run reads glyph by glyph in visual order
        glyphs.append(
            PlacedGlyph(
                info.codepoint, position.x_advance, position.x_offset, position.y_offset, text
            )
        )
    return GlyphRun(
        face=face,
        units_per_em=font.face.upem,
        glyphs=tuple(glyphs),
        text=segment,
        right_to_left=bool(level % 2),
    )


def _cluster_carriers(
    infos: list[hb.GlyphInfo], positions: list[hb.GlyphPosition]
) -> dict[int, int]:
    """For each cluster, the glyph that carries its text: the widest (the base, not a mark)."""
    carriers: dict[int, int] = {}
    for index, (info, position) in enumerate(zip(infos, positions, strict=True)):
        best = carriers.get(info.cluster)
        if best is None or position.x_advance > positions[best].x_advance:
            carriers[info.cluster] = index
    return carriers


@functools.cache
def _hb_font(face: Face) -> hb.Font:
    blob = hb.Blob.from_file_path(str(face.path))
    return hb.Font(hb.Face(blob, face.index))
