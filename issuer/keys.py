"""The issuer's key history (signing certificates, anchoring addresses) and its rotation; each
rotation ends by publishing the new profile's hash in the registry (`issuer.profile_publication`).

Periods are in chain time and half-open: `valid_from` inclusive, `valid_until` exclusive. A
verifier judges a certificate by its anchoring block's time, so a rotation places the boundary
just past the latest mined block (`next_period_start`): every block already mined belongs to the
old key, every later block (timestamps strictly increase) to the new one.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator.errors import PathBuildingError, PathValidationError
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from contracts.client import RegistryClient, Role
from issuer.audit_hook import AuditHook
from issuer.errors import IssuanceError
from issuer.profile_publication import (
    ProfileFacts,
    ProfilePublication,
    publish_current_profile,
)
from issuer.profile_publication import issuer_profile as issuer_profile  # where it used to be
from offchain_store.records import (
    BatchRecord,
    BatchState,
    IssuerKeyRecord,
    KeyKind,
    ensure_issuer,
)
from offchain_store.statuses import list_row
from offchain_store.work_claims import hold_issuer_records

ONE_SECOND = timedelta(seconds=1)
_UNANCHORED = (BatchState.OPEN, BatchState.SEALED, BatchState.ANCHORING)


class KeyRotationError(IssuanceError):
    """A key rotation was refused or cannot go on; the message says why and what to do."""


def certificate_pem(der: bytes) -> str:
    """PEM text of a DER certificate."""
    return x509.load_der_x509_certificate(der).public_bytes(Encoding.PEM).decode()


def certificate_sha256(pem: str) -> str:
    """SHA-256 (hex) of a PEM certificate's DER: how the audit log names a certificate."""
    der = x509.load_pem_x509_certificate(pem.encode()).public_bytes(Encoding.DER)
    return hashlib.sha256(der).hexdigest()


def next_period_start(latest_block_time: datetime) -> datetime:
    """Where a rotation puts the boundary: the first second no mined block can have."""
    return _utc(latest_block_time) + ONE_SECOND


# --- periods ---------------------------------------------------------------------------------


def register_issuer(engine: Engine, issuer_id: str, name: str) -> None:
    """The issuer's row, created on first use or renamed, and its status list's row; processes
    starting at once on an empty database make one of each, without an error (workers sealing
    their first batches at once would otherwise both create the list's row)."""
    with Session(engine) as session:
        hold_issuer_records(session, issuer_id)
        ensure_issuer(session, issuer_id, name)  # commits
    with Session(engine) as session:
        hold_issuer_records(session, issuer_id)
        list_row(session, issuer_id)
        session.commit()


def register_keys_in_use(
    engine: Engine, issuer_id: str, *, signing_pem: str, anchoring_address: str, now: datetime
) -> None:
    """Record the keys issuance is about to use; a changed key closes the previous period.
    Processes starting at once record each key's period once."""
    with Session(engine) as session:
        hold_issuer_records(session, issuer_id)
        switch_key(session, issuer_id, KeyKind.SIGNING, signing_pem, at=now)
        switch_key(session, issuer_id, KeyKind.ANCHORING, anchoring_address, at=now)
        session.commit()


def switch_key(
    session: Session, issuer_id: str, kind: KeyKind, value: str, *, at: datetime
) -> tuple[str, ...] | None:
    """Make `value` the one key of `kind` in use from `at`: close the other open periods there.

    Returns the values whose periods were closed, or None when `value` was already in use.
    """
    value = value.strip()
    open_periods = _open_periods(session, issuer_id, kind)
    if any(_same(kind, record.value, value) for record in open_periods):
        return None
    for record in open_periods:
        record.valid_until = _end_after(record, at)
    session.add(IssuerKeyRecord(issuer_id=issuer_id, kind=kind, value=value, valid_from=_utc(at)))
    return tuple(record.value for record in open_periods)


