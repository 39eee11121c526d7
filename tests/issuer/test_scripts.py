"""Every script renders: names shaped, drawn by an embedded font, and given back by pdftotext."""

from __future__ import annotations

import shutil
import subprocess
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont
from pyhanko.pdf_utils.reader import PdfFileReader

from issuer.content import CertificateContent, IssuerBranding
from issuer.dev_pki import DevPki
from issuer.errors import RenderError
from issuer.fonts import CjkVariant, Style, chain, font_runs, undrawable_characters
from issuer.render import render_certificate
from issuer.shaping import shape_line
from issuer.signing import load_signer

MakeContent = Callable[..., CertificateContent]
NAMES = {
    "latin": "Zoë Ørsted-Łukasiewicz Çağlar Dvořák Ðorđe Þórsdóttir",
    "greek": "Χαράλαμπος Παπαδόπουλος",
    "cyrillic": "Ґалина Їжакова-Щербатых",
    "arabic": "عبد الإله بن محمد الأحمد",
    "hebrew": "עַמִּיר כּהן",
    "chinese": "王小明",
    "traditional_chinese": "張偉龍",
    "japanese": "山田 はなこ",
    "korean": "김민준",
    "vietnamese": "Trần Hưng Đạo Nguyễn Thị Ánh",
    "devanagari": "अनिरुद्ध क्षितिज शर्मा",
    "decomposed_marks": unicodedata.normalize("NFD", "Nguyễn Ångström Žofie"),
}
# Poppler marks a right-to-left run on a left-to-right page with RLE ... PDF (U+202B,
# U+202C) in its output; they are its own presentation marks, not text of the document.
POPPLER_MARKS = dict.fromkeys(range(0x202A, 0x202F))


@dataclass(frozen=True)
class EmbeddedFont:
    program: TTFont
    to_unicode: dict[int, str]


@pytest.fixture(scope="module")
def signed_batch(
    make_content: MakeContent, branding: IssuerBranding, dev_pki: DevPki
) -> dict[str, bytes]:
    """One signed certificate per script, as an issuance batch signs them."""
    signer = load_signer(dev_pki.identity)
    return {
        script: signer.sign(
            render_certificate(
                make_content(certificate_id=f"{index:032x}", candidate_name=name), branding=branding
            )
        )
        for index, (script, name) in enumerate(NAMES.items())
    }


def pdftotext(pdf: bytes, tmp_path: Path) -> list[str]:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    path = tmp_path / "certificate.pdf"
    path.write_bytes(pdf)
    result = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True)
    return [line.translate(POPPLER_MARKS).strip() for line in result.stdout.decode().splitlines()]


def embedded_fonts(pdf: bytes) -> list[EmbeddedFont]:
    """The font programs and ToUnicode maps of the page, read back from the PDF."""
    page = PdfFileReader(BytesIO(pdf)).root["/Pages"]["/Kids"][0]
    fonts = []
    for reference in page["/Resources"]["/Font"].values():
        font = reference.get_object()
        descendant = font["/DescendantFonts"][0]
        program = descendant["/FontDescriptor"]["/FontFile2"].data
        fonts.append(
            EmbeddedFont(TTFont(BytesIO(program)), parse_to_unicode(font["/ToUnicode"].data))
        )
    return fonts


def parse_to_unicode(cmap: bytes) -> dict[int, str]:
    mapping = {}
    for line in cmap.decode("ascii").splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0].startswith("<") and parts[1].startswith("<"):
            target = bytes.fromhex(parts[1].strip("<>")).decode("utf-16-be")
            mapping[int(parts[0].strip("<>"), 16)] = target
    return mapping


def drawn_characters(font: EmbeddedFont) -> set[str]:
    """Characters that a glyph with an outline of this embedded font stands for."""
    order = font.program.getGlyphOrder()
    glyf = font.program["glyf"]

    def has_outline(gid: int) -> bool:
        return gid < len(order) and glyf[order[gid]].numberOfContours != 0

    cmap = font.program.getBestCmap()
    drawn = {chr(code) for code, name in cmap.items() if has_outline(font.program.getGlyphID(name))}
    for cid, text in font.to_unicode.items():
        if has_outline(cid):
            drawn.update(text)
    return drawn


