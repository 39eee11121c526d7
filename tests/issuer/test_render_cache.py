"""What the renderer keeps between certificates changes nothing on the page.

Rendering reuses, across the certificates of a batch, each line's operators, the QR code's
module path and a table-driven Reed-Solomon code; these tests pin each shortcut to the slow
path it replaces, and a warm renderer to a fresh process.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from collections.abc import Callable
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
import qrcode
from hypothesis import given, settings
from hypothesis import strategies as st
from qrcode import util as qr_util
from reportlab.pdfgen.canvas import Canvas

from issuer import fonts
from issuer.content import CertificateContent, IssuerBranding
from issuer.fonts import CjkVariant, Style, font_runs, undrawable_characters
from issuer.page_drawing import _QRCode, qr_codewords
from issuer.page_text import DocumentFonts
from issuer.render import render_certificate
from issuer.shaping import shape_line

ROOT = Path(__file__).resolve().parents[2]
MakeContent = Callable[..., CertificateContent]


def _symbol(url: str, error_correction: int, mask: int, *, fast: bool) -> Any:
    code = (_QRCode if fast else qrcode.QRCode)(
        error_correction=error_correction, border=0, mask_pattern=mask
    )
    code.add_data(url)
    code.best_fit()
    return code


@settings(max_examples=150, deadline=None)
@given(
    url=st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=0x24F), max_size=300),
    error_correction=st.sampled_from(
        [
            qrcode.constants.ERROR_CORRECT_L,
            qrcode.constants.ERROR_CORRECT_M,
            qrcode.constants.ERROR_CORRECT_Q,
            qrcode.constants.ERROR_CORRECT_H,
        ]
    ),
)
def test_codewords_are_those_of_qrcode(url: str, error_correction: int) -> None:
    code = _symbol(url, error_correction, 2, fast=False)
    expected = qr_util.create_data(code.version, code.error_correction, code.data_list)
    assert qr_codewords(code.version, code.error_correction, code.data_list) == expected


@pytest.mark.parametrize("mask", range(8))
@pytest.mark.parametrize(
    "url",
    [
        "https://certs.ill.example.org/c/3f2a9c0d5b7e4f11a2c3d4e5f6a7b8c9",
        "HTTPS://C.EXAMPLE/C/0123456789",  # alphanumeric and numeric segments
        "https://a-much-longer-issuer-domain.example.org/certificates/status/"
        + "f" * 160,  # version 7 and above carry version information
    ],
)
def test_qr_modules_are_those_of_qrcode(url: str, mask: int) -> None:
    symbols = []
    for fast in (False, True):
        code = _symbol(url, qrcode.constants.ERROR_CORRECT_M, mask, fast=fast)
        if fast:
            code.data_cache = qr_codewords(code.version, code.error_correction, code.data_list)
        code.make(fit=False)
        symbols.append(code.get_matrix())
    assert symbols[0] == symbols[1]


def test_warm_renderer_gives_the_bytes_of_a_fresh_process(
    make_content: MakeContent, branding: IssuerBranding
) -> None:
    """Lines, placements and QR paths kept from earlier certificates never leak into a page."""
    target = make_content(candidate_name="Zoë Ørsted-Nguyễn", certificate_id="ab" * 16)
    script = (
        "import hashlib, sys\n"
        "from issuer.content import CertificateContent, IssuerBranding\n"
        "from issuer.render import render_certificate\n"
        "content = CertificateContent.model_validate_json(sys.argv[1])\n"
        "branding = IssuerBranding.model_validate_json(sys.argv[2])\n"
        "print(hashlib.sha256(render_certificate(content, branding=branding)).hexdigest())\n"
    )
    fresh = subprocess.run(
        [sys.executable, "-c", script, target.model_dump_json(), branding.model_dump_json()],
        cwd=ROOT,
        capture_output=True,
        check=True,
        text=True,
    ).stdout.strip()
    others = ["محمد الأحمد", "王小明", "Zoë", "Ørsted", "अनिरुद्ध शर्मा", "Łukasz Żółć"]
    for index, name in enumerate(others):
        render_certificate(
            make_content(candidate_name=name, certificate_id=f"{index:032x}"), branding=branding
        )
    warm = hashlib.sha256(render_certificate(target, branding=branding)).hexdigest()
    assert warm == fresh


def _drawn_glyphs(fonts_used: DocumentFonts, operators: str) -> list[tuple[int, str]]:
    """The glyphs an operator string names, read back through the document's CIDs."""
    by_cid = {cid: key for use in fonts_used._uses.values() for key, cid in use.cids.items()}
    return [by_cid[int(code, 16)] for code in re.findall(r"<([0-9A-F]{4})>", operators)]


def test_a_placed_line_takes_each_documents_own_cids() -> None:
    line = shape_line("Délivré le / Issued on", Style.TEXT, CjkVariant.SIMPLIFIED_CHINESE)
    first = DocumentFonts()
    canvas = Canvas(BytesIO())
    first.draw(canvas, line, 64, 100, 8)
    alone = canvas._code[-1]

    second = DocumentFonts()
    other = Canvas(BytesIO())
    second.draw(other, shape_line("Wxyz 123", Style.TEXT, CjkVariant.SIMPLIFIED_CHINESE), 10, 10, 9)
    second.draw(other, line, 64, 100, 8)  # the same placement, now with other CIDs
    after_others = other._code[-1]

    assert alone != after_others
    assert _drawn_glyphs(first, alone) == _drawn_glyphs(second, after_others)
    assert re.sub(r"<[0-9A-F]{4}>", "<>", alone) == re.sub(r"<[0-9A-F]{4}>", "<>", after_others)


def test_a_line_drawn_in_many_places_is_drawn_at_each() -> None:
    line = shape_line("Score", Style.STRONG, CjkVariant.JAPANESE)
    document, canvas = DocumentFonts(), Canvas(BytesIO())
    for step in range(80):  # more places than one line keeps
        document.draw(canvas, line, 100 + step, 200, 10)
        assert f"1 0 0 1 {100 + step} 200 Tm" in canvas._code[-1]


@pytest.mark.parametrize(
    "text",
    [
        "Łukasz Żółć",
        "e\u0301 decomposed",
        "   ",
        "Nguyễn 王小明",
        "محمد 42",
        "abc \u200d\u200c",
        "Ǆ Ǉ ǈ",
    ],
)
@pytest.mark.parametrize("style", list(Style))
def test_one_face_shortcut_agrees_with_cluster_by_cluster(text: str, style: Style) -> None:
    variant = CjkVariant.SIMPLIFIED_CHINESE
    assert font_runs(text, style, variant) == fonts._runs_by_cluster(text, style, variant)


def test_undrawable_characters_are_a_fresh_list_each_time() -> None:
    first = undrawable_characters("a\x07b")
    first.append("changed")
    assert undrawable_characters("a\x07b") == ["\x07"]
