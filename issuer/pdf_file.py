"""A one-page PDF written out directly: the certificate's page, its font subsets and images.

reportlab draws the page (its operators); writing the file through reportlab's document
objects, which format every dictionary, name and number one by one, took a third of a
certificate's rendering. A certificate's file has a fixed shape (catalog, pages, one page,
its content, the font subsets of issuer/page_text.py, the design's images, the document
information), so it is written here as bytes, each part made once where it can be: an
image's stream once per process, a font subset's once per glyph set (issuer/page_text.py).
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

HEADER = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"


@dataclass(frozen=True)
class Stream:
    """A PDF stream: its dictionary's entries but /Length, and its data as stored."""

    entries: str
    data: bytes


class PdfFile:
    """Numbered objects, written in order with their cross-reference table."""

    def __init__(self) -> None:
        self._bodies: list[bytes | None] = []

    def reserve(self) -> int:
        """A number for an object whose body comes later (it may name others first)."""
        self._bodies.append(None)
        return len(self._bodies)

    def set(self, number: int, body: bytes | str) -> int:
        self._bodies[number - 1] = body.encode("latin-1") if isinstance(body, str) else body
        return number

    def add(self, body: bytes | str) -> int:
        return self.set(self.reserve(), body)

    def add_stream(self, stream: Stream) -> int:
        return self.add(stream_body(stream))

    def write(self, *, root: int, info: int) -> bytes:
        """The whole file; the same objects give the same bytes (the /ID is their digest)."""
        out = bytearray(HEADER)
        offsets = []
        for number, body in enumerate(self._bodies, start=1):
            if body is None:
                raise ValueError(f"PDF object {number} was reserved and never written")
            offsets.append(len(out))
            out += b"%d 0 obj\n" % number
            out += body
            out += b"\nendobj\n"
        identifier = hashlib.md5(bytes(out), usedforsecurity=False).hexdigest()
        xref = len(out)
        out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(offsets) + 1)
        out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
        out += (
            f"trailer\n<< /Size {len(offsets) + 1} /Root {root} 0 R /Info {info} 0 R "
            f"/ID [<{identifier}> <{identifier}>] >>\nstartxref\n{xref}\n%%EOF\n"
        ).encode("ascii")
        return bytes(out)


def stream_body(stream: Stream) -> bytes:
    head = f"<< {stream.entries} /Length {len(stream.data)} >>\nstream\n".encode("latin-1")
    return head + stream.data + b"\nendstream"


def flate(data: bytes) -> bytes:
    return zlib.compress(data)


def text_string(text: str) -> str:
    """A PDF text string: a literal for plain ASCII, else UTF-16BE with its byte-order mark."""
    if text.isascii() and text.isprintable():
        escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        return f"({escaped})"
    return "<FEFF" + text.encode("utf-16-be").hex().upper() + ">"


def pdf_date(day: date) -> str:
    return f"(D:{day:%Y%m%d}000000Z)"


def single_page(
    *,
    content: str,
    size: tuple[float, float],
    fonts: Iterable[tuple[str, FontObjects]],
    images: Iterable[tuple[str, ImageObjects]],
    info: Mapping[str, str],
) -> bytes:
    """The file of one page: `content` its operators, `fonts` and `images` its resources by
    name, `info` the document information (values written as PDF values already)."""
    pdf = PdfFile()
    catalog, pages, page = pdf.reserve(), pdf.reserve(), pdf.reserve()
    font_refs = [f"/{name} {objects.write(pdf)} 0 R" for name, objects in fonts]
    image_refs = [f"/{name} {objects.write(pdf)} 0 R" for name, objects in images]
    contents = pdf.add_stream(Stream("/Filter /FlateDecode", flate(content.encode("latin-1"))))
    resources = f"/Font << {' '.join(font_refs)} >>"
    if image_refs:
        resources += f" /XObject << {' '.join(image_refs)} >>"
    width, height = (_number(value) for value in size)
    pdf.set(
        page,
        f"<< /Type /Page /Parent {pages} 0 R /MediaBox [0 0 {width} {height}] "
        f"/Resources << {resources} >> /Contents {contents} 0 R >>",
    )
    pdf.set(pages, f"<< /Type /Pages /Kids [{page} 0 R] /Count 1 >>")
    pdf.set(catalog, f"<< /Type /Catalog /Pages {pages} 0 R >>")
    entries = " ".join(f"/{key} {value}" for key, value in info.items())
    return pdf.write(root=catalog, info=pdf.add(f"<< {entries} >>"))


class FontObjects:
    """A Type 0 font and what it refers to, written into a file (issuer/page_text.py)."""

    def __init__(
        self,
        *,
        base_name: str,
        descriptor: str,
        cid_font: str,
        font_file: Stream,
        to_unicode: Stream,
    ) -> None:
        self.base_name = base_name
        self.descriptor = descriptor  # with {font_file} for the font program's reference
        self.cid_font = cid_font  # with {descriptor}
        self.font_file = stream_body(font_file)
        self.to_unicode = stream_body(to_unicode)

    def write(self, pdf: PdfFile) -> int:
        font_file = pdf.add(self.font_file)
        descriptor = pdf.add(self.descriptor.replace("{font_file}", str(font_file)))
        cid_font = pdf.add(self.cid_font.replace("{descriptor}", str(descriptor)))
        to_unicode = pdf.add(self.to_unicode)
        return pdf.add(
            f"<< /Type /Font /Subtype /Type0 /BaseFont /{self.base_name} /Encoding /Identity-H "
            f"/DescendantFonts [{cid_font} 0 R] /ToUnicode {to_unicode} 0 R >>"
        )


@dataclass(frozen=True)
class ImageObjects:
    """An image XObject and its soft mask (transparency), if it has one."""

    image: Stream
    soft_mask: Stream | None = None

    def write(self, pdf: PdfFile) -> int:
        entries = self.image.entries
        if self.soft_mask is not None:
            entries += f" /SMask {pdf.add_stream(self.soft_mask)} 0 R"
        return pdf.add_stream(Stream(entries, self.image.data))


def _number(value: float) -> str:
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return text or "0"
