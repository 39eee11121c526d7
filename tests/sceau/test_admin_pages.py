"""Admin pages: sign-in, session cookie, roles, CSRF, import with progress, revocation, audit."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session

from contracts.errors import RpcUnavailable
from issuer.revocation import requests
from offchain_store.records import BatchState, RequestState
from offchain_store.tokens import AdminRole, create_token, revoke_token
from sceau import compose
from sceau.web import admin_pages
from sceau.web.admin_pages import ADMIN_WORDS, OUTCOMES, SECTIONS
from sceau.web.app import create_app
from sceau.web.import_jobs import ERROR_KINDS, JOB_PHASES, ImportJobs
from tests.conftest import SceauEnv
from tests.sceau.helpers import certificates, read_outbox, run_sceau, subset_of_sample

TEMPLATES = Path(admin_pages.__file__).parent / "templates"
PAGES = ("/admin", "/admin/import", "/admin/batches", "/admin/revocations", "/admin/audit")
CSRF_FIELD = re.compile(r'name="csrf" value="([0-9a-f]+)"')


@pytest.fixture
def app(sceau_env: SceauEnv) -> Iterator[FastAPI]:
    app = create_app(sceau_env.settings)
    if not any(getattr(route, "path", "") == "/admin/login" for route in app.routes):
        app.include_router(admin_pages.router)  # until app.py includes it
    yield app
    jobs = getattr(app.state, "admin_imports", None)
    assert jobs is None or jobs.join(timeout=300), "an import thread is still running"


@pytest.fixture
def browser(app: FastAPI) -> Iterator[TestClient]:
    # https, as the settings' public_base_url: the session cookie is Secure.
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        yield client


def token_for(env: SceauEnv, role: AdminRole, name: str | None = None) -> str:
    engine = compose.database(env.settings)
    return create_token(engine, name=name or f"test {role}", role=role, now=datetime.now(UTC))[1]


def csrf_of(page: httpx.Response) -> str:
    match = CSRF_FIELD.search(page.text)
    assert match, page.text
    return match.group(1)


def sign_in(browser: TestClient, token: str) -> httpx.Response:
    form = browser.get("/admin/login")
    return browser.post("/admin/login", data={"token": token, "csrf": csrf_of(form)})


def signed_in(browser: TestClient, env: SceauEnv, role: AdminRole) -> TestClient:
    assert sign_in(browser, token_for(env, role)).status_code == 303
    return browser


def set_cookie_of(response: httpx.Response, name: str) -> str:
    return next(h for h in response.headers.get_list("set-cookie") if h.startswith(f"{name}="))


def test_sign_in_sets_a_strict_http_only_session_cookie_without_the_token(
    sceau_env: SceauEnv, browser: TestClient
) -> None:
    token = token_for(sceau_env, AdminRole.ISSUER, name="Bureau des examens")
    response = sign_in(browser, token)
    assert response.status_code == 303 and response.headers["location"] == "/admin"
    cookie = set_cookie_of(response, "sceau_admin")
    flags = [part.strip().lower() for part in cookie.split(";")]
    assert {"httponly", "samesite=strict", "path=/admin", "secure"} <= set(flags)
    assert token not in cookie and token.split("_", 2)[2] not in cookie

    home = browser.get("/admin?lang=en")
    assert home.status_code == 200
    assert "Bureau des examens" in home.text and "issuing" in home.text
    assert token.split("_", 2)[2] not in home.text


@pytest.mark.parametrize("presented", ["", "not-a-token", "forged"])
def test_a_bad_token_is_refused(sceau_env: SceauEnv, browser: TestClient, presented: str) -> None:
    if presented == "forged":
        good = token_for(sceau_env, AdminRole.ADMIN)
        presented = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
    response = sign_in(browser, presented)
    assert response.status_code == 401
    assert "Jeton refusé" in response.text
    assert "sceau_admin=" not in response.headers.get("set-cookie", "")
    assert browser.get("/admin").status_code == 303


def test_sign_in_needs_its_own_form_field(sceau_env: SceauEnv, browser: TestClient) -> None:
    token = token_for(sceau_env, AdminRole.ADMIN)
    browser.get("/admin/login")
    response = browser.post("/admin/login", data={"token": token, "csrf": "00" * 32})
    assert response.status_code == 403
    assert browser.get("/admin").status_code == 303


@pytest.mark.parametrize("path", PAGES)
def test_pages_send_the_unsigned_to_the_sign_in_page(browser: TestClient, path: str) -> None:
    for cookie in (None, "forged.value", "e30.AAAA"):
        browser.cookies.clear()
        if cookie:
            browser.cookies.set("sceau_admin", cookie, domain="testserver", path="/admin")
        response = browser.get(path)
        assert response.status_code == 303 and response.headers["location"] == "/admin/login"
    assert browser.get("/admin/imports/" + "ab" * 16 + ".json").status_code == 401


@pytest.mark.parametrize(
    ("role", "path"),
    [
        (AdminRole.AUDITOR, "/admin/import"),
        (AdminRole.REVOKER, "/admin/batches"),
        (AdminRole.ISSUER, "/admin/revocations"),
        (AdminRole.REVOKER, "/admin/audit"),
    ],
)
def test_a_page_outside_the_tokens_role_is_forbidden(
    sceau_env: SceauEnv, browser: TestClient, role: AdminRole, path: str
) -> None:
    signed_in(browser, sceau_env, role)
    response = browser.get(path + "?lang=en")
    assert response.status_code == 403 and "Access denied" in response.text
    assert browser.get("/admin").status_code == 200


def test_a_revoked_token_ends_its_session(sceau_env: SceauEnv, browser: TestClient) -> None:
    token = token_for(sceau_env, AdminRole.ADMIN)
    sign_in(browser, token)
    assert browser.get("/admin").status_code == 200
    revoke_token(compose.database(sceau_env.settings), token.split("_")[1], now=datetime.now(UTC))
    assert browser.get("/admin").status_code == 303


def test_sign_out_needs_the_form_field_then_ends_the_session(
    sceau_env: SceauEnv, browser: TestClient
) -> None:
    signed_in(browser, sceau_env, AdminRole.AUDITOR)
    csrf = csrf_of(browser.get("/admin"))
    assert browser.post("/admin/logout", data={}).status_code == 403
    assert browser.post("/admin/logout", data={"csrf": "0" * 64}).status_code == 403
    assert browser.get("/admin").status_code == 200
    out = browser.post("/admin/logout", data={"csrf": csrf})
    assert out.status_code == 303 and out.headers["location"] == "/admin/login"
    assert browser.get("/admin").status_code == 303


def test_approving_a_request_through_the_page_revokes_on_chain(
    sceau_env: SceauEnv, browser: TestClient
) -> None:
    results = subset_of_sample(sceau_env.root / "results.csv", 1)
    assert run_sceau(sceau_env.config_file, "issue", str(results)).returncode == 0
    [message] = read_outbox(sceau_env.settings.mail.outbox)
    cert_id, leaf = message.receipt.certificate_id, message.receipt.leaf
    key = message.text.split(f"/me/{cert_id}#")[1][:43]
    asked = browser.post(
        f"/api/v1/me/{cert_id}/requests",
        json={"key": key, "kind": "revocation", "explanation": "Mon nom est mal orthographié"},
    )
    request_id = asked.json()["request_id"]

    signed_in(browser, sceau_env, AdminRole.REVOKER)
    page = browser.get("/admin/revocations")
    assert "Mon nom est mal orthographié" in page.text and request_id in page.text
    url = f"/admin/revocations/{request_id}"
    for csrf in (None, "", "0" * 64, csrf_of(page)[::-1]):
        form = {"decision": "approve", "note": "ok"} | ({"csrf": csrf} if csrf is not None else {})
        refused = browser.post(url, data=form)
        assert refused.status_code == 403, csrf
    engine = compose.database(sceau_env.settings)
    assert [r.id for r in requests(engine, states=(RequestState.PENDING,))] == [request_id]
    assert sceau_env.chain.client().revocation_of(leaf) is None

    no_note = browser.post(url, data={"decision": "approve", "note": " ", "csrf": csrf_of(page)})
    assert no_note.status_code == 422

    done = browser.post(url, data={"decision": "approve", "note": "ok", "csrf": csrf_of(page)})
    assert done.status_code == 303, done.text
    assert "outcome=approved" in done.headers["location"]
    shown = browser.get(done.headers["location"] + "&lang=en")
    assert "1 certificate(s) revoked" in shown.text and "No pending request" in shown.text
    assert sceau_env.chain.client().revocation_of(leaf) is not None

    browser.cookies.clear()
    signed_in(browser, sceau_env, AdminRole.AUDITOR)
    audit = browser.get("/admin/audit?lang=en")
    assert (
        "Log intact" in audit.text
        and "Certificate revoked and erased" in audit.text
        and "certificate.revoked" not in audit.text
    )


def follow_import(browser: TestClient, job_url: str, timeout: float = 240) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        progress = browser.get(job_url + ".json?lang=en")
        assert progress.status_code == 200, progress.text
        job: dict[str, Any] = progress.json()
        if job["finished"]:
            return job
        time.sleep(0.05)
    raise AssertionError("the import did not finish")


def test_an_import_through_the_page_delivers_the_certificates(
    sceau_env: SceauEnv, browser: TestClient
) -> None:
    results = subset_of_sample(sceau_env.root / "results.csv", 2)
    signed_in(browser, sceau_env, AdminRole.ISSUER)
    form = browser.get("/admin/import")
    sent = browser.post(
        "/admin/import",
        data={"csrf": csrf_of(form)},
        files={"results": ("results.csv", results.read_bytes(), "text/csv")},
    )
    assert sent.status_code == 303, sent.text
    job_url = sent.headers["location"]
    live = browser.get(job_url)
    assert live.status_code == 200 and 'data-page="admin-import-job"' in live.text
    words = re.search(r'<script type="application/json" id="admin-words">(.*?)</script>', live.text)
    assert words and json.loads(words.group(1))["job.of"] == "sur"

    job = follow_import(browser, job_url)
    assert job["ok"] and job["error"] == "" and job["phase"] == "done", job
    assert (job["issued"], job["skipped"], job["rejected"]) == (2, 0, 0)
    assert len(read_outbox(sceau_env.settings.mail.outbox)) == 2
    finished = browser.get(job_url + "?lang=en")
    assert "Finished" in finished.text and 'data-finished="yes"' in finished.text

    batches = browser.get("/admin/batches?lang=en")
    assert "results.csv" in batches.text and "delivered" in batches.text
    assert re.search(r"0x[0-9a-f]{64}", batches.text)


def test_an_import_with_a_bad_row_shows_it_and_issues_nothing(
    sceau_env: SceauEnv, browser: TestClient
) -> None:
    results = subset_of_sample(sceau_env.root / "results.csv", 2)
    lines = results.read_text().splitlines(keepends=True)
    lines[2] = lines[2].replace("@example.org", "-at-example.org")
    results.write_text("".join(lines))
    signed_in(browser, sceau_env, AdminRole.ISSUER)
    form = browser.get("/admin/import")
    sent = browser.post(
        "/admin/import?lang=en",
        data={"csrf": csrf_of(form)},
        files={"results": ("results.csv", results.read_bytes(), "text/csv")},
    )
    assert sent.status_code == 422
    assert re.search(r"<td>3</td><td class=\"mono\">DCL-2026-11-0002</td>", sent.text), sent.text
    assert "is not an e-mail address" in sent.text and "Nothing was issued" in sent.text
    assert certificates(sceau_env.settings.database_url) == []
    assert not sceau_env.settings.mail.outbox.exists() or not any(
        sceau_env.settings.mail.outbox.iterdir()
    )


def test_an_import_post_without_the_form_field_is_refused(
    sceau_env: SceauEnv, browser: TestClient
) -> None:
    results = subset_of_sample(sceau_env.root / "results.csv", 1)
    signed_in(browser, sceau_env, AdminRole.ISSUER)
    sent = browser.post(
        "/admin/import",
        data={"csrf": "1" * 64},
        files={"results": ("results.csv", results.read_bytes(), "text/csv")},
    )
    assert sent.status_code == 403
    assert certificates(sceau_env.settings.database_url) == []


def test_a_failed_import_explains_itself_without_a_stack_trace(
    sceau_env: SceauEnv, app: FastAPI, browser: TestClient
) -> None:
    def chain_down(*_args: object, **_kwargs: object) -> Any:
        raise RpcUnavailable("cannot reach the RPC node at http://127.0.0.1:1")

    app.state.admin_imports = ImportJobs(issuance=chain_down)
    results = subset_of_sample(sceau_env.root / "results.csv", 1)
    signed_in(browser, sceau_env, AdminRole.ISSUER)
    sent = browser.post(
        "/admin/import",
        data={"csrf": csrf_of(browser.get("/admin/import"))},
        files={"results": ("results.csv", results.read_bytes(), "text/csv")},
    )
    job = follow_import(browser, sent.headers["location"])
    assert not job["ok"] and job["phase"] == "failed"
    assert job["error"].startswith("The blockchain cannot be reached")
    page = browser.get(sent.headers["location"] + "?lang=en")
    assert "cannot reach the RPC node" in page.text and "Traceback" not in page.text


def test_the_audit_page_names_a_tampered_entry(sceau_env: SceauEnv, browser: TestClient) -> None:
    engine = compose.database(sceau_env.settings)
    hook = compose.audit_hook()
    with Session(engine) as session:
        hook(session, "cli:test", "token.created", "abc", {})
        hook(session, "cli:test", "token.revoked", "abc", {})
        session.commit()
    signed_in(browser, sceau_env, AdminRole.AUDITOR)
    assert "Log intact: 2 entries" in browser.get("/admin/audit?lang=en").text
    with engine.begin() as connection:
        connection.execute(text("UPDATE audit_log SET actor = 'someone' WHERE seq = 1"))
    page = browser.get("/admin/audit?lang=en")
    assert "Log tampered with" in page.text and "entry 1 was changed" in page.text


def test_every_admin_word_exists_in_french_and_english() -> None:
    assert set(ADMIN_WORDS["fr"]) == set(ADMIN_WORDS["en"])
    used = {
        key
        for template in TEMPLATES.glob("admin_*.html")
        for key in re.findall(r"\ba\(\"([a-z_.]+)\"\s*[,)]", template.read_text())
    }
    built = {
        *(f"role.{role}" for role in AdminRole),
        *(f"batch.{state}" for state in BatchState),
        *(f"job.phase.{phase}" for phase in JOB_PHASES),
        *(f"job.error.{kind}" for _, kind in ERROR_KINDS),
        "job.error.internal",
        *(f"{prefix}.{name}" for _, name, _ in SECTIONS for prefix in ("nav", "home")),
        *(f"rev.{outcome}" for outcome in OUTCOMES),
    }
    assert used and used | built <= set(ADMIN_WORDS["en"])


def test_admin_pages_have_no_inline_script(sceau_env: SceauEnv, browser: TestClient) -> None:
    signed_in(browser, sceau_env, AdminRole.ADMIN)
    for path in (*PAGES, "/admin/login"):
        page = browser.get(path).text
        for tag in re.findall(r"<script[^>]*>", page):
            assert 'src="/static/' in tag or 'type="application/json"' in tag, (path, tag)
        assert not re.search(r"<[^>]+\s(style|on[a-z]+)=", page), path


def test_ticking_issue_valid_rows_issues_them_and_keeps_the_report(
    sceau_env: SceauEnv, browser: TestClient
) -> None:
    results = subset_of_sample(sceau_env.root / "results.csv", 2)
    lines = results.read_text().splitlines(keepends=True)
    lines[2] = lines[2].replace("@example.org", "-at-example.org")
    results.write_text("".join(lines))
    signed_in(browser, sceau_env, AdminRole.ISSUER)
    sent = browser.post(
        "/admin/import",
        data={"csrf": csrf_of(browser.get("/admin/import")), "issue_valid_rows": "yes"},
        files={"results": ("results.csv", results.read_bytes(), "text/csv")},
    )
    assert sent.status_code == 303, sent.text
    job = follow_import(browser, sent.headers["location"])
    assert job["ok"] and (job["issued"], job["rejected"]) == (1, 1), job
    assert len(read_outbox(sceau_env.settings.mail.outbox)) == 1
    page = browser.get(sent.headers["location"])
    assert "<td>3</td>" in page.text and "is not an e-mail address" in page.text


def test_a_file_that_is_not_results_is_refused_with_its_reason(
    sceau_env: SceauEnv, browser: TestClient
) -> None:
    signed_in(browser, sceau_env, AdminRole.ISSUER)
    csrf = csrf_of(browser.get("/admin/import"))
    sent = browser.post(
        "/admin/import?lang=en",
        data={"csrf": csrf},
        files={"results": ("scan.pdf", b"%PDF-1.7 not results", "application/pdf")},
    )
    assert sent.status_code == 422
    assert "cannot be read" in sent.text and "unsupported format" in sent.text
    missing = browser.post("/admin/import?lang=en", data={"csrf": csrf})
    assert missing.status_code == 422 and "Choose a results file" in missing.text
