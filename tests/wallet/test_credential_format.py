"""The SD-JWT VC as built: nothing personal in the clear, every claim a disclosure, the same
signing identity as the PDFs, and a type both the issuer and the verifier agree on."""

from __future__ import annotations

import base64
import json
import secrets
from datetime import UTC, date, datetime
from typing import Any

from cryptography import x509
from joserfc.jwk import ECKey

from contracts.merkle import leaf_hash
from contracts.receipt import Receipt
from issuer import wallet_credential
from issuer.content import CefrLevel, CertificateContent, SkillResult
from issuer.dev_pki import DevPki
from issuer.wallet_credential import (
    CredentialRequest,
    build_credential,
    disclosure_digest,
    load_credential_signer,
)
from tests.wallet.python_wallet import unb64url
from verifier import presentation

BASE = "https://certs.example.test"


def _content(cert_id: str) -> CertificateContent:
    return CertificateContent(
        certificate_id=cert_id,
        result_id="DCL-1",
        candidate_name="Camille Durand",
        date_of_birth=date(1995, 11, 2),
        candidate_number="C202601",
        exam="DCL",
        language="Allemand / German",
        level=CefrLevel.B2,
        skills=(SkillResult(skill="listening", level=CefrLevel.A2),),
        session_date=date(2026, 10, 14),
        centre="Centre d'examens de Lyon",
        issued_on=date(2026, 11, 1),
    )


def _receipt(cert_id: str) -> Receipt:
    salt, digest = secrets.token_bytes(32), secrets.token_bytes(32)
    leaf = "0x" + leaf_hash(bytes.fromhex(cert_id), salt, digest).hex()
    return Receipt.model_validate(
        {
            "certificate_id": cert_id,
            "salt": "0x" + salt.hex(),
            "pdf_sha256": digest.hex(),
            "leaf": leaf,
            "proof": [],
            "root": leaf,
            "chain_id": 31337,
            "contract": "0x" + "ab" * 20,
            "transaction": "0x" + "cd" * 32,
            "block_number": 7,
            "anchored_at": "2026-11-01T10:00:00Z",
            "issuer": {"name": "Centre de test"},
        }
    )


def _built(shared_pki: DevPki) -> tuple[str, CertificateContent, Receipt]:
    cert_id = secrets.token_hex(16)
    content, receipt = _content(cert_id), _receipt(cert_id)
    holder = ECKey.generate_key("P-256").as_dict(private=True)
    request = CredentialRequest(
        content=content,
        receipt=receipt,
        holder_jwk=holder,
        issuer_url=BASE,
        status=None,
        issued_at=datetime.now(UTC),
    )
    return build_credential(request, load_credential_signer(shared_pki.identity)), content, receipt


def _payload(credential: str) -> tuple[dict[str, Any], dict[str, Any]]:
    header, payload, _ = credential.split("~")[0].split(".")
    return json.loads(unb64url(header)), json.loads(unb64url(payload))


def test_nothing_personal_is_in_the_clear_and_every_claim_is_a_disclosure(
    shared_pki: DevPki,
) -> None:
    credential, content, receipt = _built(shared_pki)
    header, payload = _payload(credential)
    signed_part = credential.split("~")[0]
    for secret in (content.candidate_name, "1995-11-02", content.candidate_number, receipt.salt):
        assert secret not in json.dumps(payload) and secret not in signed_part
    assert receipt.pdf_sha256 not in json.dumps(payload)
    assert "d" not in payload["cnf"]["jwk"]  # only the holder's public key
    disclosures = [json.loads(unb64url(d)) for d in credential.rstrip("~").split("~")[1:]]
    names = {d[1] for d in disclosures}
    assert {"name", "birthdate", "level", "language", "skills", "listening"} <= names
    assert payload["_sd"] == sorted(payload["_sd"])
    digests = {disclosure_digest(d) for d in credential.rstrip("~").split("~")[1:]}
    assert set(payload["_sd"]) <= digests
    assert payload[wallet_credential.ANCHOR_CLAIM]["leaf"] == receipt.leaf
    assert header["typ"] == "dc+sd-jwt" and header["alg"] == "ES256"


def test_x5c_is_the_pdf_signing_certificate_without_the_root(shared_pki: DevPki) -> None:
    credential, _, _ = _built(shared_pki)
    header, _ = _payload(credential)
    sent = [x509.load_der_x509_certificate(base64.b64decode(c)) for c in header["x5c"]]
    pdf_signer = x509.load_pem_x509_certificate(shared_pki.issuer_cert.read_bytes())
    root = x509.load_pem_x509_certificate(shared_pki.root_cert.read_bytes())
    assert sent[0] == pdf_signer
    assert root not in sent


def test_the_issuer_and_the_verifier_name_the_same_type() -> None:
    assert wallet_credential.credential_type(BASE) == presentation.credential_type(BASE)
    assert wallet_credential.ANCHOR_CLAIM == presentation.ANCHOR_CLAIM
    metadata = wallet_credential.type_metadata(BASE)
    assert metadata["vct"] == presentation.credential_type(BASE)
    labels = {c["path"][0]: c["display"] for c in metadata["claims"]}
    assert set(labels) == set(wallet_credential.PERSONAL_CLAIMS)
    assert all({d["locale"] for d in shown} == {"fr-FR", "en-US"} for shown in labels.values())
