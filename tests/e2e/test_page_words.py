"""The words of the pages: both languages complete, every revocation reason worded, no code."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from contracts.client import RevocationReason
from sceau.web.i18n import WORDS, Translator
from tests.e2e.browsing import RAW_CODE

REASONS = [r.name.lower() for r in RevocationReason if r is not RevocationReason.UNSPECIFIED]
FIRST_OF_DECEMBER = datetime(2026, 12, 1, 22, 30, tzinfo=UTC)


def test_french_and_english_have_the_same_words() -> None:
    assert set(WORDS["fr"]) == set(WORDS["en"])


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("fr", "Ce certificat a été révoqué le 1er décembre 2026 à la demande de son titulaire"),
        ("en", "This certificate was revoked on 1 December 2026 at the holder's request"),
    ],
)
def test_a_revocation_is_told_with_its_day_and_reason(lang: str, expected: str) -> None:
    assert Translator(lang).revoked_headline(FIRST_OF_DECEMBER, "holder_request") == expected


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("reason", REASONS)
def test_every_revocation_reason_has_its_own_words(lang: str, reason: str) -> None:
    t = Translator(lang)
    headline = t.revoked_headline(FIRST_OF_DECEMBER, reason)
    others = {t.revoked_headline(FIRST_OF_DECEMBER, r) for r in REASONS if r != reason}
    assert headline not in others
    assert RAW_CODE.findall(headline) == [] and RAW_CODE.findall(t.reason_name(reason)) == []
    words = t.js_words()  # the page's script words a report's reason the same way
    assert words[f"reason.{reason}"] in headline and f"reason_name.{reason}" in words


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("reason", [None, "unspecified", "a_future_reason"])
def test_a_reason_without_words_is_never_shown_as_its_code(lang: str, reason: str | None) -> None:
    t = Translator(lang)
    undated = t("error.revoked.title.no_reason")
    assert t.revoked_headline(FIRST_OF_DECEMBER, reason) == undated.format(
        date=t.day(FIRST_OF_DECEMBER)
    )
    assert t.reason_name(reason) == t("reason_name.unspecified")


@pytest.mark.parametrize(
    ("lang", "ended", "mistyped"),
    [
        ("fr", "Ce partage a été clos par le candidat", "Ce lien est incomplet ou mal recopié"),
        ("en", "This share was ended by the candidate", "This link is incomplete or mistyped"),
    ],
)
def test_the_ended_and_mistyped_link_headlines(lang: str, ended: str, mistyped: str) -> None:
    t = Translator(lang)
    assert t("error.share_ended.title") == ended
    assert t("error.wrong_link_key.title") == mistyped


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_no_word_of_a_page_holds_a_code(lang: str) -> None:
    # {placeholders} are filled before anyone reads them
    coded = {k: v for k, v in WORDS[lang].items() if RAW_CODE.search(re.sub(r"\{\w+\}", "", v))}
    assert coded == {}
