"""The issuer's design: laid over the built-in one, refused before signing if it cannot render."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

import pytest
from PIL import Image
from pyhanko.pdf_utils.reader import PdfFileReader

from issuer.content import CertificateContent, IssuerBranding, SkillResult
from issuer.design import SAMPLE, Design, DesignError, built_in_design, check_design, load_design
from issuer.render import render_certificate

MakeContent = Callable[..., CertificateContent]
SAMPLE_EXAM = "Diplôme de compétence en langue (DCL)"


def write_design(directory: Path, text: str, *, images: bool = True) -> Path:
    if images:
        Image.new("RGB", (300, 100), "#7a1f34").save(directory / "logo.png")
        Image.new("RGBA", (200, 60), (20, 40, 110, 255)).save(directory / "signature.png")
    path = directory / "design.toml"
    path.write_text(text, encoding="utf-8")
    return path


def pdf_lines(pdf: bytes, tmp_path: Path) -> list[str]:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    (tmp_path / "page.pdf").write_bytes(pdf)
    out = subprocess.run(["pdftotext", str(tmp_path / "page.pdf"), "-"], capture_output=True)
    return [line.strip() for line in out.stdout.decode().splitlines()]


def image_count(pdf: bytes) -> int:
    page = PdfFileReader(BytesIO(pdf)).root["/Pages"]["/Kids"][0]
    objects = page["/Resources"].get("/XObject", {})
    return sum(1 for ref in objects.values() if ref.get_object()["/Subtype"] == "/Image")


def test_built_in_and_sample_designs_render() -> None:
    check_design(built_in_design())
    sample = load_design(SAMPLE)
    check_design(sample)
    assert sample.default.logo is not None and sample.default.logo.is_file()
    assert sample.look_for(SAMPLE_EXAM).wording["fr"].title == "Diplôme de compétence en langue"


def test_an_issuer_design_changes_only_what_it_names(tmp_path: Path) -> None:
    path = write_design(
        tmp_path,
        """
[look]
logo = "logo.png"
[look.colours]
accent = "#7a1f34"
[look.wording.en]
title = "Statement of results"
""",
    )
    design = load_design(path)
    assert design.default.colours.accent == "#7a1f34"
    assert design.default.colours.ink == built_in_design().default.colours.ink
    assert design.default.wording["en"].title == "Statement of results"
    assert design.default.wording["fr"].title == "Certificat de résultats"


def test_logo_signature_and_wording_are_on_the_page(
    tmp_path: Path, make_content: MakeContent, branding: IssuerBranding
) -> None:
    design = load_design(
        write_design(
            tmp_path,
            """
[look]
logo = "logo.png"
signature = "signature.png"
[look.wording.fr]
signatory = "Le président du jury"
[look.wording.en]
signatory = "Chair of the examining board"
""",
        )
    )
    pdf = render_certificate(make_content(), branding=branding, design=design)
    lines = pdf_lines(pdf, tmp_path)
    assert "Le président du jury" in lines and "Chair of the examining board" in lines
    assert image_count(pdf) == 2


def test_each_exam_has_its_own_look(
    make_content: MakeContent, branding: IssuerBranding, tmp_path: Path
) -> None:
    design = load_design(SAMPLE)
    dcl = render_certificate(make_content(exam=SAMPLE_EXAM), branding=branding, design=design)
    other = render_certificate(make_content(exam="TOEIC"), branding=branding, design=design)
    assert "Diplôme de compétence en langue" in pdf_lines(dcl, tmp_path)
    assert "Certificat de résultats" in pdf_lines(other, tmp_path)


def test_labels_follow_the_certificate_languages(
    tmp_path: Path, make_content: MakeContent, branding: IssuerBranding
) -> None:
    design = load_design(write_design(tmp_path, '[look]\nlanguages = ["en", "fr"]\n'))
    skills = (SkillResult(skill="listening", level="B2"), SkillResult(skill="Oral", level="B1"))
    pdf = render_certificate(make_content(skills=skills), branding=branding, design=design)
    lines = pdf_lines(pdf, tmp_path)
    assert "Certificate of results" in lines
    assert "Listening / Compréhension orale" in lines
    assert "Oral" in lines  # a skill the design does not know is printed as given

    english = load_design(write_design(tmp_path, '[look]\nlanguages = ["en"]\n'))
    only_en = pdf_lines(
        render_certificate(make_content(), branding=branding, design=english), tmp_path
    )
    assert "Certificate of results" in only_en
    assert not any("Certificat de résultats" in line for line in only_en)


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        pytest.param('[look]\nlogo = "missing.png"\n', "look.logo.*no image", id="missing_image"),
        pytest.param('[look]\nlogo = "design.toml"\n', "is not an image", id="image_not_an_image"),
        pytest.param('[look.colours]\nink = "navy"\n', "look.colours.ink", id="bad_colour"),
        pytest.param('[look]\nfont = "Comic"\n', "look.font", id="unknown_field"),
        pytest.param("[style]\nx = 1\n", "unknown section.*style", id="unknown_section"),
        pytest.param(
            '[look.wording.fr]\ntitle = "Certificat {candidat}"\n',
            r"unknown placeholder \{candidat\}",
            id="unknown_placeholder",
        ),
        pytest.param(
            '[look]\nlanguages = ["fr", "de"]\n', "no wording for language.*de", id="no_wording"
        ),
        pytest.param(
            '[exams."DCL".colours]\naccent = "#12"\n',
            "exams.'DCL'.colours.accent",
            id="bad_exam_colour",
        ),
        pytest.param("[look\n", "cannot be read", id="not_toml"),
    ],
)
def test_a_design_that_cannot_render_is_refused(tmp_path: Path, toml: str, message: str) -> None:
    with pytest.raises(DesignError, match=message):
        load_design(write_design(tmp_path, toml))


def test_a_missing_design_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DesignError, match="no design file"):
        load_design(tmp_path / "nowhere.toml")


def test_a_wording_too_long_for_the_page_fails_the_check(tmp_path: Path) -> None:
    long_title = " ".join(["Attestation officielle de réussite"] * 12)
    design = load_design(
        write_design(tmp_path, f'[exams."DCL".wording.fr]\ntitle = "{long_title}"\n')
    )
    with pytest.raises(DesignError, match="exam 'DCL'"):
        check_design(design)


def test_design_is_a_frozen_value() -> None:
    design = built_in_design()
    assert isinstance(design, Design)
    with pytest.raises(ValueError):
        design.default.colours.ink = "#000000"  # type: ignore[misc]


def test_the_check_renders_with_the_issuer_own_name(branding: IssuerBranding) -> None:
    check_design(built_in_design(), branding=branding)
    too_long = IssuerBranding(name="Institut " * 60, public_base_url=branding.public_base_url)
    with pytest.raises(DesignError, match="default look"):
        check_design(built_in_design(), branding=too_long)
