"""Printable letters: the private link in words and as a QR code, in the candidate's language."""

from __future__ import annotations

import logging
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from issuer.delivery import candidate_language
from issuer.letters import DeliveryLetter, LetterError, delivery_letter, render_letters

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
