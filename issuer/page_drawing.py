"""Drawing on a certificate page: shaped text that fits, images and the QR code.

The page's sections (issuer/render.py) are written with these few primitives; text goes
through issuer/shaping.py and issuer/page_text.py, the rest through reportlab.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import Any

import qrcode
from PIL import Image as PilImage
from qrcode import LUT as qr_lut
from qrcode import base as qr_base
from qrcode import util as qr_util
from reportlab.lib.colors import Color, HexColor
from reportlab.lib.pagesizes import A4
from reportlab.lib.rl_accel import fp_str
from reportlab.pdfgen.canvas import Canvas

from issuer.design import Look
from issuer.errors import RenderError
from issuer.fonts import CjkVariant, Style
from issuer.page_text import DocumentFonts
from issuer.pdf_file import ImageObjects, Stream, flate
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
    # The images drawn, by file digest: their resource name and objects.
    images: dict[str, tuple[str, ImageObjects]] = field(default_factory=dict)

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

    The image is decoded and compressed once per process; each certificate only names it.
    """
    image = _image(path)
    scale = min(box[0] / image.pixels[0], box[1] / image.pixels[1])
    width, height = image.pixels[0] * scale, image.pixels[1] * scale
    name = page.images.setdefault(image.key, (f"Im{len(page.images) + 1}", image.objects))[0]
    page.canvas._code.append(
        f"q {width:.3f} 0 0 {height:.3f} {centre_x - width / 2:.3f} {bottom:.3f} cm /{name} Do Q"
    )


@dataclass(frozen=True)
class _Image:
    key: str  # a digest of the file
    pixels: tuple[int, int]
    objects: ImageObjects


@functools.lru_cache(maxsize=16)
def _image(path: Path) -> _Image:
    try:
        data = path.read_bytes()
        with PilImage.open(BytesIO(data)) as image:
            image.load()
            objects = _image_objects(image, data)
            pixels: tuple[int, int] = image.size
    except (OSError, ValueError) as error:
        raise RenderError(f"the image {path} cannot be read: {error}") from error
    return _Image(key=hashlib.sha256(data).hexdigest(), pixels=pixels, objects=objects)


def _image_objects(image: PilImage.Image, data: bytes) -> ImageObjects:
    """A JPEG in grey or RGB as it is; anything else as deflated samples, its transparency
    (alpha, or a PNG's transparent colour) as a soft mask."""
    width, height = image.size
    size = f"/Width {width} /Height {height} /BitsPerComponent 8"
    if image.format == "JPEG" and image.mode in ("L", "RGB"):
        space = "/DeviceGray" if image.mode == "L" else "/DeviceRGB"
        return ImageObjects(
            Stream(
                f"/Type /XObject /Subtype /Image {size} /ColorSpace {space} /Filter /DCTDecode",
                data,
            )
        )
    transparent = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    grey = image.mode in ("1", "L", "LA", "I", "I;16", "F")
    mode = ("LA" if grey else "RGBA") if transparent else ("L" if grey else "RGB")
    converted = image.convert(mode)
    soft_mask = None
    if transparent:
        alpha = converted.getchannel("A")
        converted = converted.convert("L" if grey else "RGB")
        soft_mask = Stream(
            f"/Type /XObject /Subtype /Image {size} /ColorSpace /DeviceGray /Filter /FlateDecode",
            flate(alpha.tobytes()),
        )
    space = "/DeviceGray" if grey else "/DeviceRGB"
    colour = Stream(
        f"/Type /XObject /Subtype /Image {size} /ColorSpace {space} /Filter /FlateDecode",
        flate(converted.tobytes()),
    )
    return ImageObjects(colour, soft_mask)


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
    code = _QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M, border=0, mask_pattern=QR_MASK
    )
    code.add_data(url)
    code.best_fit()  # once: make(fit=True) would fit twice
    # qrcode's Reed-Solomon is polynomial objects divided recursively, half the QR's time.
    code.data_cache = qr_codewords(code.version, code.error_correction, code.data_list)
    code.make(fit=False)
    matrix: list[list[bool]] = code.get_matrix()
    return matrix


class _QRCode(qrcode.QRCode):  # type: ignore[misc]  # qrcode is untyped
    """qrcode's symbol, its data modules placed along a path found once per version."""

    def map_data(self, data: list[int], mask_pattern: int) -> None:
        places = _data_places(self.version, mask_pattern, self.modules)
        total = 8 * len(data)
        bits = format(int.from_bytes(bytes(data), "big"), f"0{total}b") if data else ""
        modules = self.modules
        for index, (row, column, masked) in enumerate(places):
            dark = index < total and bits[index] == "1"
            modules[row][column] = dark != masked


_PLACES: dict[tuple[int, int], tuple[tuple[int, int, bool], ...]] = {}


def _data_places(
    version: int, mask_pattern: int, modules: list[list[bool | None]]
) -> tuple[tuple[int, int, bool], ...]:
    """The free modules in qrcode's placement order (two columns up, then down), each with
    its mask bit: the same for every symbol of a version."""
    key = (version, mask_pattern)
    if key not in _PLACES:
        mask, count, places = qr_util.mask_func(mask_pattern), len(modules), []
        row, step = count - 1, -1
        for right in range(count - 1, 0, -2):
            column = right - 1 if right <= 6 else right  # the vertical timing pattern
            while 0 <= row < count:
                for c in (column, column - 1):
                    if modules[row][c] is None:
                        places.append((row, c, bool(mask(row, c))))
                row += step
            row, step = row - step, -step
        _PLACES[key] = tuple(places)
    return _PLACES[key]


