"""Issuing the wallet credential with OpenID4VCI 1.0, pre-authorized code flow.

The candidate's page asks for an offer with the link key: the certificate's claims are opened
then and sealed under a fresh offer key wrapped only under the pre-authorized code, so the
link key is used once and never kept. The wallet exchanges the code (and the transaction
code, when asked) for an access token, once; then proves possession of its key over a fresh
nonce and the issuer's identifier, and receives one credential, once.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, OKPKey
from sqlalchemy.engine import Engine
from sqlmodel import Session

from contracts.receipt import Receipt
from issuer.content import CertificateContent
from issuer.status_list import StatusListPolicy, reference_of, served_list
from issuer.wallet_credential import (
    CREDENTIAL_CONFIGURATION_ID,
    CredentialRequest,
    CredentialSigner,
    build_credential,
)
from issuer.wallet_errors import (
    CertificateNotReady,
    CertificateRevokedRefusal,
    CertificateSuspendedRefusal,
    CredentialAlreadyIssued,
    MalformedCredentialRequest,
    OfferBurned,
    OfferExpired,
    OfferUnknown,
    OfferUsed,
    ProofInvalid,
    ProofStale,
    ProofWrongAudience,
    ProofWrongNonce,
    ProofWrongType,
    TokenExpired,
    TokenUnknown,
    UnknownConfiguration,
    UnsupportedGrant,
    WrongTxCode,
)
from offchain_store.blobs import BlobStore
from offchain_store.crypto import (
    LinkKey,
    decrypt_document,
    encrypt_document,
    new_data_key,
    new_link_key,
    unwrap_data_key,
    wrap_data_key,
)
from offchain_store.errors import DecryptionFailed
from offchain_store.records import CertificateRecord, CertificateState
from offchain_store.shares import candidate_data_key
from offchain_store.statuses import suspended_ids
from offchain_store.wallet_offers import (
    ISSUANCE,
    WalletOfferRecord,
    count_tx_code_failure,
    forget_offers_of,
    mark_issued,
    offer_by_code,
    offer_by_token,
    read_wallet_claims,
    redeem_offer,
    same_digest,
    save_offer,
    secret_digest,
    use_nonce,
)

PRE_AUTHORIZED_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
PROOF_TYPE = "openid4vci-proof+jwt"
PROOF_ALGORITHMS = ("ES256", "ES384", "EdDSA")


@dataclass(frozen=True)
class WalletPolicy:
    """How offers, tokens and nonces behave; built from the settings by the shell
    (`for_issuer`). A policy with a lifetime or a count below one cannot exist."""

    issuer_url: str  # the credential issuer identifier: the public base URL
    offer_minutes: int = 10
    token_minutes: int = 5
    nonce_minutes: int = 5
    tx_code: bool = True  # ask for a transaction code shown apart from the QR code
    tx_code_length: int = 6
    tx_code_attempts: int = 5  # wrong codes before the offer is burned
    proof_max_age_seconds: int = 300

    def __post_init__(self) -> None:
        if not self.issuer_url or self.issuer_url.endswith("/"):
            raise ValueError("wallet policy: the issuer URL must be set, without a trailing slash")
        counts = {
            "offer_minutes": self.offer_minutes,
            "token_minutes": self.token_minutes,
            "nonce_minutes": self.nonce_minutes,
            "tx_code_length": self.tx_code_length,
            "tx_code_attempts": self.tx_code_attempts,
            "proof_max_age_seconds": self.proof_max_age_seconds,
        }
        for name, value in counts.items():
            if value < 1:
                raise ValueError(f"wallet policy: {name} must be at least 1, not {value}")

    @classmethod
    def for_issuer(
        cls,
        public_base_url: str,
        *,
        offer_minutes: int,
        token_minutes: int,
        nonce_minutes: int,
        tx_code: bool,
        tx_code_attempts: int,
    ) -> WalletPolicy:
        """The policy of the issuer served at `public_base_url`, from the settings' values."""
        return cls(
            issuer_url=public_base_url.rstrip("/"),
            offer_minutes=offer_minutes,
            token_minutes=token_minutes,
            nonce_minutes=nonce_minutes,
            tx_code=tx_code,
            tx_code_attempts=tx_code_attempts,
        )


