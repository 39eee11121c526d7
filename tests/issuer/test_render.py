"""The rendered certificate: a one-page A4 PDF that says what it must, and nothing in metadata."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Iterator
from decimal import Decimal
from io import BytesIO
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyhanko.pdf_utils.reader import PdfFileReader

from issuer import fonts, render, shaping
from issuer.content import CefrLevel, CertificateContent, IssuerBranding, SkillResult
from issuer.errors import RenderError
from issuer.render import render_certificate

MakeContent = Callable[..., CertificateContent]
NAMES = [
    "Łukasz Żółć",
    "Nguyễn Thị Minh Khai",
    "Ørjan Åsmund",
    "Χαράλαμπος Παπαδόπουλος",
    "Александра Иванова",
    "Zoë O'Brien-Müller",
]


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    path = tmp_path / "certificate.pdf"
    path.write_bytes(pdf)
    result = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True)
    return result.stdout.decode()


def info_of(pdf: bytes) -> dict[str, str]:
    info = PdfFileReader(BytesIO(pdf)).trailer_view["/Info"]
    return {str(key): str(value) for key, value in info.items()}


def test_renders_a_single_a4_page(rendered_pdf: bytes) -> None:
    reader = PdfFileReader(BytesIO(rendered_pdf))
    assert rendered_pdf.startswith(b"%PDF-")
    assert reader.root["/Pages"]["/Count"] == 1
    box = [float(v) for v in reader.root["/Pages"]["/Kids"][0]["/MediaBox"]]
    assert box == pytest.approx([0, 0, 595.276, 841.89], abs=0.01)


def test_same_content_renders_the_same_bytes(
    make_content: MakeContent, branding: IssuerBranding, rendered_pdf: bytes
) -> None:
    assert render_certificate(make_content(), branding=branding) == rendered_pdf


def test_prints_every_field(rendered_pdf: bytes, tmp_path: Path) -> None:
    text = pdf_text(rendered_pdf, tmp_path)
    for expected in [
        "Institut Linguistique de Lyon".upper(),
        "Certificat de résultats",
        "Certificate of results",
        "Łukasz Żółć",
        "12/03/1998",
        "LYO-2026-00042",
        "Diplôme de compétence en langue (DCL) — Anglais",
        "Anglais / English",
        "B2",
        "78.5 / 100",
        "Production orale / Speaking",
        "14/10/2026",
        "Centre d'examen de Lyon Part-Dieu",
        "20/11/2026",
        "3f2a9c0d5b7e4f11a2c3d4e5f6a7b8c9",
        "https://certs.ill.example.org/c/3f2a9c0d5b7e4f11a2c3d4e5f6a7b8c9",
        "signé électroniquement",
        "electronically signed",
    ]:
        assert expected in text


@pytest.mark.parametrize("name", NAMES)
def test_prints_names_in_any_european_script(
    name: str, make_content: MakeContent, branding: IssuerBranding, tmp_path: Path
) -> None:
    pdf = render_certificate(make_content(candidate_name=name), branding=branding)
    assert name in pdf_text(pdf, tmp_path)


def test_qr_code_opens_the_status_page(rendered_pdf: bytes, tmp_path: Path) -> None:
    if shutil.which("zbarimg") is None or shutil.which("pdftoppm") is None:
        pytest.skip("zbarimg (zbar-tools) or pdftoppm (poppler-utils) is not installed")
    (tmp_path / "certificate.pdf").write_bytes(rendered_pdf)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "150", "-singlefile", "certificate.pdf", "page"],
        cwd=tmp_path,
        check=True,
    )
    result = subprocess.run(
        ["zbarimg", "--quiet", "--raw", "page.png"], cwd=tmp_path, capture_output=True, check=True
    )
    assert result.stdout.decode().split() == [
        "https://certs.ill.example.org/c/3f2a9c0d5b7e4f11a2c3d4e5f6a7b8c9"
    ]


def test_metadata_carries_the_id_and_no_personal_data(rendered_pdf: bytes) -> None:
    info = info_of(rendered_pdf)
    assert info["/SceauCertificateId"] == "3f2a9c0d5b7e4f11a2c3d4e5f6a7b8c9"
    assert "3f2a9c0d5b7e4f11a2c3d4e5f6a7b8c9" in info["/Title"]
    for personal in ["Łukasz", "Żółć", "1998", "LYO-2026-00042", "R-2026-0042"]:
        assert not any(personal in value for value in info.values())


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"score": None, "score_max": None}, id="level_only"),
        pytest.param({"level": None, "skills": ()}, id="score_only"),
        pytest.param({"score_max": None}, id="score_without_maximum"),
        pytest.param(
            {
                "level": None,
                "score": None,
                "skills": (SkillResult(skill="Oral", score=Decimal("12.5")),),
            },
            id="skills_only",
        ),
    ],
)
def test_renders_each_kind_of_result(
    overrides: dict[str, object], make_content: MakeContent, branding: IssuerBranding
) -> None:
    pdf = render_certificate(make_content(**overrides), branding=branding)
    assert PdfFileReader(BytesIO(pdf)).root["/Pages"]["/Count"] == 1


def test_long_realistic_fields_still_fit(
    make_content: MakeContent, branding: IssuerBranding
) -> None:
    content = make_content(
        candidate_name="Ørjan Åsmund Константинопольская-Hernández de la Fuente",
        exam="Diplôme de compétence en langue étrangère professionnelle (DCL) — Anglais, "
        "épreuve intégrée de mise en situation professionnelle",
        centre="Centre d'examen agréé de la Chambre de commerce et d'industrie de Lyon "
        "Métropole Saint-Étienne Roanne, 69003 Lyon",
        skills=tuple(
            SkillResult(
                skill=f"Compétence {i} avec un intitulé long / Skill {i}", level=CefrLevel.B2
            )
            for i in range(render.MAX_SKILLS)
        ),
    )
    assert render_certificate(content, branding=branding).startswith(b"%PDF-")


def test_refuses_a_certificate_without_any_result(
    make_content: MakeContent, branding: IssuerBranding
) -> None:
    with pytest.raises(RenderError, match="no level, score or skill"):
        render_certificate(make_content(level=None, score=None, skills=()), branding=branding)


def test_refuses_more_skills_than_fit(make_content: MakeContent, branding: IssuerBranding) -> None:
    skills = tuple(SkillResult(skill=f"Skill {i}") for i in range(render.MAX_SKILLS + 1))
    with pytest.raises(RenderError, match="skill results"):
        render_certificate(make_content(skills=skills), branding=branding)


def test_refuses_text_that_cannot_fit(make_content: MakeContent, branding: IssuerBranding) -> None:
    content = make_content(
        candidate_name=" ".join(["Wolfeschlegelsteinhausenbergerdorff"] * 5),
        exam="Épreuve " * 25,
        centre="Centre " * 28,
    )
    with pytest.raises(RenderError):
        render_certificate(content, branding=branding)


def _forget_fonts() -> None:
    for cached in (fonts.chain, fonts._face, fonts._fallback_faces, shaping.shape_line):
        cached.cache_clear()


@pytest.fixture
def no_fonts(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Pretend Noto is not installed; the real fonts are found again afterwards."""
    monkeypatch.setattr(fonts, "NOTO_DIRECTORIES", (tmp_path,))
    _forget_fonts()
    yield
    monkeypatch.undo()
    _forget_fonts()


@pytest.mark.usefixtures("no_fonts")
def test_missing_font_is_a_render_error(
    make_content: MakeContent, branding: IssuerBranding
) -> None:
    with pytest.raises(RenderError, match="fonts-noto-core"):
        render_certificate(make_content(), branding=branding)


european_letters = st.characters(
    codec="utf-8",
    categories=["Lu", "Ll"],
    max_codepoint=0x04FF,  # Latin, Latin extended, IPA, Greek, Cyrillic
) | st.sampled_from("ạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ")


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(name=st.text(european_letters, min_size=1, max_size=40))
def test_any_european_name_renders(
    name: str, make_content: MakeContent, branding: IssuerBranding
) -> None:
    pdf = render_certificate(make_content(candidate_name=name), branding=branding)
    assert pdf.startswith(b"%PDF-")
