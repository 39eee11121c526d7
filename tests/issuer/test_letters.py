"""Printable letters: the private link in words and as a QR code, in the candidate's language."""

from __future__ import annotations

import logging
import re
import subprocess
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

from issuer.delivery import candidate_language
from issuer.letters import WORDS, DeliveryLetter, LetterError, delivery_letter, render_letters
from tests.issuer.test_scripts import (
    NAMES,
    drawn_characters,
    embedded_fonts,
    page_content,
    pdftotext,
)

CERTIFICATE_ID = "3f2a9c0d4b6e48a1b7c5d2e1f0a9b8c7"
KEY = "q8Jd0pX3m1Zr7sT9vY2wA5bC6dE4fG8hK0lN3oP5r7s"
LINK = f"https://certs.example.org/me/{CERTIFICATE_ID}#{KEY}"


def letter(**changes: Any) -> DeliveryLetter:
    fields: dict[str, Any] = {
        "certificate_id": CERTIFICATE_ID,
        "candidate_name": "Nguyễn Thị Minh Khai",
        "candidate_number": "LYO-2026-00042",
        "issuer_name": "Centre d'examens de Lyon",
        "private_link": LINK,
        "language": "fr",
    }
    return delivery_letter(**(fields | changes))


def text_of(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "letters.pdf"
    path.write_bytes(pdf)
    done = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True)
    return done.stdout


def qr_codes(pdf: bytes, tmp_path: Path) -> list[str]:
    path = tmp_path / "qr.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "100", "-png", str(path), str(tmp_path / "page")], check=True)
    found = []
    for image in sorted(tmp_path.glob("page*.png")):
        scan = subprocess.run(
            ["zbarimg", "-q", "--raw", str(image)], capture_output=True, text=True
        )
        found += scan.stdout.split()
    return found


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("fr", ("Votre lien personnel", "Gardez cette lettre pour vous", "révocation")),
        ("en", ("Your private link", "Keep this letter to yourself", "revoked")),
    ],
)
def test_letter_holds_the_link_its_qr_code_and_what_to_do(
    language: str, words: tuple[str, ...], tmp_path: Path
) -> None:
    pdf = render_letters([letter(language=language)])
    text = text_of(pdf, tmp_path)
    flat = re.sub(r"\s+", "", text)
    assert LINK in flat  # printed in full, to be typed
    assert qr_codes(pdf, tmp_path) == [LINK]
    for expected in (*words, "Nguyễn Thị Minh Khai", "LYO-2026-00042", "Centre d'examens de Lyon"):
        assert expected in text
    other = {"fr": "Your private link", "en": "Votre lien personnel"}[language]
    assert other not in text


def test_a_pack_has_one_page_per_letter_in_order(tmp_path: Path) -> None:
    ids = ["a" * 32, "b" * 32, "c" * 32]
    links = [f"https://certs.example.org/me/{i}#{KEY}" for i in ids]
    pdf = render_letters(
        [letter(certificate_id=i, private_link=link) for i, link in zip(ids, links, strict=True)]
    )
    pages = [page for page in text_of(pdf, tmp_path).split("\f") if page.strip()]
    on_each = [[i for i in ids if i in re.sub(r"\s+", "", page)] for page in pages]
    assert on_each == [[i] for i in ids]
    assert qr_codes(pdf, tmp_path) == links


def test_names_in_other_scripts_are_drawn_with_a_font_that_has_them(tmp_path: Path) -> None:
    names = ("Σωκράτης Παπαδόπουλος", "Иван Петров", "Zoë Ångström-Łęcka")
    text = text_of(render_letters([letter(candidate_name=name) for name in names]), tmp_path)
    assert all(name in text for name in names)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"private_link": f"https://certs.example.org/me/{CERTIFICATE_ID}"}, "private_link"),
        ({"private_link": f"ftp://certs.example.org/me/{CERTIFICATE_ID}#{KEY}"}, "private_link"),
        ({"private_link": f"https://certs.example.org/s/{CERTIFICATE_ID}#{KEY}"}, "private_link"),
        ({"certificate_id": "not-an-id"}, "certificate_id"),
        ({"candidate_name": "Jeanne\nMartin"}, "candidate_name"),
        ({"candidate_name": "Ana 😀 Lima"}, "candidate_name"),
        ({"issuer_name": "Centre \ue000"}, "issuer_name"),
        ({"issuer_name": ""}, "issuer_name"),
    ],
)
def test_a_bad_letter_is_refused_without_echoing_the_link(
    changes: dict[str, str], field: str
) -> None:
    with pytest.raises(LetterError) as refused:
        letter(**changes)
    assert field in str(refused.value)
    assert KEY not in str(refused.value) and "certs.example.org" not in str(refused.value)


