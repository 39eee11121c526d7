"""The issuer's IETF Token Status List (draft-ietf-oauth-status-list): built, signed, published.

Two bits per certificate (0 valid, 1 revoked, 2 suspended) at a random slot, packed least
significant bits first, compressed with zlib (DEFLATE in the zlib wrapper), base64url without
padding, in a JWT of type `statuslist+jwt` signed by the issuer's signing key (`x5c`: the
signing certificate and its chain). A new list is signed at each status change; its SHA-256
is then published on chain (publishStatusList), saved before it is sent, like every write,
and sent with the anchoring account held (account_lock) like every transaction from it.
"""

from __future__ import annotations

import base64
import hashlib
import zlib
from collections.abc import Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, Protocol

from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey
from joserfc.jws import JWSRegistry
from pydantic import ValidationError
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from contracts.client import PreparedTransaction, TxOutcome, TxState
from contracts.errors import TransactionDropped, TransactionReverted
from contracts.profile import ProfileStatusList
from contracts.receipt import STATUS_LIST_MAX_ENTRIES, ReceiptStatus, StatusListReference
from contracts.values import StatusListRecord
from issuer.errors import IssuanceError
from issuer.signing import SigningIdentity, read_signing_material
from issuer.status_transactions import follow_to_end
from offchain_store.records import CertificateRecord, CertificateState
from offchain_store.statuses import (
    PublicationState,
    SignedStatusListRecord,
    SlotStatus,
    assign_slot,
    assign_slots,
    list_row,
    slot_of,
    slots,
    suspended_ids,
)
from offchain_store.work_claims import account_held

BITS: Final = 2
MEDIA_TYPE = "application/statuslist+jwt"
TOKEN_TYPE = "statuslist+jwt"  # noqa: S105  (a media type, not a secret)


class TokenRegistry(JWSRegistry):
    """joserfc's checks, with room for an `x5c` chain in the header and a large list."""

    max_header_length = 16_384
    max_payload_length = 16 * 1024 * 1024


class StatusListError(IssuanceError):
    """The status list cannot be built, signed or published as asked."""


@dataclass(frozen=True, kw_only=True)
class StatusListPolicy:
    """How long a list may be cached (`ttl`) and trusted (`exp`), and where it is served."""

    public_base_url: str
    ttl_seconds: int = 300
    validity: timedelta = timedelta(days=7)
    renew_before: timedelta = timedelta(days=1)  # re-signed when closer than this to `exp`

    def url(self, issuer_id: str) -> str:
        """The list's stable URL, also its `sub`: {public_base_url}/status/{issuer_id}."""
        return f"{self.public_base_url.rstrip('/')}/status/{issuer_id}"

    def in_profile(self, issuer_id: str) -> ProfileStatusList:
        """The profile's `status_list` member: where the list is served, two bits per entry."""
        try:
            return ProfileStatusList(uri=self.url(issuer_id), bits=BITS)
        except ValidationError:
            raise _unpublishable(self.url(issuer_id)) from None


@dataclass(frozen=True)
class StatusReference:
    """Where a certificate's status is: the list's URL and its slot (the draft's `status_list`)."""

    uri: str
    idx: int

    def claim(self) -> dict[str, Any]:
        """The `status` claim of a token that refers to this slot."""
        return {"status_list": {"idx": self.idx, "uri": self.uri}}

    def in_receipt(self) -> ReceiptStatus:
        """The receipt's `status` member (the same claim, checked as docs/receipt.md says)."""
        if not 0 <= self.idx < STATUS_LIST_MAX_ENTRIES:
            raise StatusListError(f"status index {self.idx} is beyond what a receipt can carry")
        try:
            return ReceiptStatus(status_list=StatusListReference(idx=self.idx, uri=self.uri))
        except ValidationError:
            raise _unpublishable(self.uri) from None


def _unpublishable(url: str) -> StatusListError:
    return StatusListError(
        f"the status list URL {url} cannot go in a receipt or profile: it must be https, or"
        " http on 127.0.0.1 or localhost (docs/receipt.md, section 1.6)"
    )


# --- encoding ------------------------------------------------------------------------------------


