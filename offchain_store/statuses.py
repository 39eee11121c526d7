"""Statuses kept off chain: each certificate's random slot in its issuer's status list, the
suspensions asked and carried out, and the issuer's current signed list.

The chain stays the authority on revocation and suspension; these rows say which slot of the
published list is whose, queue the on-chain batches (the signed transaction saved before it is
sent), and keep the last signed list so that any server process serves the same bytes.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum, StrEnum

from sqlalchemy import Column, LargeBinary, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Field, Session, SQLModel, col, select

from offchain_store.audit import UtcDateTime
from offchain_store.errors import StoreError

MIN_LIST_SIZE = 131_072  # entries: 2**17, the smallest list an index may be drawn from
FILL_LIMIT = 2  # the list doubles once more than 1/FILL_LIMIT of its slots are taken


class SlotStatus(IntEnum):
    """A slot's value in the Token Status List (two bits, draft-ietf-oauth-status-list)."""

    VALID = 0
    REVOKED = 1  # "INVALID" in the draft's registry: final
    SUSPENDED = 2  # "SUSPENDED" in the draft's registry: may be lifted


class StatusSlotRecord(SQLModel, table=True):
    """Which slot of its issuer's list holds a certificate's status (drawn at random)."""

    __tablename__ = "status_slots"
    __table_args__ = (UniqueConstraint("issuer_id", "idx", name="uq_status_slot"),)

    certificate_id: str = Field(primary_key=True, foreign_key="certificates.id")
    issuer_id: str = Field(foreign_key="issuers.id", index=True)
    idx: int


class SuspensionAction(StrEnum):
    SUSPEND = "suspend"
    UNSUSPEND = "unsuspend"


class ChangeState(StrEnum):
    APPROVED = "approved"  # to be sent on chain in the next batch
    SENDING = "sending"  # its batch transaction is signed and saved (maybe sent)
    DONE = "done"  # mined and confirmed
    VOIDED = "voided"  # overtaken: the certificate was revoked before it was carried out


class SuspensionChangeRecord(SQLModel, table=True):
    """One suspension or lifting of a certificate: asked, batched on chain, done."""

    __tablename__ = "suspension_changes"

    id: str = Field(primary_key=True)
    certificate_id: str = Field(foreign_key="certificates.id", index=True)
    action: str  # a SuspensionAction
    reason: str | None = None  # a SuspensionReason name (appeal, inquiry...) for a suspension
    note: str = ""  # the admin's words (never the candidate's data)
    requested_by: str
    state: str = Field(default=ChangeState.APPROVED, index=True)  # a ChangeState
    created_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    tx_hash: str | None = Field(default=None, index=True)
    raw_tx: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    done_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))


class PublicationState(StrEnum):
    SIGNED = "signed"  # the list is signed and served; its hash not yet on chain
    PUBLISHING = "publishing"  # publishStatusList signed and saved (maybe sent)
    PUBLISHED = "published"  # its hash is the registry's current one


class SignedStatusListRecord(SQLModel, table=True):
    """An issuer's current signed status list (a `statuslist+jwt`) and its publication."""

    __tablename__ = "status_lists"

    issuer_id: str = Field(primary_key=True, foreign_key="issuers.id")
    size: int = MIN_LIST_SIZE  # entries
    version: int = 0  # bumped at each new signed list
    token: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    sha256: str | None = None  # hex of the token's bytes, as published on chain
    content_sha256: str | None = None  # hex of the statuses it encodes: unchanged, not re-signed
    issued_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    expires_at: datetime | None = Field(
        default=None, sa_column=Column(UtcDateTime(), nullable=True)
    )
    state: str = PublicationState.SIGNED  # a PublicationState
    tx_hash: str | None = None
    raw_tx: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    published_at: datetime | None = Field(
        default=None, sa_column=Column(UtcDateTime(), nullable=True)
    )


class StatusStoreError(StoreError):
    """A status row that cannot be read or written as asked."""


def list_row(session: Session, issuer_id: str, *, lock: bool = False) -> SignedStatusListRecord:
    """The issuer's list row, created (empty, smallest size) on first use; `lock` holds it
    (FOR UPDATE on PostgreSQL) so that two processes drawing slots take turns."""
    row = session.get(SignedStatusListRecord, issuer_id, with_for_update=lock)
    if row is not None:
        return row
    # Two processes sealing their first batches at once both find no row: the insert that
    # loses does nothing, and both then read (and lock) the one row that won.
    first = SignedStatusListRecord(issuer_id=issuer_id).model_dump(
        include={"issuer_id", "size", "version", "state"}
    )
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    session.exec(insert(SignedStatusListRecord).values(first).on_conflict_do_nothing())
    row = session.get(
        SignedStatusListRecord, issuer_id, with_for_update=lock, populate_existing=True
    )
    assert row is not None
    return row


