"""The access log: one line per request with the route template, never its ids, query or keys."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from offchain_store.tokens import AdminRole, create_token
from sceau import compose
from sceau.web.app import create_app
from sceau.web.server import logging_config
from tests.conftest import SceauEnv

LINE = re.compile(
    r"^(?P<method>[A-Z]+) (?P<route>\S+) (?P<status>\d{3}) (?P<ms>\d+\.\d)ms "
    r"request=(?P<id>[0-9a-f]{16})$"
)
KEY = "Zm9yZ2VkLWxpbmsta2V5LWZvci10aGUtYWNjZXNzLWxv"  # link-key shaped: 43 base64url
CERT = "c0ffee" + "0" * 26
CLIENT_LOGGER = "httpx"  # the test's own client logs the URLs it calls: not the server's log


def access_lines(caplog: pytest.LogCaptureFixture) -> dict[str, dict[str, str]]:
    """Access-log lines by request id; each must have the one fixed shape."""
    lines = {}
    for record in caplog.records:
        if record.name == "sceau.access":
            found = LINE.match(record.getMessage())
            assert found, record.getMessage()
            lines[found["id"]] = found.groupdict()
    return lines


def test_one_line_per_request_with_template_status_and_request_id(
    sceau_env: SceauEnv, caplog: pytest.LogCaptureFixture
) -> None:
    engine = compose.database(sceau_env.settings)
    token = create_token(engine, name="log", role=AdminRole.AUDITOR, now=datetime.now(UTC))[1]
    calls = [
        ("GET", f"/api/v1/certificates/{CERT}/status?key={KEY}&lang=fr", {}, None),
        ("GET", f"/api/v1/proofs/{'ab' * 32}", {}, None),
        ("POST", f"/api/v1/shares/{CERT[:22]}/open?k={KEY}", {}, {"key": KEY}),
        ("POST", f"/api/v1/me/{CERT}/shares/list", {}, {"key": KEY}),
        ("POST", f"/api/v1/me/{CERT}", {}, {"key": KEY, KEY: KEY}),
        ("GET", "/api/v1/admin/audit?limit=5", {"Authorization": f"Bearer {token}"}, None),
        ("GET", "/api/v1/admin/audit", {"Authorization": f"Bearer {KEY}"}, None),
        ("GET", f"/static/{KEY}.css", {}, None),
        ("GET", f"/nowhere/{KEY}?{KEY}", {"X-Request-Id": KEY}, None),
        ("GET", "/openapi.json", {}, None),
    ]
    expected_routes = [
        "/api/v1/certificates/{certificate_id}/status",
        "/api/v1/proofs/{pdf_sha256}",
        "/api/v1/shares/{share_id}/open",
        "/api/v1/me/{certificate_id}/shares/list",
        "/api/v1/me/{certificate_id}",
        "/api/v1/admin/audit",
        "/api/v1/admin/audit",
        "/static/{path}",
        "(unmatched)",
        "/openapi.json",
    ]
    caplog.set_level(logging.DEBUG)
    with TestClient(create_app(sceau_env.settings)) as api:
        answers = [
            api.request(method, url, headers=headers, json=body)
            for method, url, headers, body in calls
        ]
    lines = access_lines(caplog)
    assert len(lines) == len(calls)
    for (method, _, _, _), route, answer in zip(calls, expected_routes, answers, strict=True):
        request_id = answer.headers["X-Request-Id"]
        line = lines[request_id]
        assert (line["method"], line["route"], int(line["status"])) == (
            method,
            route,
            answer.status_code,
        )
    assert answers[5].status_code == 200 and answers[6].status_code == 401
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name != CLIENT_LOGGER)
    for secret in (KEY, token, CERT, "lang=fr", "limit=5", "?"):
        assert secret not in logged


def test_a_failure_nothing_handled_is_logged_by_type_and_place_only(
    sceau_env: SceauEnv, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(sceau_env.settings)

    def broken_profile() -> object:  # an injected fault whose message quotes a key
        raise RuntimeError(f"could not read {KEY}")

    app.state.sceau.profile = broken_profile
    caplog.set_level(logging.DEBUG)
    with TestClient(app, raise_server_exceptions=False) as api:
        answer = api.get("/.well-known/sceau-issuer.json")
    assert answer.status_code == 500
    assert answer.json() == {"code": "internal_error", "message": "Internal error."}
    line = access_lines(caplog)[answer.headers["X-Request-Id"]]
    assert (line["route"], line["status"]) == ("/.well-known/sceau-issuer.json", "500")
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert any("RuntimeError" in e and "broken_profile" in e for e in errors), errors
    assert all(KEY not in r.getMessage() and not r.exc_info for r in caplog.records)


def test_served_logging_silences_uvicorn_access_and_upload_parser_chatter() -> None:
    config = logging_config("debug")
    assert config["loggers"]["uvicorn.access"] == {
        "handlers": [],
        "level": "CRITICAL",
        "propagate": False,
    }
    assert config["loggers"]["python_multipart"]["level"] == "ERROR"
