"""Suspension: a reversible freeze of a certificate (appeal, inquiry...), and its lifting.

Asked by an admin, carried out in one on-chain batch per kind (suspendBatch, unsuspendBatch),
the signed transaction saved before it is sent; audited; nothing is shredded, so shares keep
working and show the suspension. Revocation stays final: a revoked certificate cannot be
suspended, and revoking a suspended one goes through the usual revocation (issuer.revocation).
After each change the issuer's status list is signed again and its hash published.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy.engine import Engine
from sqlmodel import Session

from contracts.client import PreparedTransaction
from contracts.values import SuspensionReason, SuspensionRecord
from issuer.audit_hook import AuditHook, no_audit
from issuer.errors import IssuanceError
from issuer.revocation import UnknownCertificate
from issuer.status_list import StatusListPublication, publish_status_list
from issuer.status_transactions import TransactionSender, by_transaction, save_then_send, settle
from offchain_store.records import CertificateRecord, CertificateState
from offchain_store.statuses import (
    ChangeState,
    SuspensionAction,
    SuspensionChangeRecord,
    changes_in,
    suspension_state,
)
from offchain_store.work_claims import account_held


class SuspensionError(IssuanceError):
    """A suspension or its lifting cannot be asked or carried out as requested."""


class SuspensionChain(TransactionSender, Protocol):
    def prepare_suspend_batch(
        self, items: Sequence[tuple[bytes | str, SuspensionReason | int]]
    ) -> PreparedTransaction: ...
    def prepare_unsuspend_batch(self, leaves: Sequence[bytes | str]) -> PreparedTransaction: ...
    def suspension_of(self, leaf: bytes | str) -> SuspensionRecord | None: ...


@dataclass(frozen=True, kw_only=True)
class Suspensions:
    """What carrying out suspensions needs: records, a chain client holding SUSPENDER_ROLE,
    and the issuer's status list (signed again, its hash published, after each change).
    `suspender_address`, the client's account, is held while its transactions are sent."""

    engine: Engine
    chain: SuspensionChain
    status_list: StatusListPublication | None = None
    audit: AuditHook = no_audit
    suspender_address: str | None = None


REASONS = {reason.name.lower(): reason for reason in SuspensionReason if reason.value}


def reason_of(name: str) -> SuspensionReason:
    """A suspension reason from its name: appeal, inquiry, payment or other."""
    try:
        return REASONS[name.strip().lower()]
    except KeyError:
        raise SuspensionError(
            f"unknown reason {name!r}; use one of: {', '.join(REASONS)}"
        ) from None


def current_suspension(engine: Engine, certificate_id: str) -> SuspensionChangeRecord | None:
    """The suspension standing on a certificate (carried out on chain), or None."""
    with Session(engine) as session:
        found = suspension_state(session, certificate_id).suspended
        if found is not None:
            session.expunge(found)
    return found


def suspend(
    engine: Engine,
    *,
    certificate_id: str,
    reason: str,
    note: str,
    actor: str,
    now: datetime,
    audit: AuditHook = no_audit,
) -> SuspensionChangeRecord:
    """Ask for a certificate's suspension; `carry_out` sends it on chain."""
    why = reason_of(reason)
    with Session(engine) as session:
        cert = _issued(session, certificate_id)
        state = suspension_state(session, cert.id)
        if state.suspended is not None or (
            state.pending is not None and state.pending.action == SuspensionAction.SUSPEND
        ):
            raise SuspensionError(f"certificate {cert.id} is already suspended")
        if state.pending is not None:
            raise SuspensionError(f"certificate {cert.id} has a lifting in progress; run it first")
        change = _new_change(cert.id, SuspensionAction.SUSPEND, why.name.lower(), note, actor, now)
        session.add(change)
        audit(session, actor, "suspension.approved", cert.id, {"reason": change.reason or ""})
        return _saved(session, change)