# --- offers ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CredentialOffer:
    """What the candidate's page shows: the offer (as a link and a QR code) and the tx code."""

    offer: dict[str, Any]
    uri: str  # openid-credential-offer://?credential_offer=…
    tx_code: str | None  # shown apart from the QR code; never stored in the clear
    expires_at: datetime


def create_offer(
    engine: Engine,
    blobs: BlobStore,
    *,
    certificate_id: str,
    candidate_key: LinkKey,
    policy: WalletPolicy,
    now: datetime,
) -> CredentialOffer:
    """A single-use offer for this certificate; the candidate's key opens its claims, once."""
    with Session(engine) as session:
        data_key = candidate_data_key(session, certificate_id, candidate_key)
        record = session.get(CertificateRecord, certificate_id)
        assert record is not None  # candidate_data_key found it
        receipt = record.receipt
    if receipt is None:
        raise CertificateNotReady()
    content = read_wallet_claims(blobs, certificate_id, data_key)
    sealed_for_wallet = json.dumps({"content": content.decode(), "receipt": receipt}).encode()
    offer_key, code = new_data_key(), new_link_key()
    offer_id = secrets.token_hex(16)
    tx_code = _new_tx_code(policy.tx_code_length) if policy.tx_code else None
    save_offer(
        engine,
        WalletOfferRecord(
            id=offer_id,
            certificate_id=certificate_id,
            code_sha256=secret_digest(code.to_token()),
            tx_code_sha256=secret_digest(f"{offer_id}|{tx_code}") if tx_code else None,
            sealed_claims=encrypt_document(
                sealed_for_wallet, offer_key, associated_data=_offer_ad(offer_id)
            ),
            key_wrap=wrap_data_key(offer_key, code, associated_data=_offer_ad(offer_id)),
            created_at=now,
            expires_at=now + timedelta(minutes=policy.offer_minutes),
        ),
    )
    offer = _offer_document(policy, code.to_token(), tx_code is not None)
    uri = "openid-credential-offer://?credential_offer=" + quote(
        json.dumps(offer, separators=(",", ":")), safe=""
    )
    expires = now + timedelta(minutes=policy.offer_minutes)
    return CredentialOffer(offer=offer, uri=uri, tx_code=tx_code, expires_at=expires)


def _offer_document(policy: WalletPolicy, code: str, with_tx_code: bool) -> dict[str, Any]:
    grant: dict[str, Any] = {"pre-authorized_code": code}
    if with_tx_code:
        grant["tx_code"] = {
            "input_mode": "numeric",
            "length": policy.tx_code_length,
            "description": "Code shown on your certificate page / Code affiché sur votre page",
        }
    return {
        "credential_issuer": policy.issuer_url,
        "credential_configuration_ids": [CREDENTIAL_CONFIGURATION_ID],
        "grants": {PRE_AUTHORIZED_GRANT: grant},
    }


def _new_tx_code(length: int) -> str:
    return "".join(secrets.choice("0123456789") for _ in range(length))


def _offer_ad(offer_id: str) -> bytes:
    return b"sceau-wallet-offer|" + offer_id.encode()


# --- token -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AccessToken:
    token: str = ""
    expires_in: int = 0

    def __repr__(self) -> str:
        return f"AccessToken(expires_in={self.expires_in})"  # the token itself never in a log