def pack_statuses(statuses: Mapping[int, SlotStatus], size: int) -> bytes:
    """`size` two-bit entries, index 0 in the least significant bits of byte 0; others 0."""
    if size % 4:
        raise StatusListError("a two-bit status list holds a multiple of four entries")
    packed = bytearray(size * BITS // 8)
    for index, status in statuses.items():
        if not 0 <= index < size:
            raise StatusListError(f"status index {index} is outside a list of {size}")
        packed[index // 4] |= int(status) << (2 * (index % 4))
    return bytes(packed)


def encode_list(packed: bytes) -> str:
    """DEFLATE in the zlib wrapper (as the draft says), then base64url without padding."""
    return base64.urlsafe_b64encode(zlib.compress(packed, 9)).rstrip(b"=").decode()


def decode_list(lst: str) -> bytes:
    """The packed bytes of an encoded list (for reading one back)."""
    return zlib.decompress(base64.urlsafe_b64decode(lst + "=" * (-len(lst) % 4)))


def status_at(packed: bytes, index: int) -> SlotStatus:
    """The two-bit status at `index` of a packed list."""
    return SlotStatus((packed[index // 4] >> (2 * (index % 4))) & 0b11)


# --- signing -------------------------------------------------------------------------------------


class StatusListSigner:
    """Signs status list tokens with the issuer's signing key; `x5c` carries its chain."""

    def __init__(self, key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey, chain_der: list[bytes]):
        if isinstance(key, ec.EllipticCurvePrivateKey):
            algorithms = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}
            if key.curve.name not in algorithms:
                raise StatusListError(f"no JOSE algorithm for the curve {key.curve.name}")
            self.algorithm = algorithms[key.curve.name]
            self._key: ECKey | RSAKey = ECKey.import_key(key)
        else:
            self.algorithm, self._key = "RS256", RSAKey.import_key(key)
        self._x5c = [base64.b64encode(der).decode() for der in chain_der]

    def sign(self, claims: dict[str, Any]) -> str:
        header = {"alg": self.algorithm, "typ": TOKEN_TYPE, "x5c": self._x5c}
        registry = TokenRegistry(algorithms=[self.algorithm])
        return jwt.encode(header, claims, self._key, registry=registry)


def status_list_signer(identity: SigningIdentity) -> StatusListSigner:
    """The signer of the lists: the same key and certificate chain as the PDF signatures."""
    material = read_signing_material(identity)
    certificates = (material.certificate, *material.chain)
    return StatusListSigner(material.key, [c.public_bytes(Encoding.DER) for c in certificates])


@dataclass(frozen=True)
class SignedList:
    token: str
    sha256: bytes
    issued_at: datetime
    expires_at: datetime


def sign_list(
    signer: StatusListSigner,
    policy: StatusListPolicy,
    *,
    issuer_id: str,
    lst: str,
    now: datetime,
) -> SignedList:
    """A `statuslist+jwt` with `sub` (its URL), `iat`, `exp`, `ttl` and the list."""
    expires = now + policy.validity
    claims = {
        "iss": policy.public_base_url.rstrip("/"),
        "sub": policy.url(issuer_id),
        "iat": int(now.timestamp()),
        "exp": int(expires.timestamp()),
        "ttl": policy.ttl_seconds,
        "status_list": {"bits": BITS, "lst": lst},
    }
    token = signer.sign(claims)
    return SignedList(token, hashlib.sha256(token.encode()).digest(), now, expires)


# --- the issuer's list, kept in the records ------------------------------------------------------


def current_statuses(session: Session, issuer_id: str) -> dict[int, SlotStatus]:
    """Each slot's status, from the records: revoked (shredded), suspended, else valid."""
    by_certificate = slots(session, issuer_id)
    revoked = set(
        session.exec(
            select(CertificateRecord.id).where(
                CertificateRecord.issuer_id == issuer_id,
                CertificateRecord.state == CertificateState.REVOKED,
            )
        )
    )
    suspended = suspended_ids(session, set(by_certificate))
    return {
        index: SlotStatus.REVOKED
        if cid in revoked
        else SlotStatus.SUSPENDED
        if cid in suspended
        else SlotStatus.VALID
        for cid, index in by_certificate.items()
    }


def reference_of(
    engine: Engine, policy: StatusListPolicy, *, issuer_id: str, certificate_id: str
) -> StatusReference:
    """The certificate's list URL and slot, the slot drawn at random on first call."""
    with Session(engine) as session:
        slot = assign_slot(session, issuer_id, certificate_id)
        session.commit()
        return StatusReference(policy.url(issuer_id), slot.idx)


def receipt_status(
    session: Session, policy: StatusListPolicy, *, issuer_id: str, certificate_id: str
) -> ReceiptStatus | None:
    """The receipt's `status` from the slot drawn at sealing; None for a certificate without
    one (sealed before slots were drawn), or when no document may name the list's URL (plain
    http off the loopback, development only): the receipt then leaves the member out."""
    slot = slot_of(session, certificate_id)
    nameable = profile_status_list(policy, issuer_id) is not None
    if slot is None or slot.issuer_id != issuer_id or not nameable:
        return None
    return StatusReference(policy.url(issuer_id), slot.idx).in_receipt()


def profile_status_list(policy: StatusListPolicy, issuer_id: str) -> ProfileStatusList | None:
    """The profile's `status_list`, or None when no document may name the list's URL (plain
    http off the loopback, development only): the profile then leaves the member out."""
    try:
        return policy.in_profile(issuer_id)
    except StatusListError:
        return None


def assign_missing_slots(session: Session, issuer_id: str) -> int:
    """Give every certificate of the issuer that has none a random slot (lazy assignment, for
    certificates stored before slots were drawn at issuance); returns how many were given."""
    ids = session.exec(select(CertificateRecord.id).where(CertificateRecord.issuer_id == issuer_id))
    return assign_slots(session, issuer_id, list(ids))


@dataclass(frozen=True)
class ServedList:
    """What `/status/{issuer_id}` answers: the token and its caching facts."""

    token: str
    sha256_hex: str
    ttl_seconds: int
    expires_at: datetime | None


def served_list(engine: Engine, issuer_id: str, *, ttl_seconds: int) -> ServedList | None:
    """The issuer's last signed list, or None if none was ever signed."""
    with Session(engine) as session:
        row = session.get(SignedStatusListRecord, issuer_id)
        if row is None or row.token is None or row.sha256 is None:
            return None
        return ServedList(row.token, row.sha256, ttl_seconds, row.expires_at)


# --- publication: sign the new list, then its hash on chain --------------------------------------


class StatusListChain(Protocol):
    def prepare_publish_status_list(self, list_sha256: bytes | str) -> PreparedTransaction: ...
    def send(self, prepared: PreparedTransaction) -> str: ...
    def resend(self, raw: bytes) -> str: ...
    def wait(self, tx_hash: str) -> TxOutcome: ...
    def transaction_state(self, tx_hash: str) -> TxState: ...
    def current_status_list(self) -> StatusListRecord | None: ...


@dataclass(frozen=True, kw_only=True)
class StatusListPublication:
    """What keeping the issuer's list current needs; no chain: signed and served only.

    `publisher_address`, the chain client's account (the anchoring account), is held
    (account_lock) while the hash is sent, as anchoring and revocation hold theirs; None: an
    account no other process sends from.
    """

    engine: Engine
    issuer_id: str
    signer: StatusListSigner
    policy: StatusListPolicy
    chain: StatusListChain | None = None
    publisher_address: str | None = None


def publish_status_list(publication: StatusListPublication, *, now: datetime) -> SignedList | None:
    """Sign a new list if a status changed (or `exp` nears), then publish its hash on chain.

    Resumes a publication left in flight. Returns the newly signed list, or None if the
    current one still holds. The caller must not hold the publisher's account lock itself.
    """
    # The account before the list's row (nothing takes them the other way round): two
    # processes never send from one account with the same nonce, nor wait on each other.
    with _publisher_held(publication), Session(publication.engine) as session:
        row = list_row(session, publication.issuer_id, lock=True)  # one publisher at a time
        if row.state == PublicationState.PUBLISHING:
            _settle(publication, session, row)
        assign_missing_slots(session, publication.issuer_id)
        packed = pack_statuses(current_statuses(session, publication.issuer_id), row.size)
        signed = _sign_if_changed(publication, row, packed, now)
        session.commit()  # served from now on, whatever the chain does next
        if row.state == PublicationState.SIGNED and publication.chain is not None:
            _publish(publication, session, row)
    return signed


def _publisher_held(publication: StatusListPublication) -> AbstractContextManager[None]:
    if publication.chain is None:
        return nullcontext()  # nothing is sent
    return account_held(publication.engine, publication.publisher_address)


def _sign_if_changed(
    publication: StatusListPublication, row: SignedStatusListRecord, packed: bytes, now: datetime
) -> SignedList | None:
    content = hashlib.sha256(row.size.to_bytes(8, "big") + packed).hexdigest()
    fresh = row.expires_at is not None and row.expires_at - publication.policy.renew_before > now
    if row.token is not None and row.content_sha256 == content and fresh:
        return None
    signed = sign_list(
        publication.signer,
        publication.policy,
        issuer_id=publication.issuer_id,
        lst=encode_list(packed),
        now=now,
    )
    row.token, row.sha256, row.content_sha256 = signed.token, signed.sha256.hex(), content
    row.issued_at, row.expires_at, row.version = (
        signed.issued_at,
        signed.expires_at,
        row.version + 1,
    )
    row.state, row.tx_hash, row.raw_tx, row.published_at = PublicationState.SIGNED, None, None, None
    return signed


def _publish(
    publication: StatusListPublication, session: Session, row: SignedStatusListRecord
) -> None:
    assert publication.chain is not None and row.sha256 is not None
    prepared = publication.chain.prepare_publish_status_list(bytes.fromhex(row.sha256))
    row.state, row.tx_hash, row.raw_tx = PublicationState.PUBLISHING, prepared.tx_hash, prepared.raw
    session.commit()  # saved before it is sent: a crash never leads to a second transaction
    publication.chain.send(prepared)
    _settle(publication, session, row)


def _settle(
    publication: StatusListPublication, session: Session, row: SignedStatusListRecord
) -> None:
    """Follow the saved transaction to its end (re-sent if the node lost it)."""
    chain = publication.chain
    if chain is None or row.tx_hash is None or row.raw_tx is None:
        row.state = PublicationState.SIGNED
        return
    try:
        outcome = follow_to_end(chain, row.tx_hash, row.raw_tx)
    except (TransactionDropped, TransactionReverted):
        current = chain.current_status_list()
        if current is None or current.list_hash.hex() != row.sha256:
            row.state, row.tx_hash, row.raw_tx = PublicationState.SIGNED, None, None
            session.commit()  # published again by the next run
            return
        row.state, row.published_at = PublicationState.PUBLISHED, current.published_at
    else:
        row.state, row.published_at = PublicationState.PUBLISHED, outcome.block_timestamp
    session.commit()
