"""Shaped lines onto a reportlab page: glyphs by CID, each line marked with its ActualText.

reportlab draws the page's rules, panels, images and QR code; text goes through here so
that every script is shaped by HarfBuzz and embedded as a subset of the face that drew it.
"""

from __future__ import annotations

import zlib
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from reportlab.pdfbase.pdfdoc import (
    PDFArray,
    PDFDictionary,
    PDFName,
    PDFObject,
    PDFStream,
    PDFString,
)
from reportlab.pdfgen.canvas import Canvas

from issuer.embedding import FaceProgram, FontUse, face_program
from issuer.fonts import Face
from issuer.pdf_file import FontObjects, Stream
from issuer.shaping import GlyphRun, ShapedLine

TO_UNICODE_HEADER = (
    "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
    "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
    "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
    "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
)
TO_UNICODE_FOOTER = "endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n"


class DocumentFonts:
    """The font subsets of one PDF: glyphs are collected while drawing, embedded at the end."""

    def __init__(self) -> None:
        self._uses: dict[Face, FontUse] = {}

    @staticmethod
    def claim(canvas: Canvas) -> None:
        """Take the page's text over: drop the Helvetica that reportlab names in its preamble.

        No text is drawn with it, but a font named on a page and not embedded makes a PDF
        that archival (PDF/A) checkers refuse.
        """
        canvas._preamble = "1 0 0 1 0 0 cm"
        document = canvas._doc
        internal = document.fontMapping.pop(canvas._fontname, "/F1").lstrip("/")
        document.idToObject["BasicFonts"].dict.pop(internal, None)

    def use(self, face: Face) -> FontUse:
        if face not in self._uses:
            name = f"SF{len(self._uses) + 1}"
            self._uses[face] = FontUse(program=face_program(face), resource=name)
        return self._uses[face]

    def draw(self, canvas: Canvas, line: ShapedLine, x: float, y: float, size: float) -> None:
        """Draw ``line`` with its left end at ``x`` and its baseline at ``y``."""
        ops = ["BT"]
        for face, operators, glyphs in _placement(line, x, y, size):
            use = self.use(face)
            known = use.cids
            cids = [known.get(glyph) for glyph in glyphs]
            if None in cids:  # glyphs new to this document get the next CIDs, in order of use
                for glyph in glyphs:
                    known.setdefault(glyph, len(known))
                cids = [known[glyph] for glyph in glyphs]
            ops.append(operators % (use.resource, *cids))
        ops.append("\nET")
        canvas._code.append("".join(ops))

    def objects(self) -> list[tuple[str, FontObjects]]:
        """Every subset used so far, by resource name, ready to write into a file."""
        return [(use.resource, _subset(use).objects) for use in self._uses.values()]

    def embed(self, canvas: Canvas) -> None:
        """Write every subset used so far into the canvas's document, named on its pages."""
        document = canvas._doc
        fonts = document.idToObject["BasicFonts"].dict
        for use in self._uses.values():
            fonts[use.resource] = document.Reference(_type0_font(document, use))


# A placed line's operators with holes for what depends on the document: the font's
# resource name (None) and each glyph's CID ((gid, text), numbered in order of use).
_Token = str | tuple[int, str] | None
# Per run: its face, its operators as a %-format (the resource name, then one CID per
# glyph) and the glyphs whose CIDs fill it.
_Placement = tuple[tuple[Face, str, tuple[tuple[int, str], ...]], ...]
_PLACEMENTS_PER_LINE = 32


def _placement(line: ShapedLine, x: float, y: float, size: float) -> _Placement:
    """The operators drawing ``line`` there, made once: labels repeat on every certificate."""
    key = (x, y, size)
    placement = line.placements.get(key)
    if placement is None:
        if len(line.placements) >= _PLACEMENTS_PER_LINE:
            line.placements.clear()
        placement = _placed(line, x, y, size)
        line.placements[key] = placement
    return placement


