"""The admin page suspends and lifts a certificate on the real chain: CSRF, a note, the
revoker's role; refusals said in the page; the audit log names both changes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from offchain_store.tokens import AdminRole
from sceau.web.app import create_app
from tests.conftest import SceauEnv
from tests.sceau.test_admin_pages import csrf_of, signed_in
from tests.sceau.test_suspension import issue
from verifier.status import public_status

FORM = "/admin/suspensions"


@pytest.fixture
def browser(sceau_env: SceauEnv) -> Iterator[TestClient]:
    app = create_app(sceau_env.settings)
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        yield client


def test_a_revoker_suspends_then_lifts_a_certificate_from_the_revocations_page(
    sceau_env: SceauEnv, browser: TestClient
) -> None:
    [message] = issue(sceau_env, 1)
    cert = message.receipt.certificate_id
    engine = browser.app.state.sceau.engine  # type: ignore[attr-defined]

    signed_in(browser, sceau_env, AdminRole.AUDITOR)
    assert browser.get("/admin/revocations").status_code == 403
    browser.cookies.clear()
    signed_in(browser, sceau_env, AdminRole.REVOKER)
    page = browser.get("/admin/revocations?lang=en")
    assert 'action="/admin/suspensions"' in page.text and "Appeal under way" in page.text
    asked = {
        "certificate_id": cert,
        "change": "suspend",
        "reason": "appeal",
        "suspension_note": "recours",
    }
    for csrf in (None, "", csrf_of(page)[::-1]):
        form = asked | ({"csrf": csrf} if csrf is not None else {})
        assert browser.post(FORM, data=form).status_code == 403, csrf
    no_note = browser.post(FORM, data=asked | {"suspension_note": " ", "csrf": csrf_of(page)})
    assert no_note.status_code == 422 and cert in no_note.text, "the form keeps what was typed"
    status = public_status(engine, cert)
    assert status is not None and status.status == "issued"

    done = browser.post(FORM, data=asked | {"csrf": csrf_of(page)})
    assert done.status_code == 303 and done.headers["location"].endswith("outcome=suspended")
    assert (
        "Certificate suspended on chain" in browser.get(done.headers["location"] + "&lang=en").text
    )
    status = public_status(engine, cert)
    assert status is not None and (status.status, status.suspension_reason) == (
        "suspended",
        "appeal",
    )
    assert sceau_env.chain.client().suspension_of(message.receipt.leaf) is not None

    twice = browser.post(FORM, data=asked | {"reason": "inquiry", "csrf": csrf_of(page)})
    assert twice.status_code == 422 and "already suspended" in twice.text
    unknown = browser.post(FORM, data=asked | {"certificate_id": "ab" * 16, "csrf": csrf_of(page)})
    assert unknown.status_code == 404

    lifted = browser.post(FORM, data=asked | {"change": "lift", "csrf": csrf_of(page)})
    assert lifted.status_code == 303 and lifted.headers["location"].endswith("outcome=lifted")
    status = public_status(engine, cert)
    assert status is not None and status.status == "issued"
    assert sceau_env.chain.client().suspension_of(message.receipt.leaf) is None

    browser.cookies.clear()
    signed_in(browser, sceau_env, AdminRole.AUDITOR)
    audit = browser.get("/admin/audit?lang=en").text
    assert "Certificate suspended" in audit and "Suspension lifted" in audit
    assert "certificate.unsuspended" not in audit