def page_content(pdf: bytes) -> bytes:
    data: bytes = PdfFileReader(BytesIO(pdf)).root["/Pages"]["/Kids"][0]["/Contents"].data
    return data


@pytest.mark.parametrize("script", NAMES)
def test_pdftotext_gives_back_the_name(
    script: str, signed_batch: dict[str, bytes], tmp_path: Path
) -> None:
    assert NAMES[script] in pdftotext(signed_batch[script], tmp_path)


@pytest.mark.parametrize("script", NAMES)
def test_every_character_is_drawn_by_an_embedded_font(
    script: str, signed_batch: dict[str, bytes]
) -> None:
    drawn = set().union(*(drawn_characters(font) for font in embedded_fonts(signed_batch[script])))
    needed = {c for c in NAMES[script] if not c.isspace()}
    assert needed - drawn == set()


@pytest.mark.parametrize("script", NAMES)
def test_no_glyph_is_the_missing_glyph(script: str, signed_batch: dict[str, bytes]) -> None:
    # CID 0 is .notdef, the empty box, in every embedded font.
    assert b"<0000>" not in page_content(signed_batch[script])


def test_arabic_letters_are_joined_and_drawn_right_to_left() -> None:
    name = "محمد"
    line = shape_line(name, Style.TEXT, CjkVariant.SIMPLIFIED_CHINESE)
    (run,) = line.runs
    font = TTFont(str(run.face.path), lazy=True)
    cmap = font.getBestCmap()
    isolated = [font.getGlyphID(cmap[ord(char)]) for char in reversed(name)]
    assert run.right_to_left
    assert [glyph.gid for glyph in run.glyphs] != isolated  # initial, medial, final forms
    assert "".join(glyph.text for glyph in run.glyphs)[::-1] == name  # last letter leftmost


def test_devanagari_conjuncts_are_formed() -> None:
    line = shape_line("क्ष", Style.TEXT, CjkVariant.SIMPLIFIED_CHINESE)
    assert len([g for run in line.runs for g in run.glyphs]) < len("क्ष")


def test_cjk_glyph_forms_follow_the_language() -> None:
    runs = font_runs("山田 はなこ", Style.TEXT, CjkVariant.JAPANESE)
    assert {face.index for _, face in runs} == {CjkVariant.JAPANESE.face_index}
    assert chain(Style.TEXT, CjkVariant.KOREAN) != chain(Style.TEXT, CjkVariant.JAPANESE)


@pytest.mark.parametrize(
    ("text", "missing"),
    [
        pytest.param("Ana 😀 Lima", ["😀"], id="emoji"),
        pytest.param("Ana\x00Lima", ["\x00"], id="control_character"),
        pytest.param("Ana\ue000", ["\ue000"], id="private_use"),
        pytest.param("فاطمة\u200cالزهراء \u200f", [], id="joiners_and_marks_need_no_glyph"),
        pytest.param(" ".join(NAMES.values()), [], id="every_script"),
    ],
)
def test_undrawable_characters(text: str, missing: list[str]) -> None:
    assert undrawable_characters(text) == missing


def test_a_name_no_font_can_draw_is_refused(
    make_content: MakeContent, branding: IssuerBranding
) -> None:
    with pytest.raises(RenderError, match="candidate_name: no embedded font can draw U\\+1F600"):
        render_certificate(make_content(candidate_name="Ana 😀 Lima"), branding=branding)


def test_combining_marks_stay_with_their_letter() -> None:
    name = unicodedata.normalize("NFD", "Nguyễn Ångström")
    runs = font_runs(name, Style.DISPLAY, CjkVariant.SIMPLIFIED_CHINESE)
    assert len(runs) == 1
