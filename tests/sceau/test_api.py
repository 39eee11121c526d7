"""The JSON API on a real issued batch: share links, dropped PDFs, public status and proofs."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from contracts.client import RevocationReason
from offchain_store.records import KeyWrapRecord, make_engine
from sceau.settings import ChainSettings
from sceau.web.app import create_app
from tests.conftest import SceauEnv, free_port
from tests.sceau.helpers import Delivered, read_outbox, run_sceau, subset_of_sample


@dataclass(frozen=True)
class Issued:
    env: SceauEnv
    api: TestClient
    messages: list[Delivered]

    def candidate(self, index: int = 0) -> tuple[str, str]:
        message = self.messages[index]
        cert_id = message.receipt.certificate_id
        return cert_id, message.text.split(f"/me/{cert_id}#")[1][:43]

    def share(self, index: int = 0, **options: object) -> tuple[str, str]:
        cert_id, key = self.candidate(index)
        body = {"key": key, "recipient": "ACME RH", **options}
        created = self.api.post(f"/api/v1/me/{cert_id}/shares", json=body)
        assert created.status_code == 201, created.text
        share_id, share_key = created.json()["link"].split("/s/")[1].split("#")
        return share_id, share_key


@pytest.fixture(scope="module")
def issued(module_sceau_env: SceauEnv) -> Iterator[Issued]:
    """One batch for the whole module, on SQLite then on PostgreSQL. Each test makes its own
    shares; only the revocation test touches the third certificate."""
    env = module_sceau_env
    results = subset_of_sample(env.root / "results.csv", 3)
    done = run_sceau(env.config_file, "issue", str(results))
    assert done.returncode == 0, done.stderr
    with TestClient(create_app(env.settings)) as api:
        yield Issued(env, api, read_outbox(env.settings.mail.outbox))


def open_share(issued: Issued, share_id: str, key: str) -> dict[str, object]:
    response = issued.api.post(f"/api/v1/shares/{share_id}/open", json={"key": key})
    assert response.status_code == 200, response.text
    return dict(response.json())


def codes(body: dict[str, object]) -> dict[str, str]:
    report = body.get("report", body)
    return {c["name"]: c["code"] for c in report["checks"]}  # type: ignore[index]


def test_employer_opens_a_share_and_sees_valid_with_the_pdf(issued: Issued) -> None:
    share_id, key = issued.share()
    body = open_share(issued, share_id, key)
    assert body["report"]["verdict"] == "VALID", codes(body)  # type: ignore[index]
    assert len(body["report"]["checks"]) == 8  # type: ignore[index]
    assert base64.b64decode(str(body["pdf_base64"])) == issued.messages[0].pdf
    assert body["transaction"] == issued.messages[0].receipt.transaction
    assert body["transaction_url"] is None  # no explorer for the local chain

    cert_id, candidate_key = issued.candidate()
    shares = issued.api.post(f"/api/v1/me/{cert_id}/shares/list", json={"key": candidate_key})
    [listed] = [s for s in shares.json() if s["share_id"] == share_id]
    assert listed["opens"] == 1 and len(listed["openings"]) == 1


def test_wrong_share_key_is_refused_as_a_link_problem_not_a_forgery(issued: Issued) -> None:
    share_id, _ = issued.share()
    other_key = issued.share(1)[1]
    for key in (other_key, "not-a-key"):
        response = issued.api.post(f"/api/v1/shares/{share_id}/open", json={"key": key})
        assert response.status_code == 403, response.text
        assert response.json()["code"] == "wrong_link_key"
        assert "pdf_base64" not in response.text and "verdict" not in response.text


def test_share_past_its_expiry_is_refused(issued: Issued, monkeypatch: pytest.MonkeyPatch) -> None:
    share_id, key = issued.share(expires_in_days=1)
    state = issued.api.app.state.sceau  # type: ignore[attr-defined]
    later = state.now() + timedelta(days=2)
    monkeypatch.setattr(state, "now", lambda: later)  # the app is the module's: put it back
    body = open_share(issued, share_id, key)
    assert body["report"]["verdict"] == "INVALID"  # type: ignore[index]
    assert codes(body)["share"] == "share_expired" and body["pdf_base64"] is None


def test_ended_share_stops_working_and_its_wrap_is_gone(issued: Issued) -> None:
    share_id, key = issued.share()
    cert_id, candidate_key = issued.candidate()
    ended = issued.api.post(
        f"/api/v1/me/{cert_id}/shares/{share_id}/end", json={"key": candidate_key}
    )
    assert ended.status_code == 204
    body = open_share(issued, share_id, key)
    assert codes(body)["share"] == "share_ended" and body["pdf_base64"] is None
    with Session(make_engine(issued.env.settings.database_url)) as session:
        wraps = session.exec(select(KeyWrapRecord).where(KeyWrapRecord.share_id == share_id)).all()
    assert wraps == []


def test_share_with_max_opens_is_exhausted(issued: Issued) -> None:
    share_id, key = issued.share(max_opens=1)
    assert open_share(issued, share_id, key)["report"]["verdict"] == "VALID"  # type: ignore[index]
    assert codes(open_share(issued, share_id, key))["share"] == "share_exhausted"


def test_leaf_revoked_on_chain_gives_revoked_with_date_and_reason(issued: Issued) -> None:
    share_id, key = issued.share(2)
    receipt = issued.messages[2].receipt
    issued.env.chain.client(issued.env.chain.revoker).revoke(receipt.leaf, RevocationReason.FRAUD)
    body = open_share(issued, share_id, key)
    report = body["report"]
    assert report["verdict"] == "REVOKED"  # type: ignore[index]
    assert report["revocation_reason"] == "fraud" and report["revoked_at"]  # type: ignore[index]


def test_chain_unreachable_gives_error_not_invalid(issued: Issued) -> None:
    dead = issued.env.settings.chain.model_dump() | {"rpc_url": f"http://127.0.0.1:{free_port()}"}
    settings = issued.env.settings.model_copy(update={"chain": ChainSettings(**dead)})
    share_id, key = issued.share()
    with TestClient(create_app(settings)) as api:
        response = api.post(f"/api/v1/shares/{share_id}/open", json={"key": key})
    assert response.json()["report"]["verdict"] == "ERROR"
    # The node's address (often with a provider's API key) never reaches the public answer.
    host_port = settings.chain.rpc_url.split("//")[1]
    assert host_port not in response.text
    assert f"port={host_port.split(':')[1]}" not in response.text


def test_dropped_pdf_valid_then_tampered_then_not_a_pdf(issued: Issued) -> None:
    pdf = issued.messages[0].pdf
    valid = issued.api.post("/api/v1/verify", files={"file": ("c.pdf", pdf, "application/pdf")})
    assert valid.json()["verdict"] == "VALID", valid.text
    flipped = bytearray(pdf)
    flipped[len(pdf) // 3] ^= 0x04
    invalid = issued.api.post("/api/v1/verify", files={"file": ("c.pdf", bytes(flipped))})
    assert invalid.json()["verdict"] == "INVALID"
    assert codes(invalid.json())["integrity"] == "unknown_document"
    not_pdf = issued.api.post("/api/v1/verify", files={"file": ("c.pdf", b"hello")})
    assert not_pdf.status_code == 415
    huge = issued.api.post(
        "/api/v1/verify", files={"file": ("c.pdf", b"%PDF-" + b"0" * 11_000_000)}
    )
    assert huge.status_code == 413
    big_json = issued.api.post("/api/v1/shares/x/open", json={"key": "k" * 70_000})
    assert big_json.status_code == 413


def test_public_status_and_proof_carry_no_personal_data(issued: Issued) -> None:
    message = issued.messages[0]
    cert_id = message.receipt.certificate_id
    status = issued.api.get(f"/api/v1/certificates/{cert_id}/status")
    assert status.status_code == 200 and status.json()["status"] == "issued"
    name = message.to.split("<")[0].strip()
    assert name and name not in status.text
    digest = hashlib.sha256(message.pdf).hexdigest()
    proof = issued.api.get(f"/api/v1/proofs/{digest}")
    assert proof.json()["root"] == message.receipt.root and name not in proof.text
    assert issued.api.get(f"/api/v1/proofs/{'0' * 64}").status_code == 404
    assert issued.api.get("/api/v1/certificates/nope/status").status_code == 404
    profile = issued.api.get("/.well-known/sceau-issuer.json").json()
    assert profile["contract"].lower() == issued.env.chain.contract_address.lower()
    assert issued.api.get("/openapi.json").status_code == 200


def test_candidate_endpoints_refuse_a_wrong_key(issued: Issued) -> None:
    cert_id, _ = issued.candidate()
    _, other_key = issued.candidate(1)
    assert issued.api.post(f"/api/v1/me/{cert_id}", json={"key": other_key}).status_code == 403
    assert issued.api.post(f"/api/v1/me/{cert_id}", json={"key": "x"}).status_code == 403
    assert issued.api.post(f"/api/v1/me/{'f' * 32}", json={"key": other_key}).status_code == 404
