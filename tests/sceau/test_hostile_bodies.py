"""Hostile bodies on every JSON endpoint: a fixed 4xx, never a 500, and nothing of them logged.

Each body carries a real link key (a candidate's and a share's, from a real issued batch):
the answer must not quote it, nor may any log line, in the app or in a real uvicorn server.
"""

from __future__ import annotations

import http.client
import json
import logging
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from offchain_store.tokens import AdminRole, create_token
from sceau import compose
from sceau.web.app import create_app
from tests.conftest import SceauEnv, free_port
from tests.sceau.helpers import REPO, read_outbox, run_sceau, subset_of_sample

JSON = "application/json"


@dataclass(frozen=True)
class Secrets:
    """Real ids and keys of an issued certificate, and a real admin token."""

    certificate_id: str
    candidate_key: str
    share_id: str
    share_key: str
    request_id: str
    admin_token: str

    def all_keys(self) -> tuple[str, str, str]:
        return self.candidate_key, self.share_key, self.admin_token

    def url(self, template: str) -> str:
        url = (
            template.replace("{certificate_id}", self.certificate_id)
            .replace("{share_id}", self.share_id)
            .replace("{request_id}", self.request_id)
        )
        assert "{" not in url, f"give {template} a real value for its path parameter"
        return url


def issue_and_share(env: SceauEnv) -> Secrets:
    """Issue two certificates, share the first, ask for the second's revocation."""
    results = subset_of_sample(env.root / "results.csv", 2)
    done = run_sceau(env.config_file, "issue", str(results))
    assert done.returncode == 0, done.stderr
    first, second = read_outbox(env.settings.mail.outbox)
    keys = [m.text.split(f"/me/{m.receipt.certificate_id}#")[1][:43] for m in (first, second)]
    with TestClient(create_app(env.settings)) as api:
        me = f"/api/v1/me/{first.receipt.certificate_id}"
        created = api.post(f"{me}/shares", json={"key": keys[0], "recipient": "ACME"})
        assert created.status_code == 201, created.text
        share_id, share_key = created.json()["link"].split("/s/")[1].split("#")
        asked = api.post(
            f"/api/v1/me/{second.receipt.certificate_id}/requests",
            json={"key": keys[1], "kind": "revocation"},
        )
        assert asked.status_code == 201, asked.text
    engine = compose.database(env.settings)
    token = create_token(engine, name="hostile", role=AdminRole.ADMIN, now=datetime.now(UTC))[1]
    return Secrets(
        certificate_id=first.receipt.certificate_id,
        candidate_key=keys[0],
        share_id=share_id,
        share_key=share_key,
        request_id=asked.json()["request_id"],
        admin_token=token,
    )


def hostile_bodies(key: str) -> dict[str, tuple[bytes, str | None]]:
    """Every kind of malformed body, each carrying `key`: name -> (bytes, content type)."""
    k = json.dumps(key)
    deep = "[" * 5000 + "]" * 5000
    texts = {
        "nan": f'{{"key": {k}, "note": NaN, "recipient": NaN}}',
        "infinity": f'{{"key": {k}, "max_opens": Infinity}}',
        "minus_infinity": f'{{"key": {k}, "max_opens": -Infinity}}',
        "huge_exponent": f'{{"key": {k}, "max_opens": 1e999999}}',
        "huge_integer": f'{{"key": {k}, "max_opens": 1{"0" * 5000}}}',
        "lone_surrogate": f'{{"key": "{key}\\ud800", "note": "\\udfff{key}"}}',
        "nul_character": f'{{"key": "{key}\\u0000"}}',
        "duplicate_keys": f'{{"key": {k}, "key": {k}, "note": {k}, "note": {k}}}',
        "deep_nesting": f'{{"key": {k}, "note": {deep}}}',
        "deep_objects": f'{{"key": {k}, "x": ' + '{"a": ' * 3000 + "1" + "}" * 3000 + "}",
        "truncated": f'{{"key": {k}, "note": "n',
        "trailing_garbage": f'{{"key": {k}}} {k}',
        "single_quotes": f"{{'key': '{key}'}}",
        "array": f"[{k}, {k}]",
        "string": k,
        "number": "42",
        "null": "null",
        "key_as_field_name": f'{{{k}: 1, "key": {k}}}',
        "key_too_long": json.dumps({"key": key * 6, "note": key * 20, "recipient": key * 9}),
        "key_of_wrong_type": json.dumps({"key": [key], "note": {"n": key}, "reason": key}),
        "wrong_enums": json.dumps(
            {"key": key, "note": key, "reason": key, "kind": key, "recipient": "r"}
        ),
    }
    bodies: dict[str, tuple[bytes, str | None]] = {
        name: (text.encode("utf-8", "surrogatepass"), JSON) for name, text in texts.items()
    }
    plain = json.dumps({"key": key, "note": key, "reason": "fraud", "recipient": "r"}).encode()
    bodies |= {
        "invalid_utf8": (b'{"key": "' + key.encode() + b'\xff\xfe", "note": "\xc3\x28"}', JSON),
        "utf8_bom": (b"\xef\xbb\xbf" + plain, JSON),
        "latin1_charset": (plain, "application/json; charset=latin-1"),
        "text_plain": (plain, "text/plain"),
        "no_content_type": (plain, None),
        "form_encoded": (f"key={key}&note={key}".encode(), "application/x-www-form-urlencoded"),
        "multipart": (plain, "multipart/form-data; boundary=x"),
        "xml": (f"<key>{key}</key>".encode(), "application/xml"),
    }
    return bodies