class _Bits:
    """A bit buffer as one integer (qrcode's keeps a list and appends bit by bit)."""

    def __init__(self) -> None:
        self.value = 0
        self.length = 0

    def put(self, number: int, length: int) -> None:
        self.value = (self.value << length) | (number & ((1 << length) - 1))
        self.length += length

    def put_bit(self, bit: bool) -> None:
        self.put(int(bit), 1)

    def __len__(self) -> int:
        return self.length


def qr_codewords(version: int, error_correction: int, data_list: list[Any]) -> list[int]:
    """The QR symbol's codewords, as ``qrcode.util.create_data`` makes them, by table lookups."""
    buffer = _Bits()
    for data in data_list:
        buffer.put(data.mode, 4)
        buffer.put(len(data), qr_util.length_in_bits(data.mode, version))
        data.write(buffer)
    blocks = qr_base.rs_blocks(version, error_correction)
    bit_limit = sum(block.data_count * 8 for block in blocks)
    if len(buffer) > bit_limit:
        raise RenderError("the status link is too long for a QR code")
    buffer.put(0, min(bit_limit - len(buffer), 4))  # terminator
    buffer.put(0, -len(buffer) % 8)
    for index in range((bit_limit - len(buffer)) // 8):
        buffer.put(qr_util.PAD0 if index % 2 == 0 else qr_util.PAD1, 8)
    codewords = list(buffer.value.to_bytes(len(buffer) // 8, "big"))
    data_blocks, ec_blocks, offset = [], [], 0
    for block in blocks:
        words = codewords[offset : offset + block.data_count]
        offset += block.data_count
        data_blocks.append(words)
        ec_blocks.append(_rs_remainder(words, block.total_count - block.data_count))
    return _interleaved(data_blocks) + _interleaved(ec_blocks)


def _rs_remainder(words: list[int], ec_count: int) -> list[int]:
    """The ``ec_count`` error correction codewords of ``words`` (remainder by the generator)."""
    generator = _rs_generator_logs(ec_count)
    exp, log = qr_base.EXP_TABLE, qr_base.LOG_TABLE
    remainder = [0] * ec_count
    for word in words:
        factor = word ^ remainder[0]
        remainder = [*remainder[1:], 0]
        if factor:
            factor_log = log[factor]
            for index, coefficient_log in enumerate(generator):
                if coefficient_log is not None:
                    remainder[index] ^= exp[(coefficient_log + factor_log) % 255]
    return remainder


@functools.cache
def _rs_generator_logs(ec_count: int) -> tuple[int | None, ...]:
    """Logs of the generator polynomial's coefficients after the leading 1 (None for 0)."""
    if ec_count in qr_lut.rsPoly_LUT:
        coefficients = list(qr_lut.rsPoly_LUT[ec_count])
    else:
        polynomial = qr_base.Polynomial([1], 0)
        for index in range(ec_count):
            polynomial = polynomial * qr_base.Polynomial([1, qr_base.gexp(index)], 0)
        coefficients = list(polynomial)
    return tuple(qr_base.LOG_TABLE[c] if c else None for c in coefficients[1:])


def _interleaved(blocks: list[list[int]]) -> list[int]:
    longest = max((len(block) for block in blocks), default=0)
    return [block[i] for i in range(longest) for block in blocks if i < len(block)]


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
    return list(_wrapped(text, style, size, width, page.variant))


@functools.lru_cache(maxsize=1024)  # the notices and labels are wrapped alike on every page
def _wrapped(
    text: str, style: Style, size: float, width: float, variant: CjkVariant
) -> tuple[str, ...]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if _width(candidate, style, size, variant) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = ""
        for char in word:
            if _width(current + char, style, size, variant) > width and current:
                lines.append(current)
                current = ""
            current += char
    return (*lines, current) if current else tuple(lines)


def _width(text: str, style: Style, size: float, variant: CjkVariant) -> float:
    return shape_line(text, style, variant).width(size)


def draw_text(
    page: Page, text: str, style: Style, size: float, x: float, y: float, colour: str, align: str
) -> None:
    line = shape_line(text, style, page.variant)
    width = line.width(size)
    left = x - width / 2 if align == "c" else x - width if align == "r" else x
    _set_fill(page.canvas, page.colours[colour])
    page.fonts.draw(page.canvas, line, left, y, size)


def _set_fill(canvas: Canvas, colour: Color) -> None:
    """What ``canvas.setFillColor`` does for an opaque RGB colour, its operator made once."""
    if colour.alpha != 1 or type(colour) is not Color or canvas._enforceColorSpace:
        canvas.setFillColor(colour)
        return
    canvas._fillColorObj = colour
    canvas._code.append(_fill_operator(colour.red, colour.green, colour.blue))


@functools.cache
def _fill_operator(red: float, green: float, blue: float) -> str:
    return f"{fp_str((red, green, blue))} rg"