def slot_of(session: Session, certificate_id: str) -> StatusSlotRecord | None:
    return session.get(StatusSlotRecord, certificate_id)


def assign_slot(session: Session, issuer_id: str, certificate_id: str) -> StatusSlotRecord:
    """The certificate's slot, drawn at random on first call (see `assign_slots`)."""
    existing = slot_of(session, certificate_id)
    if existing is not None:
        return existing
    assign_slots(session, issuer_id, [certificate_id])
    slot = slot_of(session, certificate_id)
    assert slot is not None
    return slot


def assign_slots(session: Session, issuer_id: str, certificate_ids: list[str]) -> int:
    """Give each certificate without one a slot drawn uniformly among the free ones, in the
    caller's transaction; returns how many were given. The list doubles before it is more
    than half full, so a slot says nothing of the order of issue."""
    query = select(StatusSlotRecord.certificate_id).where(StatusSlotRecord.issuer_id == issuer_id)
    have = set(session.exec(query))
    missing = [cid for cid in dict.fromkeys(certificate_ids) if cid not in have]
    if not missing:
        return 0
    row = list_row(session, issuer_id, lock=True)
    used = set(
        session.exec(select(StatusSlotRecord.idx).where(StatusSlotRecord.issuer_id == issuer_id))
    )
    while (len(used) + len(missing)) * FILL_LIMIT > row.size:
        row.size *= 2
    for certificate_id in missing:
        index = secrets.randbelow(row.size)
        while index in used:  # at most half the slots are taken: two draws on average
            index = secrets.randbelow(row.size)
        used.add(index)
        session.add(StatusSlotRecord(certificate_id=certificate_id, issuer_id=issuer_id, idx=index))
    session.flush()
    return len(missing)


def slots(session: Session, issuer_id: str) -> dict[str, int]:
    """Every certificate of the issuer that has a slot, with its index."""
    query = select(StatusSlotRecord).where(StatusSlotRecord.issuer_id == issuer_id)
    return {s.certificate_id: s.idx for s in session.exec(query)}


def changes_in(session: Session, *states: ChangeState) -> list[SuspensionChangeRecord]:
    """Suspension changes in `states`, oldest first."""
    query = (
        select(SuspensionChangeRecord)
        .where(col(SuspensionChangeRecord.state).in_([s.value for s in states]))
        .order_by(col(SuspensionChangeRecord.created_at), col(SuspensionChangeRecord.id))
    )
    return list(session.exec(query))


def changes_of(session: Session, certificate_id: str) -> list[SuspensionChangeRecord]:
    """A certificate's suspension changes, oldest first."""
    query = (
        select(SuspensionChangeRecord)
        .where(SuspensionChangeRecord.certificate_id == certificate_id)
        .order_by(col(SuspensionChangeRecord.created_at), col(SuspensionChangeRecord.id))
    )
    return list(session.exec(query))


def suspended_ids(session: Session, certificate_ids: set[str]) -> set[str]:
    """Which of `certificate_ids` stand suspended: their last change carried out suspends."""
    query = (
        select(SuspensionChangeRecord)
        .where(SuspensionChangeRecord.state == ChangeState.DONE)
        .order_by(col(SuspensionChangeRecord.done_at), col(SuspensionChangeRecord.created_at))
    )
    last: dict[str, str] = {}
    for change in session.exec(query):
        if change.certificate_id in certificate_ids:
            last[change.certificate_id] = change.action
    return {cid for cid, action in last.items() if action == SuspensionAction.SUSPEND}


@dataclass(frozen=True)
class SuspensionState:
    """Whether a certificate stands suspended (carried out on chain), and what is in flight."""

    suspended: SuspensionChangeRecord | None  # the suspension carried out, if it stands
    pending: SuspensionChangeRecord | None  # a change asked and not yet carried out


def suspension_state(session: Session, certificate_id: str) -> SuspensionState:
    """The certificate's suspension as the records hold it."""
    suspended: SuspensionChangeRecord | None = None
    pending: SuspensionChangeRecord | None = None
    for change in changes_of(session, certificate_id):
        if change.state == ChangeState.DONE:
            suspended = change if change.action == SuspensionAction.SUSPEND else None
        elif change.state in (ChangeState.APPROVED, ChangeState.SENDING):
            pending = change
    return SuspensionState(suspended, pending)