def _placed(line: ShapedLine, x: float, y: float, size: float) -> _Placement:
    runs = []
    pen = x
    for run in line.runs:
        tokens: list[_Token] = []
        if not run.right_to_left:  # right-to-left runs read through ToUnicode, see shaping
            tokens.append(f"\n/Span <</ActualText <{_utf16_hex(run.text)}>>> BDC")
        tokens += ["\n/", None, f" {_n(size)} Tf"]
        pen = _place_run(tokens, face_program(run.face), run, pen, y, size)
        if not run.right_to_left:
            tokens.append("\nEMC")
        runs.append(_compiled(run.face, tokens))
    return tuple(runs)


def _compiled(face: Face, tokens: list[_Token]) -> tuple[Face, str, tuple[tuple[int, str], ...]]:
    parts, glyphs = [], []
    for token in tokens:
        if isinstance(token, str):
            parts.append(token.replace("%", "%%"))
        elif token is None:
            parts.append("%s")
        else:
            parts.append("%04X")
            glyphs.append(token)
    return face, "".join(parts), tuple(glyphs)


def _place_run(
    tokens: list[_Token], program: FaceProgram, run: GlyphRun, pen: float, y: float, size: float
) -> float:
    """Append the tokens drawing ``run`` from ``pen``; return the pen after it."""
    scale = size / run.units_per_em
    pending = False  # inside a TJ array
    for glyph in run.glyphs:
        key = (glyph.gid, glyph.text)
        if glyph.x_offset or glyph.y_offset:
            pending = _flush(tokens, pending)
            gx, gy = pen + glyph.x_offset * scale, y + glyph.y_offset * scale
            tokens += [f"\n1 0 0 1 {_n(gx)} {_n(gy)} Tm <", key, "> Tj"]
        else:
            if not pending:
                tokens.append(f"\n1 0 0 1 {_n(pen)} {_n(y)} Tm\n[")
                pending = True
            width = program.horizontal_metric(glyph.gid)[0]
            adjust = (width - glyph.advance) * 1000 / run.units_per_em
            tokens += ["<", key, ">" + (f" {_n(adjust)} " if abs(adjust) > 0.05 else "")]
        pen += glyph.advance * scale
    _flush(tokens, pending)
    return pen


def _flush(tokens: list[_Token], pending: bool) -> bool:
    """Close an open TJ array (its last adjustment without its trailing space)."""
    if pending:
        last = tokens[-1]
        assert isinstance(last, str)
        tokens[-1] = last.rstrip() + "] TJ"
    return False


@dataclass(frozen=True)
class _Subset:
    """What a face's subset puts in a PDF, compressed: the same glyphs give the same bytes."""

    program: FaceProgram  # kept alive, so the id in its key is never another face's
    base_name: str
    font_file: bytes  # FlateDecode
    length1: int  # the font program's length before compression
    widths: str
    to_unicode: bytes  # FlateDecode
    objects: FontObjects  # the same, as written by issuer/pdf_file.py


# Subsets made lately, by face and glyphs in order of use. The labels, the digits and the
# issuer's name come back on every certificate with the same glyphs: their subsets (font
# program, widths, ToUnicode, all compressed) are made once per process, not per page.
_SUBSETS: OrderedDict[tuple[int, tuple[tuple[int, str], ...]], _Subset] = OrderedDict()
_SUBSETS_KEPT = 64


def _subset(use: FontUse) -> _Subset:
    key = (id(use.program), tuple(use.cids))
    made = _SUBSETS.get(key)
    if made is not None:
        _SUBSETS.move_to_end(key)
        return made
    base_name = f"{use.subset_tag()}+{use.program.metrics.postscript_name}"
    program = use.font_program()  # may give the components of composite glyphs their CIDs
    font_file = zlib.compress(program)
    widths = "[0 [" + " ".join(map(str, use.widths())) + "]]"
    to_unicode = zlib.compress(_to_unicode(use).encode("ascii"))
    made = _Subset(
        program=use.program,
        base_name=base_name,
        font_file=font_file,
        length1=len(program),
        widths=widths,
        to_unicode=to_unicode,
        objects=_font_objects(use.program, base_name, font_file, len(program), widths, to_unicode),
    )
    _SUBSETS[key] = made
    if len(_SUBSETS) > _SUBSETS_KEPT:
        _SUBSETS.popitem(last=False)
    return made


