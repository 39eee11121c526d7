"""Every admin endpoint refuses a missing token, a wrong token and a token of the wrong role."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from offchain_store.tokens import AdminRole, create_token
from sceau import compose
from sceau.web.app import create_app
from tests.conftest import SceauEnv
from tests.sceau.helpers import read_outbox, run_sceau, subset_of_sample

# For each admin endpoint, a role that must be refused (admin may do everything).
REFUSED_ROLE = {
    ("GET", "/api/v1/admin/revocations"): AdminRole.ISSUER,
    ("POST", "/api/v1/admin/revocations/{request_id}/approve"): AdminRole.AUDITOR,
    ("POST", "/api/v1/admin/revocations/{request_id}/refuse"): AdminRole.ISSUER,
    ("POST", "/api/v1/admin/certificates/{certificate_id}/revoke"): AdminRole.REVOKER,
    ("POST", "/api/v1/admin/certificates/{certificate_id}/suspend"): AdminRole.AUDITOR,
    ("POST", "/api/v1/admin/certificates/{certificate_id}/unsuspend"): AdminRole.AUDITOR,
    ("GET", "/api/v1/admin/audit"): AdminRole.REVOKER,
    ("GET", "/api/v1/admin/batches"): AdminRole.REVOKER,
}


@pytest.fixture
def api(sceau_env: SceauEnv) -> Iterator[TestClient]:
    with TestClient(create_app(sceau_env.settings)) as client:
        yield client


def token_for(env: SceauEnv, role: AdminRole) -> str:
    engine = compose.database(env.settings)
    return create_token(engine, name=f"test {role}", role=role, now=datetime.now(UTC))[1]


def admin_routes(api: TestClient) -> list[tuple[str, str]]:
    paths = api.get("/openapi.json").json()["paths"]
    return sorted(
        (method.upper(), path)
        for path, operations in paths.items()
        if path.startswith("/api/v1/admin")
        for method in operations
    )


def test_every_admin_endpoint_is_listed_here(api: TestClient) -> None:
    assert admin_routes(api) == sorted(REFUSED_ROLE)


@pytest.mark.parametrize(("method", "path"), sorted(REFUSED_ROLE))
def test_admin_endpoint_refuses_missing_wrong_and_wrong_role_tokens(
    sceau_env: SceauEnv, api: TestClient, method: str, path: str
) -> None:
    url = path.replace("{request_id}", "abcdef0123456789").replace("{certificate_id}", "ab" * 16)
    body = {"note": "n", "reason": "fraud"}
    wrong_role = token_for(sceau_env, REFUSED_ROLE[(method, path)])
    forged = wrong_role[:-4] + ("AAAA" if not wrong_role.endswith("AAAA") else "BBBB")
    cases = {
        None: 401,
        "Bearer ": 401,
        "Basic abc": 401,
        "Bearer not-a-token": 401,
        f"Bearer {forged}": 401,
        f"Bearer {wrong_role}": 403,
    }
    for header, expected in cases.items():
        headers = {"Authorization": header} if header else {}
        response = api.request(method, url, json=body, headers=headers)
        assert response.status_code == expected, (header, response.text)
        assert wrong_role not in response.text


def test_revoker_approves_a_request_through_the_api(sceau_env: SceauEnv, api: TestClient) -> None:
    results = subset_of_sample(sceau_env.root / "results.csv", 1)
    assert run_sceau(sceau_env.config_file, "issue", str(results)).returncode == 0
    [message] = read_outbox(sceau_env.settings.mail.outbox)
    cert_id = message.receipt.certificate_id
    key = message.text.split(f"/me/{cert_id}#")[1][:43]
    asked = api.post(f"/api/v1/me/{cert_id}/requests", json={"key": key, "kind": "revocation"})
    request_id = asked.json()["request_id"]

    revoker = {"Authorization": f"Bearer {token_for(sceau_env, AdminRole.REVOKER)}"}
    pending = api.get("/api/v1/admin/revocations", headers=revoker).json()
    assert [r["id"] for r in pending] == [request_id]
    done = api.post(
        f"/api/v1/admin/revocations/{request_id}/approve", json={"note": "ok"}, headers=revoker
    )
    assert done.status_code == 200 and done.json() == {"revoked": 1}, done.text
    assert sceau_env.chain.client().revocation_of(message.receipt.leaf) is not None

    auditor = {"Authorization": f"Bearer {token_for(sceau_env, AdminRole.AUDITOR)}"}
    log = api.get("/api/v1/admin/audit", headers=auditor).json()
    assert log["intact"] and any(e["action"] == "certificate.revoked" for e in log["entries"])
