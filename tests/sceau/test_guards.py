"""The two layers every answer passes through (sceau/web/guards.py), on the real app: the page
policy and `no-store` on every answer, and bodies refused by size before anything reads them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from sceau.web.app import CONTENT_SECURITY_POLICY, create_app
from sceau.web.guards import MAX_JSON_BODY
from tests.conftest import SceauEnv

POLICY = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}


@pytest.fixture(scope="module")
def web(module_sceau_env: SceauEnv) -> Iterator[TestClient]:
    with TestClient(create_app(module_sceau_env.settings)) as client:
        yield client


@pytest.mark.parametrize(
    "path", ["/check", "/s/unknown-share", "/api/v1/status/unknown", "/nowhere", "/static/app.js"]
)
def test_every_answer_carries_the_page_policy(web: TestClient, path: str) -> None:
    answer = web.get(path)
    assert {name: answer.headers.get(name) for name in POLICY} == POLICY, path
    assert answer.headers.get_list("content-security-policy") == [CONTENT_SECURITY_POLICY]


def test_only_answers_with_their_own_caching_may_be_cached(web: TestClient) -> None:
    assert web.get("/check").headers["cache-control"] == "no-store"
    assert web.get("/api/v1/status/unknown").headers["cache-control"] == "no-store"
    assert web.get("/static/app.js").headers.get("cache-control") != "no-store"


def test_a_body_over_the_limit_is_refused_before_it_is_read(web: TestClient) -> None:
    big = web.post("/api/v1/shares/x/open", json={"key": "k" * (MAX_JSON_BODY + 1)})
    assert big.status_code == 413
    assert big.json() == {
        "code": "too_large",
        "message": f"The body is larger than {MAX_JSON_BODY} bytes.",
    }
    assert big.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert big.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("length", ["-1", "12abc", "1e9"])
def test_a_length_that_is_not_a_number_is_refused(web: TestClient, length: str) -> None:
    answer = web.post(
        "/api/v1/shares/x/open",
        content=b"{}",
        headers={"content-type": "application/json", "content-length": length},
    )
    assert answer.status_code == 413
    assert answer.json()["code"] == "too_large"


def test_a_body_of_no_stated_length_is_refused(web: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"key": '
        yield b'"k"}'

    answer = web.post(
        "/api/v1/shares/x/open", content=chunks(), headers={"content-type": "application/json"}
    )
    assert answer.status_code == 411
    assert answer.json()["code"] == "length_required"


def test_a_body_within_the_limit_reaches_the_route(web: TestClient) -> None:
    answer = web.post("/api/v1/shares/unknown-share/open", json={"key": "k" * 43})
    # This set-up was never `sceau init`ed: the route itself answers that it is not set up.
    assert (answer.status_code, answer.json()["code"]) == (503, "not_configured"), answer.text
    assert answer.headers.get("x-request-id")  # the access log, outermost, saw it too