def unsuspend(
    engine: Engine,
    *,
    certificate_id: str,
    note: str,
    actor: str,
    now: datetime,
    audit: AuditHook = no_audit,
) -> SuspensionChangeRecord:
    """Ask for a suspension to be lifted; `carry_out` sends it on chain."""
    with Session(engine) as session:
        cert = _issued(session, certificate_id)
        state = suspension_state(session, cert.id)
        if state.pending is not None:
            raise SuspensionError(f"certificate {cert.id} has a change in progress; run it first")
        if state.suspended is None:
            raise SuspensionError(f"certificate {cert.id} is not suspended")
        change = _new_change(cert.id, SuspensionAction.UNSUSPEND, None, note, actor, now)
        session.add(change)
        audit(session, actor, "suspension.lift_approved", cert.id, {})
        return _saved(session, change)


def _issued(session: Session, certificate_id: str) -> CertificateRecord:
    cert = session.get(CertificateRecord, certificate_id)
    if cert is None:
        raise UnknownCertificate()
    if cert.state == CertificateState.REVOKED:
        raise SuspensionError(f"certificate {certificate_id} is revoked: revocation is final")
    if cert.leaf is None:
        raise SuspensionError(f"certificate {certificate_id} is not issued yet")
    return cert


def _new_change(
    certificate_id: str,
    action: SuspensionAction,
    reason: str | None,
    note: str,
    actor: str,
    now: datetime,
) -> SuspensionChangeRecord:
    if not note.strip():
        raise SuspensionError("give a note saying why")
    return SuspensionChangeRecord(
        id=secrets.token_hex(8),
        certificate_id=certificate_id,
        action=action.value,
        reason=reason,
        note=" ".join(note.split())[:500],
        requested_by=actor,
        created_at=now,
    )


def _saved(session: Session, change: SuspensionChangeRecord) -> SuspensionChangeRecord:
    session.commit()
    session.refresh(change)
    session.expunge(change)
    return change


# --- carrying out: one batch per kind, saved before sent ----------------------------------------


def carry_out(suspensions: Suspensions, *, actor: str, now: datetime) -> int:
    """Send every approved change on chain (one batch per kind), finish the ones in flight,
    then sign and publish the status list again. Returns how many changes were carried out."""
    with account_held(suspensions.engine, suspensions.suspender_address):
        done = _send_approved(suspensions, actor, now)
    # Outside the lock: publication holds the anchoring account, maybe this same one, itself.
    if suspensions.status_list is not None:
        publish_status_list(suspensions.status_list, now=now)
    return done


def _send_approved(suspensions: Suspensions, actor: str, now: datetime) -> int:
    done = _finish_in_flight(suspensions, actor)
    with Session(suspensions.engine) as session:
        live: list[SuspensionChangeRecord] = []
        for change in changes_in(session, ChangeState.APPROVED):
            if _void_if_revoked(session, change):
                continue
            if _done_already(suspensions, session, change, now):
                _record_done(suspensions, session, change, actor, transaction="")
                done += 1
                continue
            live.append(change)
        for action in SuspensionAction:
            batch = [c for c in live if c.action == action]
            if batch:
                _prepare_and_send(suspensions, session, action, batch)
        session.commit()
    return done + _finish_in_flight(suspensions, actor)


def _void_if_revoked(session: Session, change: SuspensionChangeRecord) -> bool:
    """A change overtaken by a revocation is void: revocation is final and overrides it."""
    cert = session.get(CertificateRecord, change.certificate_id)
    if cert is not None and cert.state != CertificateState.REVOKED:
        return False
    change.state = ChangeState.VOIDED
    return True


def _done_already(
    suspensions: Suspensions, session: Session, change: SuspensionChangeRecord, now: datetime
) -> bool:
    """A leaf the chain already holds as asked (a run stopped after mining, or another client)
    needs no sending: sending it would revert the whole batch."""
    on_chain = suspensions.chain.suspension_of(_leaf(session, change))
    if change.action == SuspensionAction.SUSPEND and on_chain is not None:
        change.state, change.done_at = ChangeState.DONE, on_chain.suspended_at
        return True
    if change.action == SuspensionAction.UNSUSPEND and on_chain is None:
        change.state, change.done_at = ChangeState.DONE, now
        return True
    return False


