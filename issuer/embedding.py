"""Embedded font subsets: each face a certificate uses becomes a Type 0 / CIDFontType2 font.

fontTools' subsetter takes 60 ms for a Latin face and 400 ms for a CJK one, more than a
signature: here a subset is assembled from the face's raw tables (glyph records copied
as they are, composite glyphs renumbered), in well under a millisecond. CJK faces in Debian
have CFF outlines; their glyphs are converted to TrueType outlines once per process, so
every embedded program is TrueType, with a cmap for the characters drawn one glyph each
and a ToUnicode map for the rest.
"""

from __future__ import annotations

import functools
import hashlib
import struct
from dataclasses import dataclass, field

from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTFont

from issuer.errors import RenderError
from issuer.fonts import Face

_ARG_WORDS, _SCALE, _MORE, _XY_SCALE, _TWO_BY_TWO = 0x0001, 0x0008, 0x0020, 0x0040, 0x0080
_HINTING_TABLES = (b"cvt ", b"fpgm", b"prep")


@dataclass(frozen=True)
class FaceMetrics:
    """What the PDF font descriptor says about a face, in 1000ths of an em."""

    units_per_em: int
    ascent: int
    descent: int
    bbox: tuple[int, int, int, int]
    postscript_name: str


class FaceProgram:
    """A face's raw tables, read once per process, from which subsets are assembled."""

    def __init__(self, face: Face) -> None:
        self.face = face
        try:
            data = face.path.read_bytes()
        except OSError as error:
            raise RenderError(f"the font {face.path} cannot be read: {error}") from error
        self._tables = _table_directory(data, face.index)
        self._data = data
        head, hhea = self.table(b"head"), self.table(b"hhea")
        self.units_per_em = struct.unpack_from(">H", head, 18)[0]
        self._long_loca = struct.unpack_from(">h", head, 50)[0] == 1
        self._metric_count = struct.unpack_from(">H", hhea, 34)[0]
        self.is_cff = b"CFF " in self._tables
        self._outlines: dict[int, bytes] = {}
        self.metrics = _metrics(face, head, hhea, self.units_per_em)

    def table(self, tag: bytes) -> bytes:
        if tag not in self._tables:
            raise RenderError(f"the font {self.face.path} has no {tag.decode()} table")
        offset, length = self._tables[tag]
        return self._data[offset : offset + length]

    def has(self, tag: bytes) -> bool:
        return tag in self._tables

    def horizontal_metric(self, gid: int) -> tuple[int, int]:
        """(advance width, left side bearing) of a glyph, in font units."""
        return self._horizontal_metrics[gid]

    @functools.cached_property
    def _horizontal_metrics(self) -> list[tuple[int, int]]:
        hmtx, count = self.table(b"hmtx"), self._metric_count
        glyphs = struct.unpack_from(">H", self.table(b"maxp"), 4)[0]
        pairs = struct.unpack_from(f">{2 * count}h", hmtx)
        metrics = [(pairs[2 * i] & 0xFFFF, pairs[2 * i + 1]) for i in range(count)]
        bearings = struct.unpack_from(f">{glyphs - count}h", hmtx, 4 * count)
        last = metrics[-1][0]
        return metrics + [(last, lsb) for lsb in bearings]

    def glyph_record(self, gid: int) -> bytes:
        """The glyph's TrueType record (for CFF faces, converted once and kept)."""
        if self.is_cff:
            if gid not in self._outlines:
                self._outlines[gid] = self._converted(gid)
            return self._outlines[gid]
        loca = self.table(b"loca")
        if self._long_loca:
            start, end = struct.unpack_from(">II", loca, gid * 4)
        else:
            start, end = (2 * v for v in struct.unpack_from(">HH", loca, gid * 2))
        offset = self._tables[b"glyf"][0]
        return self._data[offset + start : offset + end]

    def _converted(self, gid: int) -> bytes:
        font = _cff_font(self.face)
        name = font.getGlyphOrder()[gid]
        pen = TTGlyphPen(None)
        font.getGlyphSet()[name].draw(Cu2QuPen(pen, max_err=1.0, reverse_direction=True))
        glyph = pen.glyph()
        if glyph.numberOfContours == 0:
            return b""
        glyph.recalcBounds(None)
        record: bytes = glyph.compile(None)
        return record


