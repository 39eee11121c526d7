"""The whole walk in a real browser, in French and in English, on the real server and chain."""

from __future__ import annotations

from typing import Any

import pytest

from sceau.web.i18n import Translator
from tests.e2e.browsing import Visitor, approve_pending, ask_revocation, create_share, end_share
from tests.e2e.conftest import LiveSceau
from tests.sceau.helpers import certificates


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_walk_share_verify_tamper_end_revoke(
    browser: Any, module_live_sceau: LiveSceau, lang: str
) -> None:
    """One batch per backend (SQLite, PostgreSQL): each language walks its own certificate."""
    live_sceau = module_live_sceau
    index = 0 if lang == "fr" else 2
    candidate = Visitor(browser, live_sceau, lang)
    employer = Visitor(browser, live_sceau, lang)

    assert candidate.goto(live_sceau.candidate_link(index)) == 200
    candidate.page.wait_for_selector("#mine:not([hidden])")
    candidate.page.wait_for_selector("#pages[data-shown] canvas")
    share_a = create_share(candidate, "ACME Ressources humaines")
    share_b = create_share(candidate, "Fonds de formation")
    candidate.page.wait_for_selector("#shares li:nth-child(2)")
    candidate.snapshot("candidate")

    assert employer.goto(share_a) == 200
    employer.verdict_is("VALID")
    employer.page.wait_for_selector("#pages[data-shown] canvas")
    employer.snapshot("share-valid")

    tampered = bytearray(live_sceau.messages[index].pdf)
    tampered[len(tampered) // 2] ^= 0x01
    assert employer.goto(f"{live_sceau.base_url}/check") == 200
    employer.page.set_input_files(
        "#file",
        files=[
            {"name": "certificate.pdf", "mimeType": "application/pdf", "buffer": bytes(tampered)}
        ],
    )
    employer.verdict_is("INVALID")
    employer.snapshot("check-tampered")

    cert_id = live_sceau.messages[index].receipt.certificate_id
    assert employer.goto(f"{live_sceau.base_url}/c/{cert_id}") == 200
    employer.snapshot("status")

    end_share(candidate, "Fonds de formation")
    assert employer.goto(share_b) == 410
    assert employer.headline() == employer.words("error.share_ended.title")
    employer.snapshot("share-ended")

    ask_revocation(candidate)

    admin = Visitor(browser, live_sceau, lang)
    approve_pending(live_sceau, admin)

    assert employer.goto(share_a) == 410
    revoked = next(c for c in certificates(live_sceau.env.settings.database_url) if c.id == cert_id)
    expected = Translator(lang).revoked_headline(revoked.revoked_at, "holder_request")
    assert employer.headline() == expected
    employer.snapshot("share-revoked")

    for visitor in (candidate, employer, admin):
        visitor.assert_same_origin_only()
        visitor.context.close()