def exchange_code(
    engine: Engine,
    *,
    grant_type: str,
    code: str,
    tx_code: str | None,
    policy: WalletPolicy,
    now: datetime,
) -> AccessToken:
    """The token endpoint: one access token per offer, for the right transaction code."""
    if grant_type != PRE_AUTHORIZED_GRANT:
        raise UnsupportedGrant()
    offer = offer_by_code(engine, code) if code else None
    if offer is None:
        raise OfferUnknown()
    if offer.burned_at is not None:
        raise OfferBurned()
    if offer.redeemed_at is not None:
        raise OfferUsed()
    if _utc(offer.expires_at) <= now:
        raise OfferExpired()
    if offer.tx_code_sha256 is not None and not same_digest(
        offer.tx_code_sha256, f"{offer.id}|{tx_code or ''}"
    ):
        burned = count_tx_code_failure(
            engine, offer.id, burn_after=policy.tx_code_attempts, now=now
        )
        raise OfferBurned() if burned else WrongTxCode()
    token = new_link_key()
    offer_key = _unwrap_offer_key(offer, code)
    rewrapped = wrap_data_key(offer_key, token, associated_data=_offer_ad(offer.id))
    expires_at = now + timedelta(minutes=policy.token_minutes)
    if not redeem_offer(
        engine, offer.id, token=token.to_token(), key_wrap=rewrapped, expires_at=expires_at, now=now
    ):
        raise OfferUsed()  # another request redeemed it in between
    return AccessToken(token=token.to_token(), expires_in=policy.token_minutes * 60)


def _unwrap_offer_key(offer: WalletOfferRecord, secret: str) -> Any:
    if offer.key_wrap is None:
        raise OfferUsed()
    try:
        return unwrap_data_key(
            offer.key_wrap, LinkKey.from_token(secret), associated_data=_offer_ad(offer.id)
        )
    except (DecryptionFailed, ValueError):
        raise OfferUnknown() from None


# --- credential ------------------------------------------------------------------------------

StatusOf = Callable[[str], "dict[str, Any] | None"]
"""The status list reference of a certificate (None until the issuer publishes a list)."""
SuspendedOf = Callable[[str], bool]


@dataclass(frozen=True)
class Issuing:
    """What the credential endpoint needs besides the request."""

    engine: Engine
    policy: WalletPolicy
    signer: CredentialSigner
    status_of: StatusOf
    suspended: SuspendedOf


def issue_credential(
    issuing: Issuing, *, token: str, request: dict[str, Any], now: datetime
) -> str:
    """The credential endpoint: check the token, the request and the key proof; issue once."""
    offer = _offer_for_token(issuing.engine, token, now)
    proof = _proof_jwt(request)
    holder_jwk = check_key_proof(
        issuing.engine, proof, audience=issuing.policy.issuer_url, policy=issuing.policy, now=now
    )
    _refuse_unless_valid(issuing, offer.certificate_id)
    offer_key = _unwrap_offer_key(offer, token)
    assert offer.sealed_claims is not None  # wiped only with key_wrap
    opened = json.loads(
        decrypt_document(offer.sealed_claims, offer_key, associated_data=_offer_ad(offer.id))
    )
    credential = build_credential(
        CredentialRequest(
            content=CertificateContent.model_validate_json(opened["content"]),
            receipt=Receipt.from_json(opened["receipt"]),
            holder_jwk=holder_jwk,
            issuer_url=issuing.policy.issuer_url,
            status=issuing.status_of(offer.certificate_id),
            issued_at=now,
        ),
        issuing.signer,
    )
    if not mark_issued(issuing.engine, offer.id, now=now):
        raise CredentialAlreadyIssued()
    return credential


def _offer_for_token(engine: Engine, token: str, now: datetime) -> WalletOfferRecord:
    offer = offer_by_token(engine, token) if token else None
    if offer is None:
        raise TokenUnknown()
    if offer.issued_at is not None:
        raise CredentialAlreadyIssued()
    if offer.token_expires_at is None or _utc(offer.token_expires_at) <= now:
        raise TokenExpired()
    return offer


