"""Drawing on a certificate page: shaped text that fits, images and the QR code.

The page's sections (issuer/render.py) are written with these few primitives; text goes
through issuer/shaping.py and issuer/page_text.py, the rest through reportlab.
"""

from __future__ import annotations

import copy
import functools
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

import qrcode
from reportlab.lib.colors import Color, HexColor
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase.pdfdoc import PDFImageXObject
from reportlab.pdfgen.canvas import Canvas

from issuer.design import Look
from issuer.errors import RenderError
from issuer.fonts import CjkVariant, Style
from issuer.page_text import DocumentFonts
from issuer.shaping import shape_line

TEXT = Style.TEXT
PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 64.0
CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN
QR_MASK = 2  # one fixed mask pattern (ISO/IEC 18004 allows any)


@dataclass
class Page:
    """One certificate being drawn: its canvas, its fonts, its look."""

    canvas: Canvas
    fonts: DocumentFonts
    look: Look
    variant: CjkVariant
    colours: dict[str, Color]

    def labels(self, key: str) -> list[str]:
        """The label ``key`` in each of the certificate's languages."""
        return [getattr(words, key) for words in self.look.words()]

    def label(self, key: str) -> str:
        """The label in every language on one line: "Langue / Language"."""
        return " / ".join(dict.fromkeys(text for text in self.labels(key) if text))


def draw_image(
    page: Page, path: Path, centre_x: float, bottom: float, box: tuple[float, float]
) -> None:
    """Draw the image at ``path`` as large as fits in ``box``, centred on ``centre_x``.

    The image is decoded and compressed once per process; each certificate only names it
    (as reportlab's drawImage does within one document, but across documents).
    """
    image = _image(path)
    scale = min(box[0] / image.pixels[0], box[1] / image.pixels[1])
    width, height = image.pixels[0] * scale, image.pixels[1] * scale
    canvas, document = page.canvas, page.canvas._doc
    registered = document.getXObjectName(image.name)
    if document.idToObject.get(registered) is None:
        xobject = copy.copy(image.xobject)  # a document registers (marks) what it holds
        canvas._setXObjects(xobject)
        document.Reference(xobject, registered)
        document.addForm(image.name, xobject)
        if image.soft_mask is not None:
            soft_mask = copy.copy(image.soft_mask)
            canvas._setXObjects(soft_mask)
            mask_name = document.getXObjectName(soft_mask.name)
            xobject.smask = document.Reference(soft_mask, mask_name)
    canvas._currentPageHasImages = 1
    canvas._formsinuse.append(image.name)
    canvas.saveState()
    canvas._code.append(
        f"{width:.3f} 0 0 {height:.3f} {centre_x - width / 2:.3f} {bottom:.3f} cm /{registered} Do"
    )
    canvas.restoreState()


@dataclass(frozen=True)
class _Image:
    name: str
    pixels: tuple[int, int]
    xobject: Any  # reportlab's PDFImageXObject
    soft_mask: Any  # its transparency, or None


@functools.lru_cache(maxsize=16)
def _image(path: Path) -> _Image:
    try:
        data = path.read_bytes()
        reader = ImageReader(BytesIO(data))
        pixels: tuple[int, int] = reader.getSize()
    except OSError as error:
        raise RenderError(f"the image {path} cannot be read: {error}") from error
    name = "SceauImage" + hashlib.sha256(data).hexdigest()[:16]
    xobject = PDFImageXObject(name, reader, mask="auto")
    xobject.name = name
    soft_mask = getattr(xobject, "_smask", None)
    if soft_mask is not None:
        del xobject._smask
    return _Image(name=name, pixels=pixels, xobject=xobject, soft_mask=soft_mask)


def draw_paragraph(page: Page, text: str, *, top: float, colour: str) -> float:
    """Draw a small full-width paragraph; return its last baseline."""
    y = top
    for index, line in enumerate(wrap(page, text, TEXT, 6.8, CONTENT_WIDTH)):
        y = top - index * 8.2
        draw_text(page, line, TEXT, 6.8, MARGIN, y, colour, "l")
    return y


def draw_qr(canvas: Canvas, url: str, *, x: float, y: float, size: float) -> None:
    """Draw the QR code as one vector path (crisp at any zoom, no bitmap to embed).

    The path is written in module units under one transform, one rectangle per run of dark
    modules: a few hundred short operators instead of reportlab's path objects.
    """
    matrix = _qr_matrix(url)
    count = len(matrix)
    module = size / count
    rects = [
        f"{start} {count - 1 - row_index} {length} 1 re"
        for row_index, row in enumerate(matrix)
        for start, length in _dark_runs(row)
    ]
    canvas.saveState()
    canvas.setFillColor(HexColor("#000000"))
    canvas._code.append(f"{module:.4f} 0 0 {module:.4f} {x:.3f} {y:.3f} cm")
    canvas._code.append("\n".join(rects) + "\nf")
    canvas.restoreState()


def _qr_matrix(url: str) -> list[list[bool]]:
    # Any of the eight masks decodes; searching for the best one took 80% of the QR's time.
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M, border=0, mask_pattern=QR_MASK
    )
    code.add_data(url)
    code.make(fit=True)
    matrix: list[list[bool]] = code.get_matrix()
    return matrix


def _dark_runs(row: list[bool]) -> Iterable[tuple[int, int]]:
    """Yield (start, length) of each run of dark modules in a QR row."""
    start = None
    for index, dark in enumerate([*row, False]):
        if dark and start is None:
            start = index
        elif not dark and start is not None:
            yield start, index - start
            start = None


def draw_centred(
    page: Page,
    text: str,
    style: Style,
    size: float,
    *,
    top: float,
    min_size: float | None = None,
    max_lines: int = 3,
    colour: str = "ink",
) -> float:
    """Draw ``text`` centred, shrinking then wrapping it; return the last baseline."""
    size = fitted_size(page, text, style, size, min_size or size, CONTENT_WIDTH)
    lines = wrap(page, text, style, size, CONTENT_WIDTH)
    if len(lines) > max_lines:
        raise RenderError(f"a text of {len(text)} characters is too long for the certificate")
    y = top
    for index, line in enumerate(lines):
        y = top - index * size * 1.2
        draw_text(page, line, style, size, PAGE_WIDTH / 2, y, colour, "c")
    return y


def text_width(page: Page, text: str, style: Style, size: float) -> float:
    return shape_line(text, style, page.variant).width(size)


def fitted_size(
    page: Page, text: str, style: Style, size: float, min_size: float, width: float
) -> float:
    """Largest size from ``size`` down to ``min_size`` (half-point steps) at which text fits."""
    while size > min_size and text_width(page, text, style, size) > width:
        size -= 0.5
    return max(size, min_size)


def wrap(page: Page, text: str, style: Style, size: float, width: float) -> list[str]:
    """Greedy word wrap; a word wider than the line is cut between characters."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if text_width(page, candidate, style, size) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = ""
        for char in word:
            if text_width(page, current + char, style, size) > width and current:
                lines.append(current)
                current = ""
            current += char
    return [*lines, current] if current else lines


def draw_text(
    page: Page, text: str, style: Style, size: float, x: float, y: float, colour: str, align: str
) -> None:
    line = shape_line(text, style, page.variant)
    width = line.width(size)
    left = x - width / 2 if align == "c" else x - width if align == "r" else x
    page.canvas.setFillColor(page.colours[colour])
    page.fonts.draw(page.canvas, line, left, y, size)