def _prepare_and_send(
    suspensions: Suspensions,
    session: Session,
    action: SuspensionAction,
    batch: list[SuspensionChangeRecord],
) -> None:
    leaves = [_leaf(session, change) for change in batch]
    chain = suspensions.chain
    if action == SuspensionAction.SUSPEND:
        reasons = [reason_of(change.reason or "") for change in batch]
        prepared = chain.prepare_suspend_batch(list(zip(leaves, reasons, strict=True)))
    else:
        prepared = chain.prepare_unsuspend_batch(leaves)
    save_then_send(chain, session, prepared, batch, sending=ChangeState.SENDING)


def _leaf(session: Session, change: SuspensionChangeRecord) -> str:
    cert = session.get(CertificateRecord, change.certificate_id)
    if cert is None or cert.leaf is None:
        raise SuspensionError(f"certificate {change.certificate_id} has no leaf on chain")
    return cert.leaf


def _finish_in_flight(suspensions: Suspensions, actor: str) -> int:
    """Follow each saved batch to its end, then mark its changes done (audited)."""
    finished = 0
    with Session(suspensions.engine) as session:
        sending = changes_in(session, ChangeState.SENDING)
        for batch in by_transaction(sending):
            finished += _settle(suspensions, session, batch, actor)
        session.commit()
    return finished


def _settle(
    suspensions: Suspensions, session: Session, batch: list[SuspensionChangeRecord], actor: str
) -> int:
    """Follow the batch's transaction to its end, then mark its changes done (audited)."""
    outcome = settle(suspensions.chain, session, batch, approved=ChangeState.APPROVED)
    if outcome is None:
        # Dropped or reverted (a leaf was revoked or changed meanwhile): approved again; the
        # next run voids what a revocation overtook and sends the rest.
        return 0
    for change in batch:
        change.state, change.done_at = ChangeState.DONE, outcome.block_timestamp
        _record_done(suspensions, session, change, actor, transaction=outcome.tx_hash)
    return len(batch)


def _record_done(
    suspensions: Suspensions,
    session: Session,
    change: SuspensionChangeRecord,
    actor: str,
    *,
    transaction: str,
) -> None:
    """Audit a change carried out: certificate.suspended or certificate.unsuspended."""
    details = {"reason": change.reason or "", "transaction": transaction}
    action = f"certificate.{change.action}ed"
    suspensions.audit(session, actor, action, change.certificate_id, details)


@dataclass(frozen=True)
class SuspensionOutcome:
    """Where a certificate stands after a suspension or a lifting was carried out."""

    certificate_id: str
    suspended: bool
    since: datetime | None  # the block time of the suspension that stands
    reason: str | None
    carried_out: int  # changes carried out by this run (others' included)


def suspend_now(
    suspensions: Suspensions,
    certificate_id: str,
    *,
    reason: str,
    note: str,
    actor: str,
    now: datetime,
) -> SuspensionOutcome:
    """Suspend a certificate on chain at once (with any other approved change), then publish."""
    suspend(
        suspensions.engine,
        certificate_id=certificate_id,
        reason=reason,
        note=note,
        actor=actor,
        now=now,
        audit=suspensions.audit,
    )
    return _outcome(suspensions, certificate_id, carry_out(suspensions, actor=actor, now=now))


def lift_now(
    suspensions: Suspensions, certificate_id: str, *, note: str, actor: str, now: datetime
) -> SuspensionOutcome:
    """Lift a certificate's suspension on chain at once, then publish the list again."""
    unsuspend(
        suspensions.engine,
        certificate_id=certificate_id,
        note=note,
        actor=actor,
        now=now,
        audit=suspensions.audit,
    )
    return _outcome(suspensions, certificate_id, carry_out(suspensions, actor=actor, now=now))


def _outcome(suspensions: Suspensions, certificate_id: str, carried_out: int) -> SuspensionOutcome:
    standing = current_suspension(suspensions.engine, certificate_id)
    return SuspensionOutcome(
        certificate_id=certificate_id,
        suspended=standing is not None,
        since=standing.done_at if standing else None,
        reason=standing.reason if standing else None,
        carried_out=carried_out,
    )