def test_the_letter_model_never_shows_its_link(caplog: pytest.LogCaptureFixture) -> None:
    model = letter()
    caplog.set_level(logging.DEBUG)
    render_letters([model])
    assert KEY not in repr(model) and KEY not in str(model)
    assert KEY not in caplog.text


def test_an_empty_pack_is_refused() -> None:
    with pytest.raises(LetterError):
        render_letters([])


@pytest.mark.parametrize(
    ("recorded", "issuer", "expected"),
    [
        ("en", "fr", "en"),
        ("fr", "en", "fr"),
        ("EN ", "fr", "en"),
        (None, "fr", "fr"),
        ("", "en", "en"),
        ("de", "en", "en"),
        (None, "de", "fr"),
    ],
)
def test_the_candidates_language_is_the_rows_else_the_issuers_else_french(
    recorded: str | None, issuer: str, expected: str
) -> None:
    assert candidate_language(recorded, issuer) == expected


@pytest.fixture(scope="module")
def letter_per_script() -> dict[str, bytes]:
    """One pack of one letter per script, each named in it (the certificates' test names)."""
    return {
        script: render_letters([letter(certificate_id=f"{index:032x}", candidate_name=name)])
        for index, (script, name) in enumerate(NAMES.items())
    }


@pytest.mark.parametrize("script", NAMES)
def test_pdftotext_gives_back_the_name_in_every_script(
    script: str, letter_per_script: dict[str, bytes], tmp_path: Path
) -> None:
    assert NAMES[script] in pdftotext(letter_per_script[script], tmp_path)


@pytest.mark.parametrize("script", NAMES)
def test_every_character_of_the_name_is_drawn_by_an_embedded_font(
    script: str, letter_per_script: dict[str, bytes]
) -> None:
    pdf = letter_per_script[script]
    drawn = set().union(*(drawn_characters(font) for font in embedded_fonts(pdf)))
    assert {c for c in NAMES[script] if not c.isspace()} - drawn == set()
    assert b"<0000>" not in page_content(pdf)  # CID 0: the missing-glyph box


def test_every_line_of_a_pack_is_drawn_by_embedded_fonts_only(tmp_path: Path) -> None:
    pdf = render_letters([letter(candidate_name=name) for name in NAMES.values()])
    reader = PdfFileReader(BytesIO(pdf))
    pages = reader.root["/Pages"]["/Kids"]
    assert len(pages) == len(NAMES)
    for page in (reference.get_object() for reference in pages):
        assert b"<0000>" not in page["/Contents"].data
        for reference in page["/Resources"]["/Font"].values():
            font = reference.get_object()
            assert font["/Subtype"] == "/Type0"
            assert "/FontFile2" in font["/DescendantFonts"][0]["/FontDescriptor"]
    lines = pdftotext(pdf, tmp_path)
    assert [name for name in NAMES.values() if name in lines] == list(NAMES.values())
    assert qr_codes(pdf, tmp_path) == [LINK] * len(NAMES)


def test_a_right_to_left_issuer_name_opening_a_sentence_keeps_it_left_to_right(
    tmp_path: Path,
) -> None:
    issuer = "مركز الامتحانات"
    pdf = render_letters([letter(issuer_name=issuer)])
    (line,) = [line for line in pdftotext(pdf, tmp_path) if "vous a délivré" in line]
    # A French line reads left to right: the name on the left, then the words in their order.
    intro = WORDS["fr"].intro.format(issuer=issuer)
    assert intro.replace(" ", "").startswith(line.replace(" ", ""))
    assert "\u200e" not in line
