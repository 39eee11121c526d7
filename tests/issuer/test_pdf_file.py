"""The certificate's file as issuer/pdf_file.py writes it: well formed, read back by strict
readers, its metadata and images as given."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader

from issuer.content import CertificateContent, IssuerBranding
from issuer.design import load_design
from issuer.pdf_file import text_string
from issuer.render import render_certificate
from issuer.signing import read_certificate_id

MakeContent = Callable[..., CertificateContent]


def test_every_cross_reference_points_at_its_object(
    make_content: MakeContent, branding: IssuerBranding
) -> None:
    pdf = render_certificate(make_content(), branding=branding)
    start = int(re.search(rb"startxref\n(\d+)\n%%EOF\n$", pdf).group(1))  # type: ignore[union-attr]
    assert pdf[start:].startswith(b"xref\n0 ")
    offsets = [int(line[:10]) for line in pdf[start:].split(b"\n")[3:] if line.endswith(b" n ")]
    assert offsets, "no object in the cross-reference table"
    for number, offset in enumerate(offsets, start=1):
        assert pdf[offset:].startswith(b"%d 0 obj\n" % number)
    reader = PdfFileReader(BytesIO(pdf), strict=True)  # refuses a wrong offset or length
    page = reader.root["/Pages"]["/Kids"][0]
    assert page["/MediaBox"] == [
        0,
        0,
        generic.FloatObject("595.2756"),
        generic.FloatObject("841.8898"),
    ]
    assert set(page["/Resources"]["/Font"]) == {"/SF1", "/SF2", "/SF3"}


@pytest.mark.parametrize(
    "issuer_name",
    [
        "Centre (Lyon) \\ Part-Dieu",
        "مركز الامتحانات بالرباط",
        "北京语言考试中心",
        "Zoë Müller & Cie",
    ],
)
def test_document_information_reads_back_in_any_script(
    make_content: MakeContent, issuer_name: str
) -> None:
    branding = IssuerBranding(name=issuer_name, public_base_url="https://certs.example.org/")
    content = make_content()
    pdf = render_certificate(content, branding=branding)
    info = PdfFileReader(BytesIO(pdf), strict=True).trailer_view["/Info"]
    assert str(info["/Author"]) == issuer_name
    assert str(info["/CreationDate"]) == f"D:{content.issued_on:%Y%m%d}000000Z"
    assert read_certificate_id(pdf) == content.certificate_id
    if shutil.which("pdfinfo"):
        shown = subprocess.run(["pdfinfo", "-"], input=pdf, capture_output=True, check=True)
        assert f"Author:          {issuer_name}" in shown.stdout.decode()


def test_text_strings_escape_what_a_literal_cannot_hold() -> None:
    assert text_string("a(b)c\\") == "(a\\(b\\)c\\\\)"
    assert text_string("é") == "<FEFF00E9>"
    assert (
        text_string("line\nbreak")
        == "<FEFF" + "line\nbreak".encode("utf-16-be").hex().upper() + ">"
    )


def _images(directory: Path) -> None:
    logo = Image.new("RGBA", (300, 100), (0, 0, 0, 0))
    ImageDraw.Draw(logo).ellipse((10, 10, 290, 90), fill=(122, 31, 52, 200))
    logo.save(directory / "logo.png")
    signature = Image.new("L", (400, 120), 255)
    ImageDraw.Draw(signature).line((10, 100, 390, 20), fill=30, width=6)
    signature.save(directory / "signature.jpg", quality=90)
    palette = Image.new("P", (60, 30), 1)
    palette.putpalette([255, 255, 255, 20, 40, 110])
    ImageDraw.Draw(palette).rectangle((0, 0, 20, 30), fill=0)
    palette.save(directory / "stamp.png", transparency=0)


@pytest.mark.parametrize(
    ("logo", "signature", "expected"),
    [
        pytest.param(
            "logo.png",
            "signature.jpg",
            [("/DeviceRGB", "/FlateDecode", True), ("/DeviceGray", "/DCTDecode", False)],
            id="alpha_png_and_grey_jpeg",
        ),
        pytest.param(
            "stamp.png", None, [("/DeviceRGB", "/FlateDecode", True)], id="palette_png_transparency"
        ),
    ],
)
def test_images_keep_their_colours_and_transparency(
    tmp_path: Path,
    make_content: MakeContent,
    branding: IssuerBranding,
    logo: str,
    signature: str | None,
    expected: list[tuple[str, str, bool]],
) -> None:
    _images(tmp_path)
    lines = ["[look]", f'logo = "{logo}"'] + ([f'signature = "{signature}"'] if signature else [])
    (tmp_path / "design.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    design = load_design(tmp_path / "design.toml")
    pdf = render_certificate(make_content(), branding=branding, design=design)
    page = PdfFileReader(BytesIO(pdf), strict=True).root["/Pages"]["/Kids"][0]
    found = []
    for name in sorted(page["/Resources"]["/XObject"]):
        image = page["/Resources"]["/XObject"][name]
        found.append((str(image["/ColorSpace"]), str(image["/Filter"]), "/SMask" in image))
        if image["/Filter"] == "/DCTDecode":  # the JPEG file as it is
            assert image.encoded_data[:2] == b"\xff\xd8"
        else:  # the samples inflate to the image's size
            channels = 3 if image["/ColorSpace"] == "/DeviceRGB" else 1
            assert len(image.data) == image["/Width"] * image["/Height"] * channels
    assert found == expected
    if shutil.which("pdftoppm"):  # poppler draws the page without a complaint
        drawn = subprocess.run(
            ["pdftoppm", "-r", "30", "-png", "-", str(tmp_path / "page")],
            input=pdf,
            capture_output=True,
            check=True,
        )
        assert drawn.stderr == b""
        assert (tmp_path / "page-1.png").stat().st_size > 0