def _font_objects(
    program: FaceProgram,
    base_name: str,
    font_file: bytes,
    length1: int,
    widths: str,
    to_unicode: bytes,
) -> FontObjects:
    metrics = program.metrics
    bbox = " ".join(map(str, metrics.bbox))
    return FontObjects(
        base_name=base_name,
        # Flags 4, symbolic: glyphs are chosen by CID, not by a standard encoding.
        descriptor=(
            f"<< /Type /FontDescriptor /FontName /{base_name} /Flags 4 /FontBBox [{bbox}] "
            f"/ItalicAngle 0 /Ascent {metrics.ascent} /Descent {metrics.descent} "
            f"/CapHeight {metrics.ascent} /StemV 80 /FontFile2 {{font_file}} 0 R >>"
        ),
        cid_font=(
            f"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /{base_name} "
            "/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> "
            f"/FontDescriptor {{descriptor}} 0 R /W {widths} /CIDToGIDMap /Identity >>"
        ),
        font_file=Stream(f"/Filter /FlateDecode /Length1 {length1}", font_file),
        to_unicode=Stream("/Filter /FlateDecode", to_unicode),
    )


def _flate_stream(compressed: bytes, **entries: Any) -> PDFStream:
    """A stream whose content is already compressed (reportlab then leaves it as it is)."""
    dictionary = PDFDictionary({"Filter": PDFArray([PDFName("FlateDecode")]), **entries})
    return PDFStream(dictionary, compressed)


def _type0_font(document: Any, use: FontUse) -> PDFDictionary:
    metrics = use.program.metrics
    subset = _subset(use)
    base_name = subset.base_name
    font_file = _flate_stream(subset.font_file, Length1=subset.length1)
    descriptor = PDFDictionary(
        {
            "Type": PDFName("FontDescriptor"),
            "FontName": PDFName(base_name),
            "Flags": 4,  # symbolic: glyphs are chosen by CID, not by a standard encoding
            "FontBBox": PDFArray(list(metrics.bbox)),
            "ItalicAngle": 0,
            "Ascent": metrics.ascent,
            "Descent": metrics.descent,
            "CapHeight": metrics.ascent,
            "StemV": 80,
            "FontFile2": document.Reference(font_file),
        }
    )
    cid_font = PDFDictionary(
        {
            "Type": PDFName("Font"),
            "Subtype": PDFName("CIDFontType2"),
            "BaseFont": PDFName(base_name),
            "CIDSystemInfo": PDFDictionary(
                {"Registry": PDFString("Adobe"), "Ordering": PDFString("Identity"), "Supplement": 0}
            ),
            "FontDescriptor": document.Reference(descriptor),
            "W": _Raw(subset.widths),
            "CIDToGIDMap": PDFName("Identity"),
        }
    )
    to_unicode = _flate_stream(subset.to_unicode)
    return PDFDictionary(
        {
            "Type": PDFName("Font"),
            "Subtype": PDFName("Type0"),
            "BaseFont": PDFName(base_name),
            "Encoding": PDFName("Identity-H"),
            "DescendantFonts": PDFArray([document.Reference(cid_font)]),
            "ToUnicode": document.Reference(to_unicode),
        }
    )


class _Raw(PDFObject):  # type: ignore[misc]  # reportlab is untyped
    """A PDF value already written out (reportlab would format a long array number by number)."""

    def __init__(self, text: str) -> None:
        self.text = text.encode("ascii")

    def format(self, document: Any) -> bytes:
        return self.text


def _to_unicode(use: FontUse) -> str:
    entries = sorted(use.texts.items())
    lines = [TO_UNICODE_HEADER]
    for start in range(0, len(entries), 100):  # at most 100 entries per block
        block = entries[start : start + 100]
        lines.append(f"{len(block)} beginbfchar\n")
        lines += [f"<{cid:04X}> <{_utf16_hex(text, bom=False)}>\n" for cid, text in block]
        lines.append("endbfchar\n")
    lines.append(TO_UNICODE_FOOTER)
    return "".join(lines)


def _utf16_hex(text: str, *, bom: bool = True) -> str:
    return (("\ufeff" if bom else "") + text).encode("utf-16-be").hex().upper()


def _n(value: float) -> str:
    """A PDF number: short, and the same for the same value (stable output)."""
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in {"", "-0"} else text