@functools.cache
def face_program(face: Face) -> FaceProgram:
    return FaceProgram(face)


@functools.cache
def _cff_font(face: Face) -> TTFont:
    return TTFont(str(face.path), fontNumber=face.index, lazy=True)


@dataclass
class FontUse:
    """The glyphs one certificate draws from one face; CIDs are numbered in order of use.

    A glyph that stands for different texts (a base letter alone, or carrying its marks'
    text) gets one CID per text, its outline copied, so the ToUnicode map is exact.
    """

    program: FaceProgram
    resource: str
    cids: dict[tuple[int, str], int] = field(default_factory=lambda: {(0, ""): 0})

    def cid(self, gid: int, text: str) -> int:
        key = (gid, text)
        if key not in self.cids:
            self.cids[key] = len(self.cids)
        return self.cids[key]

    @property
    def texts(self) -> dict[int, str]:
        """CID -> the text it stands for, for the CIDs that stand for some."""
        return {cid: text for (_, text), cid in self.cids.items() if text}

    def font_program(self) -> bytes:
        """A TrueType font holding the used glyphs at their CIDs (components appended)."""
        records = self._records()
        glyf, loca = bytearray(), [0]
        for record in records:
            glyf += record + b"\0" * (-len(record) % 4)
            loca.append(len(glyf))
        count = len(records)
        hmtx = b"".join(
            struct.pack(">Hh", *self.program.horizontal_metric(gid)) for gid in self._gids()
        )
        tables = {
            b"head": _patched(self.program.table(b"head"), ((8, ">I", 0), (50, ">h", 1))),
            b"hhea": _patched(self.program.table(b"hhea"), ((34, ">H", count),)),
            b"maxp": self._maxp(count, records),
            b"hmtx": hmtx,
            b"loca": struct.pack(f">{len(loca)}I", *loca),
            b"glyf": bytes(glyf),
            b"cmap": self._cmap(),
        }
        for tag in _HINTING_TABLES:
            if not self.program.is_cff and self.program.has(tag):
                tables[tag] = self.program.table(tag)
        return _sfnt(tables)

    def widths(self) -> list[int]:
        """Advance width of each CID, in 1000ths of an em."""
        scale = 1000 / self.program.units_per_em
        return [round(self.program.horizontal_metric(g)[0] * scale) for g in self._gids()]

    def subset_tag(self) -> str:
        """Six capitals from the glyph set, as PDF subset names want (same glyphs, same tag)."""
        digest = hashlib.sha256(repr(list(self.cids)).encode()).digest()
        return "".join(chr(65 + byte % 26) for byte in digest[:6])

    def _gids(self) -> list[int]:
        return [gid for gid, _ in self.cids]

    def _records(self) -> list[bytes]:
        records: list[bytes] = []
        gids = self._gids()
        index = 0
        while index < len(self.cids):  # components found on the way get CIDs after the text's
            if index == len(gids):  # a component was given a CID: take the new ones too
                gids = self._gids()
            records.append(self._renumbered(self.program.glyph_record(gids[index])))
            index += 1
        return records

    def _renumbered(self, record: bytes) -> bytes:
        if len(record) < 10 or struct.unpack_from(">h", record, 0)[0] >= 0:
            return record
        out = bytearray(record)
        offset, flags = 10, _MORE
        while flags & _MORE:
            flags, component = struct.unpack_from(">HH", out, offset)
            struct.pack_into(">H", out, offset + 2, self.cid(component, ""))
            offset += 4 + (4 if flags & _ARG_WORDS else 2)
            offset += (
                2 if flags & _SCALE else 4 if flags & _XY_SCALE else 8 if flags & _TWO_BY_TWO else 0
            )
        return bytes(out)

    def _maxp(self, count: int, records: list[bytes]) -> bytes:
        if not self.program.is_cff:
            return _patched(self.program.table(b"maxp"), ((4, ">H", count),))
        points = contours = 0
        for record in records:
            if len(record) >= 10:
                n = struct.unpack_from(">h", record, 0)[0]
                contours = max(contours, n)
                last = struct.unpack_from(">H", record, 10 + 2 * (n - 1))[0] if n > 0 else -1
                points = max(points, last + 1)
        # maxp 1.0 for outlines without instructions: one zone, nothing else to reserve.
        return struct.pack(">I14H", 0x00010000, count, points, contours, 0, 0, 1, *[0] * 8)

    def _cmap(self) -> bytes:
        """Format 12 cmap of the characters drawn as one glyph each."""
        pairs = sorted(
            (ord(text), cid) for cid, text in self.texts.items() if len(text) == 1 and cid
        )
        unique = list(dict(pairs).items())
        groups = b"".join(struct.pack(">III", code, code, cid) for code, cid in unique)
        subtable = struct.pack(">HHIII", 12, 0, 16 + len(groups), 0, len(unique)) + groups
        return struct.pack(">HHHHI", 0, 1, 3, 10, 12) + subtable


