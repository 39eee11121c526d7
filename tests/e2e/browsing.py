"""One person's browser on the live server, and the checks every page passes."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from offchain_store.tokens import AdminRole, create_token
from sceau import compose
from sceau.web.i18n import WORDS
from tests.e2e.conftest import SCREENSHOTS, LiveSceau

AXE = Path(__file__).parents[2] / "node_modules" / "axe-core" / "axe.min.js"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
# A code such as holder_request, share_ended or wrong_link_key: never for a reader's eyes.
RAW_CODE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
TAKE_SCREENSHOTS = os.environ.get("SCEAU_SCREENSHOTS") == "1"
# Resolves after two frames: the layout of a resized viewport has been computed and painted.
NEXT_FRAMES = "new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))"


@cache
def _axe_source() -> str:
    return AXE.read_text()


class Visitor:
    """One person's browser: a context in their language that records every request."""

    def __init__(self, browser: Any, live: LiveSceau, lang: str) -> None:
        self.live, self.lang = live, lang
        self.context = browser.new_context(
            locale="fr-FR" if lang == "fr" else "en-GB",
            timezone_id="UTC",
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
        if self.page.url.split("#")[0] == url.split("#")[0]:
            self.page.goto("about:blank")  # else only the fragment changes: no page load
        response = self.page.goto(url)
        assert response is not None
        self.page.wait_for_selector("body[data-ready=true]", state="attached", timeout=30_000)
        return int(response.status)

    def snapshot(self, name: str, *, shows_field_names: bool = False) -> None:
        """The checks every page passes: no wider than a phone, no raw code (but for the import
        pages, which name a results file's columns and our fields), and no serious
        accessibility violation. With SCEAU_SCREENSHOTS=1 it also saves the page at desktop
        and phone widths under tests/e2e/screenshots/ (they assert nothing, so not by default)."""
        if TAKE_SCREENSHOTS:
            SCREENSHOTS.mkdir(exist_ok=True)
            self._screenshot(f"{name}-{self.lang}-desktop")
        self._resize(PHONE)
        if TAKE_SCREENSHOTS:
            self._screenshot(f"{name}-{self.lang}-phone")
        self.assert_fits_phone(name)
        self._resize(DESKTOP)
        if not shows_field_names:
            self.assert_no_raw_code(name)
        self.check_accessibility(name)

    def _resize(self, size: dict[str, int]) -> None:
        """The viewport at `size`, once the page has laid itself out again."""
        self.page.set_viewport_size(size)
        self.page.evaluate(NEXT_FRAMES)

    def _screenshot(self, file_name: str) -> None:
        self.page.wait_for_timeout(300)  # let images and pdf.js finish drawing for the eye
        self.page.screenshot(path=SCREENSHOTS / f"{file_name}.png", full_page=True)

    def assert_fits_phone(self, name: str) -> None:
        width = self.page.evaluate("document.documentElement.scrollWidth")
        wide = self.page.evaluate(
            "limit => [...document.querySelectorAll('body *')]"
            ".filter(e => e.getBoundingClientRect().right > limit + 0.5)"
            ".slice(0, 5).map(e => e.tagName + '.' + e.className + '#' + e.id)",
            PHONE["width"],
        )
        assert width <= PHONE["width"], f"{name} ({self.lang}) is {width} px wide: {wide}"

    def assert_no_raw_code(self, name: str) -> None:
        text = self.page.evaluate("document.title + '\\n' + document.body.innerText")
        assert RAW_CODE.findall(text) == [], f"{name} ({self.lang}) shows a code: {text}"

    def check_accessibility(self, name: str) -> None:
        # evaluate() runs through the DevTools protocol, so the page's strict CSP still holds.
        if not self.page.evaluate("typeof axe !== 'undefined'"):  # once per page load
            self.page.evaluate(_axe_source())
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

    def headline(self) -> str:
        """The words heading the page (the first visible h1 or h2 in main)."""
        return str(self.page.locator("main h1:visible, main h2:visible").first.inner_text()).strip()

    def assert_same_origin_only(self) -> None:
        foreign = [
            url
            for url in self.requests
            if not url.startswith((self.live.base_url + "/", "data:", "blob:"))
        ]
        assert foreign == [], foreign
        assert self.errors == [], self.errors


def create_share(
    candidate: Visitor, recipient: str, *, days: int = 30, max_opens: int | None = None
) -> str:
    page = candidate.page
    page.fill("#recipient", recipient)
    page.fill("#days", str(days))
    page.fill("#max-opens", "" if max_opens is None else str(max_opens))
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
    return str(page.input_value("#share-link"))


def end_share(candidate: Visitor, recipient: str) -> None:
    """The candidate ends the share sent to `recipient` from their page."""
    share = candidate.page.locator("#shares li", has_text=recipient)
    share.get_by_role("button").click()
    candidate.page.wait_for_function(
        polling=100,
        expression="recipient => ![...document.querySelectorAll('#shares li')].some("
        "li => li.textContent.includes(recipient) && li.querySelector('button'))",
        arg=recipient,
    )


def ask_revocation(candidate: Visitor) -> None:
    candidate.page.fill("#explanation", "Je ne souhaite plus partager ce résultat.")
    candidate.page.click("#request-form button[type=submit]")
    candidate.page.wait_for_function(
        polling=100,
        expression="expected => document.getElementById('request-done').textContent === expected",
        arg=candidate.words("request_sent"),
    )


def sign_in(live: LiveSceau, admin: Visitor, role: AdminRole) -> str:
    """The admin signs in with a fresh token of `role`; returns the token."""
    engine = compose.database(live.env.settings)
    _, token = create_token(engine, name=f"e2e {role}", role=role, now=datetime.now(UTC))
    assert admin.goto(f"{live.base_url}/admin/login") == 200
    admin.snapshot("admin-login")
    admin.page.fill("#token", token)
    admin.page.press("#token", "Enter")
    admin.page.wait_for_url("**/admin**")
    return token


def approve_pending(live: LiveSceau, admin: Visitor) -> None:
    """The revoker signs in to the admin pages and approves every pending request."""
    token = sign_in(live, admin, AdminRole.REVOKER)
    page = admin.page
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


def other_key(link: str) -> str:
    """The same link with its key mistyped: one character of the fragment changed."""
    base, key = link.split("#", 1)
    return f"{base}#{'B' if key[0] == 'A' else 'A'}{key[1:]}"
