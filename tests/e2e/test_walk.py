"""The whole walk in a real browser, in French and in English, on the real server and chain."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from offchain_store.tokens import AdminRole, create_token
from sceau import compose
from sceau.web.i18n import WORDS
from tests.e2e.conftest import SCREENSHOTS, LiveSceau

AXE = Path(__file__).parents[2] / "node_modules" / "axe-core" / "axe.min.js"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


class Visitor:
    """One person's browser: a context in their language that records every request."""

    def __init__(self, browser: Any, live: LiveSceau, lang: str) -> None:
        self.live, self.lang = live, lang
        self.context = browser.new_context(
            locale="fr-FR" if lang == "fr" else "en-GB",
            extra_http_headers={"Accept-Language": lang},
            viewport=DESKTOP,
        )
        self.requests: list[str] = []
        self.page = self.context.new_page()
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.answers: list[str] = []  # every API answer, to explain a failure
        self.page.on(
            "response",
            lambda r: self.answers.append(f"{r.status} {r.url}") if "/api/" in r.url else None,
        )

    def words(self, key: str) -> str:
        return WORDS[self.lang][key]

    def goto(self, url: str) -> int:
        response = self.page.goto(url)
        assert response is not None
        self.page.wait_for_selector("body[data-ready=true]", state="attached", timeout=30_000)
        return int(response.status)

    def snapshot(self, name: str) -> None:
        """Screenshots at desktop and phone widths, and no serious accessibility violation."""
        SCREENSHOTS.mkdir(exist_ok=True)
        for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
            self.page.set_viewport_size(size)
            self.page.wait_for_timeout(300)
            self.page.screenshot(
                path=SCREENSHOTS / f"{name}-{self.lang}-{label}.png", full_page=True
            )
        self.page.set_viewport_size(DESKTOP)
        self.check_accessibility(name)

    def check_accessibility(self, name: str) -> None:
        # evaluate() runs through the DevTools protocol, so the page's strict CSP still holds.
        self.page.evaluate(AXE.read_text())
        result = self.page.evaluate("axe.run(document, {resultTypes: ['violations']})")
        serious = [
            f"{v['id']}: {v['help']} ({len(v['nodes'])} node(s))"
            for v in result["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        assert serious == [], f"{name} ({self.lang}): {serious}"

    def verdict_is(self, key: str) -> None:
        self.page.wait_for_function(
            polling=100,
            expression="expected => "
            "document.getElementById('verdict-word')?.textContent === expected",
            arg=self.words(f"verdict.{key}"),
            timeout=30_000,
        )

    def assert_same_origin_only(self) -> None:
        foreign = [
            url
            for url in self.requests
            if not url.startswith((self.live.base_url + "/", "data:", "blob:"))
        ]
        assert foreign == [], foreign
        assert self.errors == [], self.errors


def create_share(candidate: Visitor, recipient: str) -> str:
    page = candidate.page
    page.fill("#recipient", recipient)
    previous = page.input_value("#share-link")  # read before the click: the answer may be quick
    page.click("#share-form button[type=submit]")
    try:
        page.wait_for_function(
            polling=100,
            expression="previous => { const v = document.getElementById('share-link').value;"
            " return v && v !== previous; }",
            arg=previous,
        )
    except Exception as exc:
        raise AssertionError(f"no share link; API answers: {candidate.answers}") from exc
    return page.input_value("#share-link")


def approve_pending(live: LiveSceau, admin: Visitor) -> None:
    """The revoker signs in to the admin pages and approves every pending request."""
    engine = compose.database(live.env.settings)
    _, token = create_token(
        engine, name="e2e revoker", role=AdminRole.REVOKER, now=datetime.now(UTC)
    )
    page = admin.page
    assert admin.goto(f"{live.base_url}/admin/login") == 200
    admin.snapshot("admin-login")
    page.fill("#token", token)
    page.press("#token", "Enter")
    page.wait_for_url("**/admin**")
    assert admin.goto(f"{live.base_url}/admin/revocations") == 200
    admin.snapshot("admin-revocations")
    approved = 0
    while page.locator("textarea[name=note]").count():
        page.locator("textarea[name=note]").first.fill("Approved at the candidate's request")
        page.locator("button[value=approve]").first.click()
        page.wait_for_url("**/admin/revocations?outcome=approved*")
        approved += 1
    assert approved == 1
    assert token not in page.content()


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_walk_share_verify_tamper_end_revoke(
    browser: Any, live_sceau: LiveSceau, lang: str
) -> None:
    index = 0 if lang == "fr" else 2
    candidate = Visitor(browser, live_sceau, lang)
    employer = Visitor(browser, live_sceau, lang)

    assert candidate.goto(live_sceau.candidate_link(index)) == 200
    candidate.page.wait_for_selector("#mine:not([hidden])")
    candidate.page.wait_for_selector("#pages canvas")
    share_a = create_share(candidate, "ACME Ressources humaines")
    share_b = create_share(candidate, "Fonds de formation")
    candidate.page.wait_for_selector("#shares li:nth-child(2)")
    candidate.snapshot("candidate")

    assert employer.goto(share_a) == 200
    employer.verdict_is("VALID")
    employer.page.wait_for_selector("#pages canvas")
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

    funder = candidate.page.locator("#shares li", has_text="Fonds de formation")
    funder.get_by_role("button").click()
    candidate.page.wait_for_function(
        polling=100,
        expression="() => ![...document.querySelectorAll('#shares li')].some("
        "li => li.textContent.includes('Fonds de formation') && li.querySelector('button'))",
    )
    assert employer.goto(share_b) == 410
    assert employer.words("error.share_ended") in employer.page.inner_text("main")
    employer.snapshot("share-ended")

    candidate.page.fill("#explanation", "Je ne souhaite plus partager ce résultat.")
    candidate.page.click("#request-form button[type=submit]")
    candidate.page.wait_for_function(
        polling=100,
        expression="expected => document.getElementById('request-done').textContent === expected",
        arg=candidate.words("request_sent"),
    )

    admin = Visitor(browser, live_sceau, lang)
    approve_pending(live_sceau, admin)

    assert employer.goto(share_a) == 410
    assert employer.words("error.revoked") in employer.page.inner_text("main")
    employer.snapshot("share-revoked")

    for visitor in (candidate, employer, admin):
        visitor.assert_same_origin_only()
        visitor.context.close()
