"""A presentation report speaks French and English all through: every reason the verifier
gives (`detail`) has words in both, and no message shows a code."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import verifier.presentation
from tests.e2e.browsing import RAW_CODE
from verifier.presentation_report import (
    DETAIL_WORDS,
    WALLET_MESSAGES,
    PresentationCheck,
    PresentationCheckName,
)
from verifier.report import CheckStatus

SOURCE = Path(verifier.presentation.__file__)
# The functions whose returned strings become a check's `detail`.
DETAIL_FUNCTIONS = {"_chain_problem", "_kb_claims"}


def details_the_verifier_gives() -> set[str]:
    """Every literal reason in verifier/presentation.py: Malformed(...), detail=..., and the
    strings its problem-finding functions return."""
    found: list[ast.expr | None] = []
    for node in ast.walk(ast.parse(SOURCE.read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "Malformed":
            found.extend(node.args)
        if isinstance(node, ast.keyword) and node.arg == "detail":
            found.append(node.value)
        if isinstance(node, ast.FunctionDef) and node.name in DETAIL_FUNCTIONS:
            found.extend(r.value for r in ast.walk(node) if isinstance(r, ast.Return))
    return {n.value for n in found if isinstance(n, ast.Constant) and isinstance(n.value, str)}


def test_the_scan_finds_the_verifier_s_reasons() -> None:
    found = details_the_verifier_gives()
    assert {"typ or alg", "an empty disclosure", "unreadable", "x5c is not an unbroken chain"} <= (
        found
    )


def test_every_reason_the_verifier_gives_has_words_in_both_languages() -> None:
    assert details_the_verifier_gives() - set(DETAIL_WORDS) == set()


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_no_message_or_reason_shows_a_code(lang: str) -> None:
    texts = [getattr(m, lang) for m in (*WALLET_MESSAGES.values(), *DETAIL_WORDS.values())]
    coded = [t for t in texts if RAW_CODE.search(re.sub(r"\{\w+\}", "", t))]
    assert coded == []


def test_a_reason_is_said_in_the_message_s_language_and_kept_for_programs() -> None:
    check = PresentationCheck.of(
        PresentationCheckName.FORMAT,
        CheckStatus.INVALID,
        "presentation_malformed",
        detail="the sceau_anchor claim is missing or malformed",
    )
    assert check.message_fr.endswith(
        ": la preuve d'ancrage de l'attestation manque ou est illisible."
    )
    assert check.message_en.endswith(": the credential's anchoring proof is missing or unreadable.")
    assert check.details == {"detail": "the sceau_anchor claim is missing or malformed"}


def test_a_reason_without_words_is_shown_as_given() -> None:
    check = PresentationCheck.of(
        PresentationCheckName.KEY_BINDING,
        CheckStatus.INVALID,
        "key_binding_invalid",
        detail="something new",
    )
    assert check.message_fr.endswith(": something new.") and check.message_en.endswith(
        ": something new."
    )
