"""Wallet credential offers and nonces (OpenID4VCI): what is kept between the candidate's page,
the wallet's token request and its credential request.

No secret is kept in the clear: the pre-authorized code, the transaction code and the access
token are stored as SHA-256 digests, and the claims waiting for the wallet are encrypted under
a key wrapped only under the code (then under the access token), which only the wallet holds.
The candidate's claims themselves are kept beside the certificate, under its data key.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Column, LargeBinary, update
from sqlalchemy.engine import Engine
from sqlmodel import Field, Session, SQLModel, col, select

from offchain_store.audit import UtcDateTime
from offchain_store.blobs import BlobStore
from offchain_store.crypto import DataKey, decrypt_document, encrypt_document
from offchain_store.errors import BlobNotFound, StoreError

CLAIMS_BLOB_SUFFIX = ".claims"
ISSUANCE, PRESENTATION = "issuance", "presentation"  # what a nonce is for


class WalletStoreError(StoreError):
    """The wallet records cannot be used as asked."""


class WalletClaimsMissing(WalletStoreError):
    def __init__(self) -> None:
        super().__init__("This certificate was issued before wallet credentials existed.")


def _when(*, nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(UtcDateTime(), nullable=nullable))


class WalletOfferRecord(SQLModel, table=True):
    """One credential offer: usable once, until it expires."""

    __tablename__ = "wallet_offers"

    id: str = Field(primary_key=True)  # 128-bit random, hex
    certificate_id: str = Field(foreign_key="certificates.id", index=True)
    code_sha256: str = Field(unique=True)
    tx_code_sha256: str | None = None
    tx_code_failures: int = 0
    # The claims, sealed under the offer's own key; wiped once the credential is issued.
    sealed_claims: bytes | None = Field(default=None, sa_column=Column(LargeBinary))
    # The offer key, wrapped under the code, then (after the token) under the access token.
    key_wrap: bytes | None = Field(default=None, sa_column=Column(LargeBinary))
    created_at: datetime = _when(nullable=False)
    expires_at: datetime = _when(nullable=False)
    redeemed_at: datetime | None = _when()  # the code was exchanged for an access token
    token_sha256: str | None = Field(default=None, unique=True)
    token_expires_at: datetime | None = _when()
    issued_at: datetime | None = _when()  # the credential was issued
    burned_at: datetime | None = _when()  # too many wrong transaction codes


class WalletNonceRecord(SQLModel, table=True):
    """A nonce a wallet must sign: for a key proof (issuance) or a key binding (presentation)."""

    __tablename__ = "wallet_nonces"

    value: str = Field(primary_key=True)
    purpose: str = Field(index=True)  # ISSUANCE or PRESENTATION
    audience: str = ""
    created_at: datetime = _when(nullable=False)
    expires_at: datetime = _when(nullable=False)
    used_at: datetime | None = _when()


def secret_digest(secret: str) -> str:
    """The stored form of a code or token: its SHA-256, hex."""
    return hashlib.sha256(secret.encode()).hexdigest()


def same_digest(stored: str | None, secret: str) -> bool:
    return stored is not None and hmac.compare_digest(stored, secret_digest(secret))


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# --- the claims kept beside the certificate ------------------------------------------------------


def _claims_key(certificate_id: str) -> str:
    return certificate_id + CLAIMS_BLOB_SUFFIX


def _claims_ad(certificate_id: str) -> bytes:
    return bytes.fromhex(certificate_id) + b"|wallet-claims"


def keep_wallet_claims(
    blobs: BlobStore, certificate_id: str, claims_json: bytes, data_key: DataKey
) -> None:
    """Store what a wallet credential says, under the certificate's own data key."""
    sealed = encrypt_document(claims_json, data_key, associated_data=_claims_ad(certificate_id))
    blobs.put(_claims_key(certificate_id), sealed)


def read_wallet_claims(blobs: BlobStore, certificate_id: str, data_key: DataKey) -> bytes:
    """The claims kept by :func:`keep_wallet_claims`; WalletClaimsMissing if there are none."""
    try:
        sealed = blobs.get(_claims_key(certificate_id))
    except BlobNotFound:
        raise WalletClaimsMissing() from None
    return decrypt_document(sealed, data_key, associated_data=_claims_ad(certificate_id))


def shred_wallet_claims(blobs: BlobStore, certificate_id: str) -> None:
    """Delete the claims blob (revocation); harmless when there is none."""
    blobs.delete(_claims_key(certificate_id))


# --- offers ----------------------------------------------------------------------------------


def save_offer(engine: Engine, offer: WalletOfferRecord) -> None:
    with Session(engine) as session:
        session.add(offer)
        session.commit()