def open_key_period(
    session: Session, issuer_id: str, kind: KeyKind, value: str, *, since: datetime
) -> bool:
    """Open a period of `value` from `since`, beside the others; False if one is open already."""
    value = value.strip()
    if any(_same(kind, r.value, value) for r in _open_periods(session, issuer_id, kind)):
        return False
    session.add(
        IssuerKeyRecord(issuer_id=issuer_id, kind=kind, value=value, valid_from=_utc(since))
    )
    return True


def close_key_period(
    session: Session, issuer_id: str, kind: KeyKind, value: str, *, until: datetime
) -> bool:
    """Close the open period of `value` at `until`; False if it has none open."""
    closed = False
    for record in _open_periods(session, issuer_id, kind):
        if _same(kind, record.value, value):
            record.valid_until = _end_after(record, until)
            closed = True
    return closed


def _open_periods(session: Session, issuer_id: str, kind: KeyKind) -> list[IssuerKeyRecord]:
    query = select(IssuerKeyRecord).where(
        IssuerKeyRecord.issuer_id == issuer_id,
        IssuerKeyRecord.kind == kind,
        col(IssuerKeyRecord.valid_until).is_(None),
    )
    return list(session.exec(query).all())


def _end_after(record: IssuerKeyRecord, until: datetime) -> datetime:
    # A period is never empty: the profile refuses valid_until <= valid_from.
    return max(_utc(until), _utc(record.valid_from) + ONE_SECOND)


def _same(kind: KeyKind, a: str, b: str) -> bool:
    return a.lower() == b.lower() if kind is KeyKind.ANCHORING else a.strip() == b.strip()


def unanchored_batches(engine: Engine, issuer_id: str) -> list[str]:
    """Batches signed or being signed but not yet anchored: a rotation must wait for them."""
    with Session(engine) as session:
        query = select(BatchRecord.id).where(
            BatchRecord.issuer_id == issuer_id, col(BatchRecord.state).in_(_UNANCHORED)
        )
        return list(session.exec(query).all())


def refuse_while_unanchored(engine: Engine, issuer_id: str) -> None:
    """Refuse a rotation while a batch signed with the old keys still waits to be anchored."""
    pending = unanchored_batches(engine, issuer_id)
    if pending:
        raise KeyRotationError(
            f"{len(pending)} batch(es) signed with the current keys are not anchored yet: "
            "run `sceau resume` first, then rotate"
        )


# --- signing certificate ---------------------------------------------------------------------


def check_signing_certificate(
    cert: x509.Certificate,
    chain: Iterable[x509.Certificate],
    *,
    trust_root_pem: str,
    at: datetime,
) -> None:
    """Refuse a certificate that does not chain to the trust root or is not valid at `at`."""
    if not cert.not_valid_before_utc <= _utc(at) < cert.not_valid_after_utc:
        raise KeyRotationError(
            f"the new signing certificate is valid from {cert.not_valid_before_utc:%Y-%m-%d} "
            f"to {cert.not_valid_after_utc:%Y-%m-%d}, not at chain time {at:%Y-%m-%d %H:%M} UTC"
        )
    root = _asn1(x509.load_pem_x509_certificate(trust_root_pem.encode()))
    context = ValidationContext(trust_roots=[root], moment=_utc(at), allow_fetching=False)
    validator = CertificateValidator(
        _asn1(cert), intermediate_certs=[_asn1(c) for c in chain], validation_context=context
    )
    try:
        asyncio.run(validator.async_validate_path())
    except (PathBuildingError, PathValidationError) as exc:
        raise KeyRotationError(
            f"the new signing certificate does not chain to the configured trust root: {exc}"
        ) from None


def _asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(Encoding.DER))


@dataclass(frozen=True)
class SigningRotation:
    """What one run of `record_signing_rotation` did."""

    retired: tuple[str, ...] | None  # the retired certificates' PEMs; None: `pem` was in use
    profile: ProfilePublication