def json_endpoints(api: TestClient) -> list[tuple[str, str]]:
    """Every operation of the OpenAPI schema that takes a JSON body: new ones come in alone."""
    paths = api.get("/openapi.json").json()["paths"]
    found = sorted(
        (method.upper(), path)
        for path, operations in paths.items()
        for method, operation in operations.items()
        if JSON in operation.get("requestBody", {}).get("content", {})
    )
    assert len(found) >= 9, found  # public, candidate and admin endpoints
    return found


def headers_for(content_type: str | None, secrets: Secrets) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {secrets.admin_token}"}
    return headers | ({"Content-Type": content_type} if content_type else {})


@pytest.fixture(scope="module")
def issued(module_sceau_env: SceauEnv) -> tuple[SceauEnv, Secrets]:
    """One set-up and its secrets for both tests, on SQLite then on PostgreSQL (which refuses
    what SQLite stores, NUL characters in text for one): every hostile body is refused before
    it changes anything, so the tests can share it."""
    return module_sceau_env, issue_and_share(module_sceau_env)


def test_every_json_endpoint_answers_every_hostile_body_with_a_fixed_4xx(
    issued: tuple[SceauEnv, Secrets], caplog: pytest.LogCaptureFixture
) -> None:
    sceau_env, secrets = issued
    caplog.set_level(logging.DEBUG)
    answers: dict[tuple[str, str, str], tuple[int, bytes]] = {}
    with TestClient(create_app(sceau_env.settings), raise_server_exceptions=False) as api:
        endpoints = json_endpoints(api)
        for key in (secrets.candidate_key, secrets.share_key):
            for name, (body, content_type) in hostile_bodies(key).items():
                for method, template in endpoints:
                    response = api.request(
                        method,
                        secrets.url(template),
                        content=body,
                        headers=headers_for(content_type, secrets),
                    )
                    where = (name, method, template)
                    assert response.status_code in (400, 422), (where, response.text)
                    assert set(response.json()) <= {"code", "message", "errors"}, where
                    assert key not in response.text, where
                    answers.setdefault(where, (response.status_code, response.content))
                    # The same hostile body with another key gets the very same answer.
                    assert answers[where] == (response.status_code, response.content), where
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name != "httpx")
    for key in secrets.all_keys():
        assert key not in logged
    assert "sceau.access" in {record.name for record in caplog.records}


# --- a real server -------------------------------------------------------------------------------

SERVE = (
    "import sys\nfrom pathlib import Path\n"
    "from sceau.settings import load_settings\n"
    "from sceau.web.server import run_server\n"
    "run_server(load_settings(Path(sys.argv[1])), host='127.0.0.1', port=int(sys.argv[2]),"
    " log_level='debug')\n"
)


@dataclass(frozen=True)
class RunningServer:
    port: int
    output: Path

    def logs(self) -> str:
        return self.output.read_text(errors="replace")


