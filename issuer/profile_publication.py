"""The issuer's public profile: built from the key history, and its hash anchored in the registry.

The profile's bytes are `IssuerProfile.to_json()`, the very bytes `/.well-known/sceau-issuer.json`
serves and `sceau profile --out` writes; the registry's `currentProfile()` holds their SHA-256,
and each `ProfilePublished` event keeps the history. Publishing is idempotent and crash-safe: it
sends nothing when the chain already holds the hash, the registry refuses a hash that is already
current (a copy sent before a crash cannot publish twice), and each transaction is recorded in
the audit log before it is sent.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from contracts.client import ProfileRecord, RegistryClient
from contracts.errors import ProfileUnchanged
from contracts.profile import AnchoringAddress, IssuerProfile, SigningCertificate
from issuer.audit_hook import AuditHook
from issuer.errors import IssuanceError
from offchain_store.records import IssuerKeyRecord, KeyKind

AUDIT_ACTION = "profile.publishing"


class ProfilePublicationError(IssuanceError):
    """The profile's hash could not be made the registry's current one; the message says why."""


@dataclass(frozen=True)
class ProfileFacts:
    """What the profile says besides the key history: who the issuer is, its chain and roots."""

    name: str
    public_base_url: str
    chain_id: int
    contract: str
    trust_root_pems: tuple[str, ...]


@dataclass(frozen=True)
class ProfilePublication:
    """The profile hash the registry holds after `publish_current_profile`, and how it got there."""

    profile_sha256: bytes
    published_at: datetime  # the chain's time of the publication now current
    tx_hash: str | None  # None: the chain already held this hash, nothing was sent

    @property
    def sent(self) -> bool:
        """True when this call's transaction made the hash current."""
        return self.tx_hash is not None


def issuer_profile(
    engine: Engine,
    issuer_id: str,
    *,
    name: str,
    public_base_url: str,
    chain_id: int,
    contract: str,
    trust_root_pems: tuple[str, ...],
) -> IssuerProfile:
    """The public profile: every signing certificate and anchoring address with its period."""
    with Session(engine) as session:
        query = select(IssuerKeyRecord).where(IssuerKeyRecord.issuer_id == issuer_id)
        records = sorted(session.exec(query).all(), key=lambda r: (_utc(r.valid_from), r.id or 0))
    return IssuerProfile(
        name=name,
        public_base_url=public_base_url,
        chain_id=chain_id,
        contract=contract,
        anchoring_addresses=tuple(
            AnchoringAddress(address=r.value, valid_from=start, valid_until=end)
            for r in records
            if r.kind == KeyKind.ANCHORING
            for start, end in [_period(r)]
        ),
        signing_certificates=tuple(
            # The records keep the PEM stripped; the profile carries it in the strict form
            # (docs/profile.md: LF line ends and a final LF).
            SigningCertificate(pem=strict_pem(r.value), valid_from=start, valid_until=end)
            for r in records
            if r.kind == KeyKind.SIGNING
            for start, end in [_period(r)]
        ),
        trust_roots=tuple(strict_pem(pem) for pem in trust_root_pems),
    )


def strict_pem(pem: str) -> str:
    """A PEM text in the profile's strict form: LF line ends, no blank lines, a final LF."""
    lines = [line.strip() for line in pem.replace("\r\n", "\n").split("\n")]
    return "\n".join(line for line in lines if line) + "\n"


def current_profile(engine: Engine, issuer_id: str, facts: ProfileFacts) -> IssuerProfile:
    """The profile as `sceau profile` and the web app build it, from the records and `facts`."""
    return issuer_profile(
        engine,
        issuer_id,
        name=facts.name,
        public_base_url=facts.public_base_url,
        chain_id=facts.chain_id,
        contract=facts.contract,
        trust_root_pems=facts.trust_root_pems,
    )


def profile_sha256(profile: IssuerProfile) -> bytes:
    """SHA-256 of the profile document's bytes: what the registry holds."""
    return hashlib.sha256(profile.to_json()).digest()


def publish_current_profile(
    engine: Engine,
    issuer_id: str,
    *,
    admin: RegistryClient,
    facts: ProfileFacts,
    audit: AuditHook,
    actor: str,
) -> ProfilePublication:
    """Make the current profile's hash the registry's current one (with the admin's key).

    Sends nothing when the chain holds it already; otherwise prepare → record in the audit log
    → send → wait. A call after a crash at any step ends with the hash current, published once.
    """
    digest = profile_sha256(current_profile(engine, issuer_id, facts))
    on_chain = admin.current_profile()
    if on_chain is not None and on_chain.profile_sha256 == digest:
        return ProfilePublication(digest, on_chain.published_at, tx_hash=None)
    try:
        prepared = admin.prepare_publish_profile(digest)
        _record(engine, audit, actor, digest, tx_hash=prepared.tx_hash, replaces=on_chain)
        outcome = admin.wait(admin.send(prepared))
    except ProfileUnchanged:  # a copy sent before a crash, or a concurrent run, was first
        return _already_current(admin, digest)
    return ProfilePublication(digest, outcome.block_timestamp, tx_hash=outcome.tx_hash)


def _record(
    engine: Engine,
    audit: AuditHook,
    actor: str,
    digest: bytes,
    *,
    tx_hash: str,
    replaces: ProfileRecord | None,
) -> None:
    details = {
        "transaction": tx_hash,
        "replaces": replaces.profile_sha256.hex() if replaces is not None else None,
    }
    with Session(engine) as session:
        audit(session, actor, AUDIT_ACTION, digest.hex(), details)
        session.commit()


def _already_current(admin: RegistryClient, digest: bytes) -> ProfilePublication:
    on_chain = admin.current_profile()
    if on_chain is None or on_chain.profile_sha256 != digest:
        raise ProfilePublicationError(
            f"the registry refused profile {digest.hex()[:16]}… as already current, but holds "
            f"{on_chain.profile_sha256.hex()[:16] + '…' if on_chain else 'none'}: another "
            "publication is under way; run the command again"
        )
    return ProfilePublication(digest, on_chain.published_at, tx_hash=None)


def _period(record: IssuerKeyRecord) -> tuple[datetime, datetime | None]:
    until = _utc(record.valid_until) if record.valid_until else None
    return _utc(record.valid_from), until


def _utc(value: datetime) -> datetime:
    # SQLite hands datetimes back naive; they are always UTC here.
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