def record_signing_rotation(
    engine: Engine,
    issuer_id: str,
    *,
    pem: str,
    at: datetime,
    audit: AuditHook,
    actor: str,
    admin: RegistryClient,
    profile: ProfileFacts,
) -> SigningRotation:
    """Close the signing period in use and open `pem`'s at `at`, audited in one transaction,
    then publish the new profile's hash with `admin` (a re-run publishes what a crash left)."""
    with Session(engine) as session:
        hold_issuer_records(session, issuer_id)
        retired = switch_key(session, issuer_id, KeyKind.SIGNING, pem, at=at)
        if retired is not None:
            details = {
                "valid_from": _utc(at).isoformat(),
                "retired_sha256": [certificate_sha256(p) for p in retired],
            }
            audit(session, actor, "keys.signing_rotated", certificate_sha256(pem), details)
        session.commit()
    publication = publish_current_profile(
        engine, issuer_id, admin=admin, facts=profile, audit=audit, actor=actor
    )
    return SigningRotation(retired=retired, profile=publication)


# --- anchoring address -----------------------------------------------------------------------


@dataclass(frozen=True)
class AnchoringRotation:
    """What one run of `rotate_anchoring` did (a re-run after a crash does only what is left)."""

    old_address: str
    new_address: str
    granted: tuple[Role, ...]
    revoked: tuple[Role, ...]
    new_from: datetime
    old_until: datetime
    profile: ProfilePublication


def rotate_anchoring(
    engine: Engine,
    admin: RegistryClient,
    issuer_id: str,
    *,
    old_address: str,
    new_address: str,
    audit: AuditHook,
    actor: str,
    profile: ProfileFacts,
) -> AnchoringRotation:
    """Move the issuer's roles from `old_address` to `new_address` and record both periods.

    Order, each step skipped when already done, so a crash is finished by running again:
    grant the roles to the new address → open its period at the grant block's time → revoke
    the old address's roles → close its period just past the revocation block, audited in the
    same transaction → publish the new profile's hash with `admin`. Re-run after a crash
    between a transaction and its record, the latest block time stands in for the lost block
    time: later, never earlier, than the real one.
    """
    if old_address.lower() == new_address.lower():
        raise KeyRotationError(f"the new anchoring address is the current one ({old_address})")
    roles = _roles_to_move(admin, old_address, new_address)
    granted = tuple(role for role in roles if not admin.has_role(role, new_address))
    new_from = _role_changes(admin, new_address, granted, grant=True)
    with Session(engine) as session:
        hold_issuer_records(session, issuer_id)
        open_key_period(session, issuer_id, KeyKind.ANCHORING, new_address, since=new_from)
        session.commit()
    held = (Role.ISSUER, Role.REVOKER)
    revoked = tuple(role for role in held if admin.has_role(role, old_address))
    old_until = next_period_start(_role_changes(admin, old_address, revoked, grant=False))
    with Session(engine) as session:
        hold_issuer_records(session, issuer_id)
        closed = close_key_period(
            session, issuer_id, KeyKind.ANCHORING, old_address, until=old_until
        )
        if closed or granted or revoked:
            details = {
                "retired": old_address,
                "retired_until": old_until.isoformat(),
                "valid_from": new_from.isoformat(),
                "roles": [role.value for role in roles],
            }
            audit(session, actor, "keys.anchoring_rotated", new_address, details)
        session.commit()
    publication = publish_current_profile(
        engine, issuer_id, admin=admin, facts=profile, audit=audit, actor=actor
    )
    return AnchoringRotation(
        old_address, new_address, granted, revoked, new_from, old_until, publication
    )


def _roles_to_move(admin: RegistryClient, old_address: str, new_address: str) -> tuple[Role, ...]:
    # A re-run finds the old address's REVOKER_ROLE already moved: the new one holds it then.
    revoker = admin.has_role(Role.REVOKER, old_address) or admin.has_role(Role.REVOKER, new_address)
    return (Role.ISSUER, Role.REVOKER) if revoker else (Role.ISSUER,)


def _role_changes(
    admin: RegistryClient, address: str, roles: tuple[Role, ...], *, grant: bool
) -> datetime:
    """Grant or revoke `roles`; the block time of the last change (the latest block's if none)."""
    at = None
    for role in roles:
        change = admin.grant_role if grant else admin.revoke_role
        at = change(role, address).block_timestamp
    return _utc(at) if at is not None else admin.latest_block_time()


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