def offer_by_code(engine: Engine, code: str) -> WalletOfferRecord | None:
    with Session(engine, expire_on_commit=False) as session:
        return session.exec(
            select(WalletOfferRecord).where(WalletOfferRecord.code_sha256 == secret_digest(code))
        ).first()


def offer_by_token(engine: Engine, token: str) -> WalletOfferRecord | None:
    with Session(engine, expire_on_commit=False) as session:
        return session.exec(
            select(WalletOfferRecord).where(WalletOfferRecord.token_sha256 == secret_digest(token))
        ).first()


def count_tx_code_failure(engine: Engine, offer_id: str, *, burn_after: int, now: datetime) -> bool:
    """Count one wrong transaction code; True when the offer is now burned."""
    with Session(engine) as session:
        offer = session.get(WalletOfferRecord, offer_id, with_for_update=True)
        if offer is None:
            return True
        offer.tx_code_failures += 1
        if offer.tx_code_failures >= burn_after:
            offer.burned_at, offer.sealed_claims, offer.key_wrap = now, None, None
        session.commit()
        return offer.burned_at is not None


def redeem_offer(
    engine: Engine,
    offer_id: str,
    *,
    token: str,
    key_wrap: bytes,
    expires_at: datetime,
    now: datetime,
) -> bool:
    """Exchange the code for a token, once: False when another request redeemed it first."""
    with Session(engine) as session:
        done = session.execute(
            update(WalletOfferRecord)
            .where(
                col(WalletOfferRecord.id) == offer_id,
                col(WalletOfferRecord.redeemed_at).is_(None),
                col(WalletOfferRecord.burned_at).is_(None),
            )
            .values(
                redeemed_at=now,
                token_sha256=secret_digest(token),
                token_expires_at=expires_at,
                key_wrap=key_wrap,
            )
        )
        session.commit()
        return bool(done.rowcount)  # type: ignore[attr-defined]


def mark_issued(engine: Engine, offer_id: str, *, now: datetime) -> bool:
    """The credential goes out once: wipe the sealed claims; False if already issued."""
    with Session(engine) as session:
        done = session.execute(
            update(WalletOfferRecord)
            .where(
                col(WalletOfferRecord.id) == offer_id, col(WalletOfferRecord.issued_at).is_(None)
            )
            .values(issued_at=now, sealed_claims=None, key_wrap=None)
        )
        session.commit()
        return bool(done.rowcount)  # type: ignore[attr-defined]


def forget_offers_of(engine: Engine, certificate_id: str) -> None:
    """Delete every offer of a certificate (revocation, erasure)."""
    with Session(engine) as session:
        for offer in session.exec(
            select(WalletOfferRecord).where(WalletOfferRecord.certificate_id == certificate_id)
        ):
            session.delete(offer)
        session.commit()


# --- nonces ----------------------------------------------------------------------------------


def new_nonce(
    engine: Engine, *, purpose: str, audience: str = "", minutes: int, now: datetime
) -> WalletNonceRecord:
    """A fresh single-use nonce for a key proof (issuance) or a key binding (presentation)."""
    nonce = WalletNonceRecord(
        value=secrets.token_urlsafe(24),
        purpose=purpose,
        audience=audience,
        created_at=now,
        expires_at=now + timedelta(minutes=minutes),
    )
    with Session(engine, expire_on_commit=False) as session:
        session.add(nonce)
        session.commit()
    return nonce


def use_nonce(
    engine: Engine, value: str, *, purpose: str, now: datetime
) -> WalletNonceRecord | None:
    """Spend a nonce once: the record if it was ours, unused and alive; else None."""
    with Session(engine, expire_on_commit=False) as session:
        done = session.execute(
            update(WalletNonceRecord)
            .where(
                col(WalletNonceRecord.value) == value,
                col(WalletNonceRecord.purpose) == purpose,
                col(WalletNonceRecord.used_at).is_(None),
            )
            .values(used_at=now)
        )
        session.commit()
        if not done.rowcount:  # type: ignore[attr-defined]
            return None
        nonce = session.get(WalletNonceRecord, value)
        if nonce is None or _utc(nonce.expires_at) <= now:
            return None
        return nonce


def nonce_state(engine: Engine, value: str, *, purpose: str) -> WalletNonceRecord | None:
    """A nonce as stored (to tell an unknown nonce from a spent one)."""
    with Session(engine, expire_on_commit=False) as session:
        nonce = session.get(WalletNonceRecord, value)
        return nonce if nonce is not None and nonce.purpose == purpose else None
