"""Pages headed by what happened, in French and in English, in a real browser: an ended,
expired, used-up, unknown share; a revoked certificate; a link whose key was mistyped."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session

from offchain_store.records import ShareRecord, make_engine
from sceau.web.i18n import Translator
from tests.e2e.browsing import (
    Visitor,
    approve_pending,
    ask_revocation,
    create_share,
    end_share,
    other_key,
)
from tests.e2e.conftest import LiveSceau
from tests.sceau.helpers import certificates, run_sceau

LANGS = ("fr", "en")
VERDICTS = ("VALID", "INVALID", "REVOKED", "ERROR")


def share_id_of(link: str) -> str:
    return link.split("/s/", 1)[1].split("#", 1)[0]


def expiry_of(live: LiveSceau, link: str) -> datetime:
    engine = make_engine(live.env.settings.database_url)
    with Session(engine) as session:
        share = session.get(ShareRecord, share_id_of(link))
        assert share is not None
        expires = share.expires_at
    engine.dispose()
    return expires if expires.tzinfo else expires.replace(tzinfo=UTC)


def revoked_at(live: LiveSceau, certificate_id: str) -> datetime:
    record = next(c for c in certificates(live.env.settings.database_url) if c.id == certificate_id)
    assert record.revoked_at is not None, "the certificate was not revoked"
    return record.revoked_at


def open_candidate_page(browser: Any, live: LiveSceau, index: int) -> Visitor:
    candidate = Visitor(browser, live, "fr")
    assert candidate.goto(live.candidate_link(index)) == 200
    candidate.page.wait_for_selector("#mine:not([hidden])")
    return candidate


def assert_no_verdict(reader: Visitor) -> None:
    text = reader.page.inner_text("main")
    said = [v for v in VERDICTS if reader.words(f"verdict.{v}") in text]
    assert said == [], f"a verdict about the certificate: {said} in {text}"


def test_each_ended_share_is_headed_by_what_happened(browser: Any, live_sceau: LiveSceau) -> None:
    live = live_sceau
    candidate = open_candidate_page(browser, live, 1)
    ended = create_share(candidate, "Ended Ltd")
    expiring = create_share(candidate, "Expiring SA", days=1)
    once = create_share(candidate, "Once Only GmbH", max_opens=1)
    candidate.page.wait_for_selector("#shares li:nth-child(3)")
    end_share(candidate, "Ended Ltd")
    first = Visitor(browser, live, "en")
    assert first.goto(once) == 200
    first.verdict_is("VALID")  # the one opening the candidate allowed
    unknown = f"{live.base_url}/s/{secrets.token_hex(16)}#{ended.split('#', 1)[1]}"
    expires = expiry_of(live, expiring)

    for lang in LANGS:
        reader = Visitor(browser, live, lang)
        assert reader.goto(ended) == 410
        assert reader.headline() == reader.words("error.share_ended.title")
        assert reader.words("error.share_ended") in reader.page.inner_text("main")
        reader.snapshot("share-ended")

        assert reader.goto(once) == 410
        assert reader.headline() == reader.words("error.share_exhausted.title")
        reader.snapshot("share-exhausted")

        assert reader.goto(unknown) == 404
        assert reader.headline() == reader.words("error.share_unknown.title")
        reader.snapshot("share-unknown")

        live.clock.ahead = timedelta(days=2)  # the day after the share's last day
        try:
            assert reader.goto(expiring) == 410
            assert reader.headline() == Translator(lang).expired_headline(expires)
        finally:
            live.clock.ahead = timedelta()
        reader.snapshot("share-expired")
        assert reader.goto(expiring) == 200  # back to today: the same share opens
        reader.verdict_is("VALID")

        reader.assert_same_origin_only()
        reader.context.close()
    for visitor in (candidate, first):
        visitor.assert_same_origin_only()
        visitor.context.close()


def test_a_revoked_certificate_is_headed_by_when_and_why(
    browser: Any, live_sceau: LiveSceau
) -> None:
    live = live_sceau
    by_holder, for_fraud = live.messages[0], live.messages[3]
    candidate = open_candidate_page(browser, live, 0)
    share = create_share(candidate, "ACME Ressources humaines")
    ask_revocation(candidate)
    admin = Visitor(browser, live, "en")
    approve_pending(live, admin)
    fraud_link = live.candidate_link(3)
    fraud_share = create_share(open_candidate_page(browser, live, 3), "Fonds de formation")
    done = run_sceau(
        live.env.config_file,
        "revoke",
        for_fraud.receipt.certificate_id,
        "--reason",
        "fraud",
        "--note",
        "Forged exam sheet",
    )
    assert done.returncode == 0, done.stderr
    holder_day = revoked_at(live, by_holder.receipt.certificate_id)
    fraud_day = revoked_at(live, for_fraud.receipt.certificate_id)

    for lang in LANGS:
        t = Translator(lang)
        reader = Visitor(browser, live, lang)
        expected = t.revoked_headline(holder_day, "holder_request")
        assert t("reason.holder_request") in expected and t.day(holder_day) in expected
        assert reader.goto(share) == 410
        assert reader.headline() == expected
        reader.snapshot("share-revoked")
        assert reader.goto(live.candidate_link(0)) == 410
        assert reader.headline() == expected
        reader.snapshot("candidate-revoked")
        assert reader.goto(f"{live.base_url}/c/{by_holder.receipt.certificate_id}") == 200
        assert expected in reader.page.inner_text("main")
        reader.snapshot("status-revoked")

        expected = t.revoked_headline(fraud_day, "fraud")
        assert t("reason.fraud") in expected
        for link in (fraud_share, fraud_link):
            assert reader.goto(link) == 410
            assert reader.headline() == expected
        reader.snapshot("share-revoked-fraud")

        # A kept copy of the revoked PDF, dropped on the check page: the script says the same.
        assert reader.goto(f"{live.base_url}/check") == 200
        reader.page.set_input_files(
            "#file",
            files=[{"name": "c.pdf", "mimeType": "application/pdf", "buffer": for_fraud.pdf}],
        )
        reader.verdict_is("REVOKED")
        explained = reader.page.inner_text("#verdict-explain")
        assert explained.startswith(t.revoked_headline(fraud_day, "fraud")), explained
        reader.snapshot("check-revoked")
        reader.assert_same_origin_only()
        reader.context.close()
    for visitor in (candidate, admin):
        visitor.assert_same_origin_only()
        visitor.context.close()


def test_a_mistyped_link_says_so_and_gives_no_verdict(browser: Any, live_sceau: LiveSceau) -> None:
    live = live_sceau
    candidate = open_candidate_page(browser, live, 2)
    share = create_share(candidate, "ACME Ressources humaines")
    own = live.candidate_link(2)
    links = {
        "share-wrong-key": other_key(share),
        "share-cut-key": share[:-6],
        "candidate-wrong-key": other_key(own),
        "candidate-cut-key": own[:-6],
    }
    for lang in LANGS:
        reader = Visitor(browser, live, lang)
        for name, link in links.items():
            assert reader.goto(link) == 200
            reader.page.wait_for_selector("#problem:not([hidden])")
            assert reader.headline() == reader.words("error.wrong_link_key.title"), name
            assert reader.words("error.wrong_link_key") in reader.page.inner_text("main")
            assert_no_verdict(reader)
            assert reader.page.locator("#result, #mine").first.is_hidden()
            reader.snapshot(name)
        opened = [a for a in reader.answers if "/api/v1/me/" in a]
        assert opened and all(a.startswith("403 ") for a in opened), reader.answers
        reader.assert_same_origin_only()
        reader.context.close()
    # The share still opens with its own key: nothing was used up by the wrong ones.
    employer = Visitor(browser, live, "en")
    assert employer.goto(share) == 200
    employer.verdict_is("VALID")
    for visitor in (candidate, employer):
        visitor.assert_same_origin_only()
        visitor.context.close()


def test_the_share_page_reads_a_wrong_link_key_answer(browser: Any, live_sceau: LiveSceau) -> None:
    """The API's 403 wrong_link_key answer (the verifier's way for a key that does not open the
    share) heads the page with the same words, in both languages."""
    live = live_sceau
    candidate = open_candidate_page(browser, live, 1)
    share = create_share(candidate, "ACME Ressources humaines")
    answer = {"code": "wrong_link_key", "message": "The link key does not open this."}
    for lang in LANGS:
        reader = Visitor(browser, live, lang)
        reader.page.route(
            "**/api/v1/shares/*/open",
            lambda route: route.fulfill(
                status=403, content_type="application/json", body=json.dumps(answer)
            ),
        )
        assert reader.goto(share) == 200
        reader.page.wait_for_selector("#problem:not([hidden])")
        assert reader.headline() == reader.words("error.wrong_link_key.title")
        assert_no_verdict(reader)
        reader.assert_no_raw_code("share-403")
        reader.context.close()
    candidate.context.close()
