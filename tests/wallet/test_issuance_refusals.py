"""Each way an OpenID4VCI request can be wrong is refused with its own code."""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session, select

from offchain_store.blobs import blob_store_from_url
from offchain_store.crypto import LinkKey
from offchain_store.records import make_engine
from offchain_store.wallet_offers import WalletOfferRecord
from tests.sceau.helpers import run_sceau, stored_values
from tests.wallet.conftest import WalletSceau
from tests.wallet.python_wallet import PythonWallet, offer_code


def _code(answer: httpx.Response) -> str:
    return str(answer.json()["code"])


def test_an_offer_is_used_once_expires_and_guards_its_transaction_code(
    wallet_sceau: WalletSceau,
) -> None:
    wallet = PythonWallet(wallet_sceau.base_url)
    offer = wallet_sceau.offer(0)
    code, tx_code = offer_code(offer["offer_uri"]), offer["tx_code"]
    wrong = "1" * 6 if tx_code != "1" * 6 else "2" * 6

    refused = wallet.token(code, wrong)
    assert refused.status_code == 400 and _code(refused) == "wrong_tx_code"
    assert refused.json()["error"] == "invalid_grant"
    assert _code(wallet.token(code, None)) == "wrong_tx_code"
    assert wallet.token(code, tx_code).status_code == 200
    assert _code(wallet.token(code, tx_code)) == "offer_used"
    assert _code(wallet.token("not-a-code", tx_code)) == "offer_unknown"

    late = wallet_sceau.offer(0)
    wallet_sceau.clock.ahead = timedelta(minutes=11)
    try:
        expired = wallet.token(offer_code(late["offer_uri"]), late["tx_code"])
    finally:
        wallet_sceau.clock.ahead = timedelta()
    assert _code(expired) == "offer_expired"

    guessed = wallet_sceau.offer(0)
    guessed_code = offer_code(guessed["offer_uri"])
    wrong_codes = [c for c in (f"{n}" * 6 for n in range(10)) if c != guessed["tx_code"]][:5]
    answers = [_code(wallet.token(guessed_code, c)) for c in wrong_codes]
    assert answers == ["wrong_tx_code"] * 4 + ["offer_burned"]
    assert _code(wallet.token(guessed_code, guessed["tx_code"])) == "offer_burned"


def test_the_key_proof_must_carry_this_issuer_and_a_fresh_nonce(wallet_sceau: WalletSceau) -> None:
    wallet = PythonWallet(wallet_sceau.base_url)
    offer = wallet_sceau.offer(0)
    token = wallet.token(offer_code(offer["offer_uri"]), offer["tx_code"]).json()["access_token"]

    unknown_nonce = wallet.credential(token, wallet.proof(secrets.token_urlsafe(24)))
    assert unknown_nonce.status_code == 400 and _code(unknown_nonce) == "proof_wrong_nonce"
    assert unknown_nonce.json()["error"] == "invalid_nonce"
    other_issuer = wallet.proof(wallet.nonce(), audience="https://other-issuer.example")
    assert _code(wallet.credential(token, other_issuer)) == "proof_wrong_audience"
    wrong_typ = wallet.proof(wallet.nonce(), typ="JWT")
    assert _code(wallet.credential(token, wrong_typ)) == "proof_wrong_type"
    not_signed_by_its_key = wallet.proof(wallet.nonce()).rsplit(".", 1)[0] + ".AAAA"
    assert _code(wallet.credential(token, not_signed_by_its_key)) == "proof_invalid"
    no_token = wallet.credential("not-a-token", wallet.proof(wallet.nonce()))
    assert no_token.status_code == 401 and _code(no_token) == "token_unknown"

    nonce = wallet.nonce()
    issued = wallet.credential(token, wallet.proof(nonce))
    assert issued.status_code == 200, issued.text
    assert _code(wallet.credential(token, wallet.proof(wallet.nonce()))) == (
        "credential_already_issued"
    )
    blob_store_from_url(wallet_sceau.settings.blob_store_url).delete(
        wallet_sceau.certificate_id(1) + ".claims"
    )  # as for a certificate issued before wallet credentials
    older = httpx.post(
        f"{wallet_sceau.base_url}/api/v1/me/{wallet_sceau.certificate_id(1)}/wallet-offer",
        json={"key": wallet_sceau.link_key(1)},
    )
    assert older.status_code == 409 and older.json()["code"] == "wallet_claims_missing"
    again = PythonWallet(wallet_sceau.base_url, key=wallet.key)
    replayed = wallet_sceau.offer(0)
    second = again.token(offer_code(replayed["offer_uri"]), replayed["tx_code"]).json()
    assert _code(again.credential(second["access_token"], again.proof(nonce))) == (
        "proof_wrong_nonce"
    )


def test_nothing_is_issued_for_a_revoked_certificate(wallet_sceau: WalletSceau) -> None:
    wallet = PythonWallet(wallet_sceau.base_url)
    cert_id, key = wallet_sceau.certificate_id(1), wallet_sceau.link_key(1)
    offer = wallet_sceau.offer(1)
    token = wallet.token(offer_code(offer["offer_uri"]), offer["tx_code"]).json()["access_token"]

    asked = httpx.post(
        f"{wallet_sceau.base_url}/api/v1/me/{cert_id}/requests",
        json={"key": key, "kind": "revocation", "explanation": ""},
    )
    assert asked.status_code == 201, asked.text
    config = wallet_sceau.env.config_file
    request_id = asked.json()["request_id"]
    approved = run_sceau(config, "revocations", "approve", request_id, "--note", "asked")
    assert approved.returncode == 0, approved.stderr + approved.stdout

    refused = wallet.credential(token, wallet.proof(wallet.nonce()))
    assert refused.status_code == 403 and _code(refused) == "certificate_revoked"
    engine = make_engine(wallet_sceau.settings.database_url)
    with Session(engine) as session:
        left = session.exec(
            select(WalletOfferRecord).where(WalletOfferRecord.certificate_id == cert_id)
        ).all()
    assert left == []  # the claims waiting for the wallet went with the certificate
    new_offer = httpx.post(
        f"{wallet_sceau.base_url}/api/v1/me/{cert_id}/wallet-offer", json={"key": key}
    )
    assert new_offer.status_code == 410 and new_offer.json()["code"] == "certificate_revoked"


def test_the_link_key_is_never_logged_or_kept(
    wallet_sceau: WalletSceau, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    key = wallet_sceau.link_key(0)
    wallet = PythonWallet(wallet_sceau.base_url)
    offer = wallet_sceau.offer(0)
    credential = wallet.receive(offer)
    code = offer_code(offer["offer_uri"])
    raw = LinkKey.from_token(key).secret_bytes()
    secrets_sent = (key.encode(), raw, code.encode(), offer["tx_code"].encode())
    root = wallet_sceau.env.root
    stored = [p for p in root.rglob("*") if p.is_file() and p.parent.name != "outbox"]
    for path in stored:  # the SQLite file among them, freed pages too
        content = Path(path).read_bytes()
        assert not any(secret in content for secret in secrets_sent), path
    rows = list(stored_values(wallet_sceau.settings.database_url))  # on PostgreSQL too
    assert any(wallet_sceau.certificate_id(0).encode() in value for _, value in rows)
    for table, value in rows:
        assert not any(secret in value for secret in secrets_sent), table
    logged = caplog.text.encode()
    assert not any(secret in logged for secret in (*secrets_sent, credential.encode()))