def _metrics(face: Face, head: bytes, hhea: bytes, units_per_em: int) -> FaceMetrics:
    scale = 1000 / units_per_em
    box = struct.unpack_from(">hhhh", head, 36)
    ascent, descent = struct.unpack_from(">hh", hhea, 4)
    name = "".join(c for c in face.path.stem if c.isalnum() or c == "-")
    return FaceMetrics(
        units_per_em=units_per_em,
        ascent=round(ascent * scale),
        descent=round(descent * scale),
        bbox=(
            round(box[0] * scale),
            round(box[1] * scale),
            round(box[2] * scale),
            round(box[3] * scale),
        ),
        postscript_name=f"{name}-{face.index}" if face.is_collection else name,
    )


def _table_directory(data: bytes, index: int) -> dict[bytes, tuple[int, int]]:
    start = 0
    if data[:4] == b"ttcf":
        count = struct.unpack_from(">I", data, 8)[0]
        if index >= count:
            raise RenderError(f"the font collection has no face {index}")
        start = struct.unpack_from(">I", data, 12 + 4 * index)[0]
    tables = {}
    count = struct.unpack_from(">H", data, start + 4)[0]
    for entry in range(count):
        tag, _, offset, length = struct.unpack_from(">4sIII", data, start + 12 + 16 * entry)
        tables[tag] = (offset, length)
    return tables


def _patched(table: bytes, fields: tuple[tuple[int, str, int], ...]) -> bytes:
    out = bytearray(table)
    for offset, layout, value in fields:
        struct.pack_into(layout, out, offset, value)
    return bytes(out)


def _checksum(data: bytes) -> int:
    padded = data + b"\0" * (-len(data) % 4)
    return int(sum(struct.unpack(f">{len(padded) // 4}I", padded))) & 0xFFFFFFFF


def _sfnt(tables: dict[bytes, bytes]) -> bytes:
    """Assemble an sfnt (TrueType) file: directory, then each table 4-byte aligned."""
    tags = sorted(tables)
    count = len(tags)
    power = 1 << (count.bit_length() - 1)
    header = struct.pack(
        ">IHHHH", 0x00010000, count, power * 16, power.bit_length() - 1, count * 16 - power * 16
    )
    offset = 12 + 16 * count
    directory, body = bytearray(), bytearray()
    for tag in tags:
        table = tables[tag]
        directory += struct.pack(">4sIII", tag, _checksum(table), offset + len(body), len(table))
        body += table + b"\0" * (-len(table) % 4)
    return header + bytes(directory) + bytes(body)