@contextmanager
def running_server(env: SceauEnv) -> Iterator[RunningServer]:
    """`run_server` (as `sceau serve` starts it) in a subprocess, at debug level, on 127.0.0.1."""
    port, output = free_port(), env.root / "server.log"
    with output.open("wb") as sink:
        server = subprocess.Popen(
            [sys.executable, "-c", SERVE, str(env.config_file), str(port)],
            cwd=REPO,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_until_up(port, server, output)
            yield RunningServer(port, output)
        finally:
            server.terminate()
            server.wait(timeout=30)


def _wait_until_up(port: int, server: subprocess.Popen[bytes], output: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.poll() is None, output.read_text(errors="replace")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/.well-known/sceau-issuer.json")
            connection.getresponse().read()
            connection.close()
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("the server did not start")


def test_real_server_keeps_the_connection_and_logs_no_input(
    issued: tuple[SceauEnv, Secrets],
) -> None:
    sceau_env, secrets = issued
    with TestClient(create_app(sceau_env.settings)) as api:
        endpoints = json_endpoints(api)
    with running_server(sceau_env) as server:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        connection.connect()
        socket_used = connection.sock
        for key in (secrets.candidate_key, secrets.share_key):
            for name, (body, content_type) in hostile_bodies(key).items():
                for method, template in endpoints:
                    connection.request(
                        method,
                        secrets.url(template),
                        body=body,
                        headers=headers_for(content_type, secrets),
                    )
                    response = connection.getresponse()
                    text = response.read().decode("utf-8", "replace")
                    assert response.status in (400, 422), (name, template, text)
                    assert key not in text
                # The next request on the same keep-alive connection is answered as usual.
                connection.request("GET", f"/api/v1/certificates/{secrets.certificate_id}/status")
                answer = connection.getresponse()
                assert answer.status == 200 and b'"issued"' in answer.read(), name
                assert connection.sock is socket_used, f"the connection was closed after {name}"
        _send_keys_in_paths_queries_and_headers(connection, secrets)
        connection.close()
        time.sleep(0.5)  # let the last access-log lines reach the file
        logs = server.logs()
    for key in secrets.all_keys():
        assert key not in logs
    for part in (secrets.candidate_key[:20], secrets.share_key[:20]):
        assert part not in logs
    assert "uvicorn.access" not in logs and "sceau.access" in logs
    assert "Traceback" not in logs and "/api/v1/shares/{share_id}/open" in logs


def _send_keys_in_paths_queries_and_headers(
    connection: http.client.HTTPConnection, secrets: Secrets
) -> None:
    """Keys where they never belong: in paths, query strings, cookies and a wrong bearer."""
    candidate, share = secrets.candidate_key, secrets.share_key
    requests = [
        ("GET", f"/api/v1/certificates/{candidate}/status", {}),
        ("GET", f"/api/v1/proofs/{share}?key={candidate}", {}),
        ("POST", f"/api/v1/shares/{share}/open?key={share}", {"Content-Type": JSON}),
        ("POST", f"/api/v1/me/{candidate}?key={candidate}", {"Content-Type": JSON}),
        ("GET", f"/s/{secrets.share_id}?k={share}", {"Referer": f"https://x/#{share}"}),
        ("GET", f"/me/{secrets.certificate_id}?k={candidate}", {"Cookie": f"k={candidate}"}),
        ("GET", "/api/v1/admin/audit", {"Authorization": f"Bearer {candidate}"}),
        ("GET", f"/no/such/{candidate}", {"X-Request-Id": candidate}),
    ]
    key = candidate.encode()
    part = b'Content-Disposition: form-data; name="file"; filename="' + key + b'.pdf"\r\n'
    uploads = [  # multipart uploads with the key in part headers, and a broken one
        b"--b\r\n" + part + b"Content-Type: " + key + b"\r\nContent-Transfer-Encoding: " + key,
        b"--b\r\n" + key + b"\r\x00" + key + b"\r\n\r\n",
        b"--b\r\n" + part + b"\r\n%PDF-1.7 " + key + b"\r\n--b--\r\n",
    ]
    multipart = {"Content-Type": "multipart/form-data; boundary=b"}
    sent = [(m, u, h, json.dumps({"key": candidate}).encode()) for m, u, h in requests]
    sent += [("POST", "/api/v1/verify", multipart, body) for body in uploads]
    for method, url, headers, body in sent:
        connection.request(method, url, body=body if method == "POST" else None, headers=headers)
        response = connection.getresponse()
        text = response.read().decode("utf-8", "replace")
        assert response.status < 500, (url, text)
        assert response.getheader("X-Request-Id") not in (None, candidate)
