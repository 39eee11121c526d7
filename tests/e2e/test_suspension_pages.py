"""A suspended certificate in a real browser: its share page says SUSPENDED, since when and
why, in French and in English; once the suspension is lifted the same share says VALID."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from issuer.suspension import lift_now, suspend_now
from sceau import compose
from sceau.web.i18n import Translator
from tests.e2e.browsing import Visitor, create_share
from tests.e2e.conftest import LiveSceau
from tests.e2e.test_pages import open_candidate_page
from tests.sceau.test_suspension import may_suspend

LANGS = ("fr", "en")


def test_a_suspended_share_says_so_with_its_reason_then_valid_once_lifted(
    browser: Any, live_sceau: LiveSceau
) -> None:
    live = live_sceau
    cert = live.messages[0].receipt.certificate_id
    candidate = open_candidate_page(browser, live, 0)
    share = create_share(candidate, "ACME Ressources humaines")
    may_suspend(live.env)
    settings = live.env.settings
    suspensions = compose.suspensions(settings, engine=compose.database(settings))
    outcome = suspend_now(
        suspensions,
        cert,
        reason="appeal",
        note="recours déposé",
        actor="e2e",
        now=datetime.now(UTC),
    )
    assert outcome.suspended and outcome.since is not None

    for lang in LANGS:
        t = Translator(lang)
        reader = Visitor(browser, live, lang)
        assert reader.goto(share) == 200
        reader.verdict_is("SUSPENDED")
        expected = t.suspended_headline(outcome.since, "appeal", key="suspended")
        assert t.suspension_reason("appeal") in expected and t.day(outcome.since) in expected
        explained = reader.page.inner_text("#verdict-explain")
        assert explained.startswith(expected), explained
        assert t("verdict.SUSPENDED.explain") in explained
        assert t("suspended.explain") in reader.page.inner_text("#suspension-note")
        assert reader.page.locator(".verdict-SUSPENDED").count() >= 1
        reader.snapshot("share-suspended")
        reader.assert_same_origin_only()
        reader.context.close()

    lifted = lift_now(suspensions, cert, note="recours rejeté", actor="e2e", now=datetime.now(UTC))
    assert not lifted.suspended
    for lang in LANGS:
        reader = Visitor(browser, live, lang)
        assert reader.goto(share) == 200
        reader.verdict_is("VALID")
        assert reader.page.locator("#suspension-note").count() == 0
        assert Translator(lang)("status_suspended") not in reader.page.inner_text("#verdict")
        reader.assert_same_origin_only()
        reader.context.close()
    candidate.assert_same_origin_only()
    candidate.context.close()
