"""The candidate decides who sees what; a revocation really removes the certificate."""

from __future__ import annotations

import json
import re

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from offchain_store.blobs import blob_store_from_url
from offchain_store.records import (
    AccessLogRecord,
    CertificateRecord,
    CertificateState,
    KeyWrapRecord,
    make_engine,
)
from sceau.web.app import create_app
from tests.conftest import SceauEnv
from tests.sceau.helpers import read_outbox, run_sceau, subset_of_sample
from tests.verifier.conftest import publish


def test_share_open_end_request_approve_then_revoked_everywhere(sceau_env: SceauEnv) -> None:
    results = subset_of_sample(sceau_env.root / "results.csv", 2)
    assert run_sceau(sceau_env.config_file, "issue", str(results)).returncode == 0
    message = read_outbox(sceau_env.settings.mail.outbox)[0]
    cert_id = message.receipt.certificate_id
    key = message.text.split(f"/me/{cert_id}#")[1][:43]
    me = f"/api/v1/me/{cert_id}"
    wallet = sceau_env.root / "wallet"
    wallet.mkdir()
    (wallet / "cert.pdf").write_bytes(message.pdf)
    (wallet / "cert.json").write_bytes(message.receipt.to_json())
    profile = wallet / "profile.json"
    assert run_sceau(sceau_env.config_file, "profile", "--out", str(profile)).returncode == 0

    with TestClient(create_app(sceau_env.settings)) as api:
        links = [
            api.post(f"{me}/shares", json={"key": key, "recipient": who}).json()["link"]
            for who in ("Employer A", "Funder B")
        ]
        (share_a, key_a), (share_b, key_b) = (link.split("/s/")[1].split("#") for link in links)

        opened = api.post(f"/api/v1/shares/{share_a}/open", json={"key": key_a}).json()
        assert opened["report"]["verdict"] == "VALID"
        shares = {
            s["recipient"]: s for s in api.post(f"{me}/shares/list", json={"key": key}).json()
        }
        assert shares["Employer A"]["opens"] == 1 and len(shares["Employer A"]["openings"]) == 1
        assert shares["Funder B"]["opens"] == 0

        assert api.post(f"{me}/shares/{share_b}/end", json={"key": key}).status_code == 204
        ended = api.post(f"/api/v1/shares/{share_b}/open", json={"key": key_b}).json()
        assert ended["report"]["verdict"] == "INVALID" and ended["pdf_base64"] is None

        asked = api.post(
            f"{me}/requests", json={"key": key, "kind": "erasure", "explanation": "I left"}
        )
        assert asked.status_code == 201, asked.text
        request_id = asked.json()["request_id"]
        assert "revoked" in asked.json()["what_happens_en"]

        listed = run_sceau(sceau_env.config_file, "revocations", "list")
        assert request_id in listed.stdout
        approved = run_sceau(
            sceau_env.config_file, "revocations", "approve", request_id, "--note", "asked by holder"
        )
        assert approved.returncode == 0, approved.stderr + approved.stdout

        status = sceau_env.chain.client().revocation_of(message.receipt.leaf)
        assert status is not None and status.reason.name == "HOLDER_REQUEST"

        assert not blob_store_from_url(sceau_env.settings.blob_store_url).exists(cert_id)
        engine = make_engine(sceau_env.settings.database_url)
        with Session(engine) as session:
            wraps = session.exec(
                select(KeyWrapRecord).where(KeyWrapRecord.certificate_id == cert_id)
            ).all()
            tomb = session.get(CertificateRecord, cert_id)
            log = session.exec(
                select(AccessLogRecord).where(AccessLogRecord.certificate_id == cert_id)
            ).all()
        assert wraps == [] and log == []
        assert tomb is not None and tomb.state == CertificateState.REVOKED
        assert tomb.salt is None and tomb.receipt is None and tomb.candidate_email is None
        assert tomb.leaf == message.receipt.leaf and tomb.revocation_reason == "holder_request"

        via_share = api.post(f"/api/v1/shares/{share_a}/open", json={"key": key_a}).json()
        assert via_share["report"]["verdict"] == "REVOKED", via_share
        assert via_share["pdf_base64"] is None
        via_upload = api.post("/api/v1/verify", files={"file": ("c.pdf", message.pdf)}).json()
        assert via_upload["verdict"] == "REVOKED", via_upload
        status_page = api.get(f"/api/v1/certificates/{cert_id}/status").json()
        assert status_page["status"] == "revoked" and status_page["revocation_reason"]
        assert api.post(me, json={"key": key}).status_code == 410

    # The session's registry is shared: make this issuer's profile the current one first.
    publish(sceau_env.chain, profile.read_bytes())
    via_cli = run_sceau(
        sceau_env.config_file,
        "verify",
        str(wallet / "cert.pdf"),
        "--receipt",
        str(wallet / "cert.json"),
        "--profile",
        str(profile),
        "--rpc",
        sceau_env.chain.rpc_url,
        "--json",
    )
    assert via_cli.returncode == 11, via_cli.stdout + via_cli.stderr
    assert json.loads(via_cli.stdout)["verdict"] == "REVOKED"

    audit = run_sceau(sceau_env.config_file, "audit", "show", "--limit", "50")
    for action in ("erasure.requested", "revocation.approved", "certificate.revoked"):
        assert action in audit.stdout, audit.stdout
    assert run_sceau(sceau_env.config_file, "audit", "verify").returncode == 0

    again = run_sceau(sceau_env.config_file, "issue", str(results))
    assert again.returncode == 0, again.stderr
    assert re.search(r"skipped \(already issued\)\s+│\s+2", again.stdout)  # no re-issue
