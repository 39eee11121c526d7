"""The OpenAPI schema tells the truth: a bounded schemathesis run against the app finds nothing.

Every operation is called with generated data (the admin ones with a real admin token) and
each answer is checked: no 5xx, a documented status, a body matching its documented schema.
Unknown ids are expected to answer 404, a malformed link key 403, both documented.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from offchain_store.tokens import AdminRole, create_token
from sceau import compose
from sceau.web.app import create_app
from tests.conftest import SceauEnv
from tests.sceau.helpers import run_sceau, subset_of_sample

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
POSITIVE_EXAMPLES, NEGATIVE_EXAMPLES = 12, 6  # per operation: bounded
ADMIN_STATUSES = {"401", "403"}


def openapi(app: FastAPI) -> dict[str, Any]:
    with TestClient(app) as client:
        document: dict[str, Any] = client.get("/openapi.json").json()
    return document


def test_admin_operations_declare_the_bearer_scheme_and_their_errors(
    sceau_env: SceauEnv,
) -> None:
    document = openapi(create_app(sceau_env.settings))
    schemes = document["components"]["securitySchemes"]
    assert [s for s in schemes.values() if s == {**s, "type": "http", "scheme": "bearer"}]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            where = (method, path)
            admin = path.startswith("/api/v1/admin/")
            assert bool(operation.get("security")) == admin, where
            if admin:
                assert set(operation["responses"]) >= ADMIN_STATUSES, where
            for status, answer in operation["responses"].items():
                if status.startswith(("4", "5")):
                    schema = answer["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ApiError"}, where
            if "application/json" in operation.get("requestBody", {}).get("content", {}):
                assert {"400", "422"} <= set(operation["responses"]), where
    revoke = document["paths"]["/api/v1/admin/certificates/{certificate_id}/revoke"]["post"]
    body = revoke["requestBody"]["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
    reason = document["components"]["schemas"][body]["properties"]["reason"]
    reason = document["components"]["schemas"][reason["$ref"].split("/")[-1]]
    assert sorted(reason["enum"]) == ["fraud", "issuer_error", "superseded"]
    assert "HTTPValidationError" not in document["components"]["schemas"]  # never sent


def test_unknown_request_and_certificate_ids_are_404(sceau_env: SceauEnv) -> None:
    token = _admin_token(sceau_env)
    headers = {"Authorization": f"Bearer {token}"}
    with TestClient(create_app(sceau_env.settings)) as api:
        for decision in ("approve", "refuse"):
            url = f"/api/v1/admin/revocations/{'0' * 16}/{decision}"
            answer = api.post(url, json={"note": "n"}, headers=headers)
            assert answer.status_code == 404 and answer.json()["code"] == "request_not_found"
        revoke = api.post(
            f"/api/v1/admin/certificates/{'a' * 32}/revoke",
            json={"reason": "fraud", "note": "n"},
            headers=headers,
        )
        assert revoke.status_code == 404, revoke.text
        wrong = api.post(
            f"/api/v1/admin/certificates/{'a' * 32}/revoke",
            json={"reason": "holder_request", "note": "n"},
            headers=headers,
        )
        assert wrong.status_code == 422 and wrong.json()["errors"] == [
            {"loc": ["body", "reason"], "type": "enum"}
        ]


def test_schemathesis_finds_nothing(sceau_env: SceauEnv) -> None:
    results = subset_of_sample(sceau_env.root / "results.csv", 1)
    done = run_sceau(sceau_env.config_file, "issue", str(results))  # a service in use
    assert done.returncode == 0, done.stderr
    app = create_app(sceau_env.settings)
    admin = {"Authorization": f"Bearer {_admin_token(sceau_env)}"}
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    negative_runs = 0
    for operation in operations:
        headers = admin if operation.path.startswith("/api/v1/admin/") else {}
        _run(operation.as_strategy(), headers, POSITIVE_EXAMPLES)
        try:
            negative = operation.as_strategy(generation_mode=schemathesis.GenerationMode.NEGATIVE)
            _run(negative, headers, NEGATIVE_EXAMPLES)
            negative_runs += 1
        except Unsatisfiable:  # every input this operation declares accepts anything
            pass
    assert negative_runs >= 10


def _run(strategy: st.SearchStrategy[schemathesis.Case], headers: dict[str, str], n: int) -> None:
    @settings(
        max_examples=n,
        deadline=timedelta(seconds=30),  # a guard against a hang, not a timing assertion
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def call(case: schemathesis.Case) -> None:
        case.call_and_validate(headers={**(case.headers or {}), **headers}, checks=CHECKS)

    call()


def _admin_token(env: SceauEnv) -> str:
    engine = compose.database(env.settings)
    return create_token(engine, name="contract", role=AdminRole.ADMIN, now=datetime.now(UTC))[1]