def _refuse_unless_valid(issuing: Issuing, certificate_id: str) -> None:
    """Nothing is issued for a revoked or suspended certificate; a revoked one's offers go."""
    with Session(issuing.engine) as session:
        record = session.get(CertificateRecord, certificate_id)
        revoked = record is None or record.state == CertificateState.REVOKED
    if revoked:
        forget_offers_of(issuing.engine, certificate_id)
        raise CertificateRevokedRefusal()
    if issuing.suspended(certificate_id):
        raise CertificateSuspendedRefusal()


def _proof_jwt(request: dict[str, Any]) -> str:
    """The one JWT key proof, in the 1.0 form (`proofs.jwt`) or the draft form (`proof`)."""
    if request.get("credential_configuration_id") != CREDENTIAL_CONFIGURATION_ID:
        raise UnknownConfiguration()
    proofs = request.get("proofs")
    if isinstance(proofs, dict) and set(proofs) == {"jwt"}:
        jwts = proofs["jwt"]
        if isinstance(jwts, list) and len(jwts) == 1 and isinstance(jwts[0], str):
            return jwts[0]
    proof = request.get("proof")
    if isinstance(proof, dict) and proof.get("proof_type") == "jwt" and "jwt" in proof:
        return str(proof["jwt"])
    raise MalformedCredentialRequest()


def check_key_proof(
    engine: Engine, proof: str, *, audience: str, policy: WalletPolicy, now: datetime
) -> dict[str, Any]:
    """The wallet's public key, once its proof is checked: typ, signature, aud, iat, nonce."""
    try:
        header = jws.extract_compact(proof.encode()).headers()
    except (JoseError, ValueError):
        raise ProofInvalid() from None
    if header.get("typ") != PROOF_TYPE:
        raise ProofWrongType()
    jwk = header.get("jwk")
    if header.get("alg") not in PROOF_ALGORITHMS or not isinstance(jwk, dict) or "d" in jwk:
        raise ProofInvalid()
    claims = _verified_claims(proof, jwk, str(header["alg"]))
    if claims.get("aud") != audience:
        raise ProofWrongAudience()
    iat = claims.get("iat")
    if not isinstance(iat, int) or abs(now.timestamp() - iat) > policy.proof_max_age_seconds:
        raise ProofStale()
    nonce = claims.get("nonce")
    if not isinstance(nonce, str) or use_nonce(engine, nonce, purpose=ISSUANCE, now=now) is None:
        raise ProofWrongNonce()
    return dict(jwk)


def _verified_claims(token: str, jwk: dict[str, Any], algorithm: str) -> dict[str, Any]:
    try:
        key = OKPKey.import_key(jwk) if jwk.get("kty") == "OKP" else ECKey.import_key(jwk)
        verified = jws.deserialize_compact(token, key, algorithms=[algorithm])
        claims = json.loads(verified.payload)
    except (JoseError, ValueError, TypeError):
        raise ProofInvalid() from None
    if not isinstance(claims, dict):
        raise ProofInvalid()
    return claims


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# --- status: the issuer's Token Status List (issuer/status_list.py) --------------------------


def status_from_list(engine: Engine, *, public_base_url: str, issuer_id: str) -> StatusOf:
    """The `status` claim from the issuer's status list, once a list is signed and served;
    None before (the claim is left out rather than point at a list nobody can fetch)."""
    policy = StatusListPolicy(public_base_url=public_base_url)

    def status(certificate_id: str) -> dict[str, Any] | None:
        if served_list(engine, issuer_id, ttl_seconds=policy.ttl_seconds) is None:
            return None
        reference = reference_of(engine, policy, issuer_id=issuer_id, certificate_id=certificate_id)
        return reference.claim()

    return status


def suspended_in_records(engine: Engine) -> SuspendedOf:
    """Whether a certificate stands suspended, as the suspension records hold it."""

    def suspended(certificate_id: str) -> bool:
        with Session(engine) as session:
            return certificate_id in suspended_ids(session, {certificate_id})

    return suspended
