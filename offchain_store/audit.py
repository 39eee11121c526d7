"""The audit log of admin actions: append-only, hash-chained, anchored by a one-row head.

Each entry's hash covers its fields and the previous entry's hash, so changing, removing or
reordering an entry breaks the chain where it happened. Deleting the *last* entries leaves a
shorter chain that is still consistent, which no hashing can see; so every append also writes
the last seq and hash into the one-row `audit_head` table, in the same transaction, and a
deleted tail shows as a head pointing past the end of the log.

What this cannot stop: someone able to write the database who recomputes every hash and the
head. Against that, copy the head printed by `sceau audit verify` where they cannot write (a
ticket, a signed report, an on-chain anchor) and compare it later.

Entries hold no personal data and no secret: actors are token ids, "cli:<login>" or "system";
subjects are certificate, batch or token ids; details are small JSON objects.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import CheckConstraint, Column, DateTime, Integer, TypeDecorator
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Dialect, Engine
from sqlmodel import Field, Session, SQLModel, col, func, select

from offchain_store.errors import StoreError

GENESIS_HASH = "0" * 64
HEAD_ID = 1
# The admin token format of offchain_store.tokens (kept here so the log depends on nothing).
_ADMIN_TOKEN_SHAPE = re.compile(r"sceau_[0-9a-f]{12}_[A-Za-z0-9_-]{43}")


class AuditError(StoreError):
    """The audit log cannot take an entry as asked."""


class SecretInAuditEntry(AuditError):
    def __init__(self) -> None:
        super().__init__("Refused to write an audit entry that contains an admin token.")


class AuditHeadMissing(AuditError):
    def __init__(self) -> None:
        super().__init__(
            "The audit log has entries but its head record is gone: the log was tampered "
            "with. Run `sceau audit verify` and investigate before any further admin action."
        )


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC in and out: SQLite drops the zone, and a naive value read back is UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else _utc(value)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else _utc(value)


class AuditEntryRecord(SQLModel, table=True):
    __tablename__ = "audit_log"

    seq: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    actor: str
    action: str = Field(index=True)
    subject: str = Field(default="", index=True)
    details: str = "{}"  # canonical JSON text, hashed as stored
    prev_hash: str
    entry_hash: str


class AuditHeadRecord(SQLModel, table=True):
    """The last entry's seq and hash: the anchor that makes a deleted tail visible."""

    __tablename__ = "audit_head"
    __table_args__ = (CheckConstraint(f"id = {HEAD_ID}", name="ck_audit_head_one_row"),)

    id: int = Field(
        default=HEAD_ID, sa_column=Column(Integer, primary_key=True, autoincrement=False)
    )
    seq: int
    entry_hash: str


@dataclass(frozen=True)
class AuditVerification:
    """The outcome of checking the whole chain; `problem` names the first defect found."""

    ok: bool
    entries: int
    first_bad_seq: int | None = None
    problem: str = ""
    head_seq: int = 0
    head_hash: str = GENESIS_HASH


@contextmanager
def transaction(bind: Engine | Session) -> Iterator[Session]:
    """The caller's session (flushed, committed by the caller), or a new one committed here."""
    if isinstance(bind, Session):
        yield bind
        bind.flush()
        return
    with Session(bind, expire_on_commit=False) as session:
        yield session
        session.commit()


def append(
    bind: Engine | Session,
    *,
    actor: str,
    action: str,
    subject: str = "",
    details: Mapping[str, object] | None = None,
    now: datetime,
) -> AuditEntryRecord:
    """Add one entry in the caller's transaction (or its own), chained to the head.

    Concurrent appends are serialised on the head row: PostgreSQL locks it (FOR UPDATE); on
    SQLite the insert-if-missing before it already takes the database's single write lock,
    so the head read next is the latest. Retrying on a duplicate seq instead would need a
    savepoint in the caller's transaction; the primary key on seq stays as the last guard.
    """
    details_text = _canonical(dict(details or {}))
    if any(_ADMIN_TOKEN_SHAPE.search(text) for text in (actor, action, subject, details_text)):
        raise SecretInAuditEntry()
    with transaction(bind) as session:
        head = _locked_head(session)
        entry = AuditEntryRecord(
            seq=head.seq + 1,
            at=_utc(now),
            actor=actor,
            action=action,
            subject=subject,
            details=details_text,
            prev_hash=head.entry_hash,
            entry_hash="",
        )
        entry.entry_hash = entry_hash(entry)
        head.seq, head.entry_hash = entry.seq, entry.entry_hash
        session.add(entry)
        session.add(head)
    return entry


def entry_hash(entry: AuditEntryRecord) -> str:
    """SHA-256 of the canonical JSON of the entry's fields and its link to the previous one."""
    document = {
        "seq": entry.seq,
        "at": _utc(entry.at).isoformat(timespec="microseconds"),
        "actor": entry.actor,
        "action": entry.action,
        "subject": entry.subject,
        "details": entry.details,
        "prev_hash": entry.prev_hash,
    }
    return hashlib.sha256(_canonical(document).encode("utf-8")).hexdigest()


def verify_chain(
    bind: Engine | Session, *, recorded_head: tuple[int, str] | None = None
) -> AuditVerification:
    """Check every entry's hash and link in seq order, then the head; name the first defect.

    `recorded_head` is a (seq, hash) copied earlier from a verification: a log rewritten
    since, hashes and head recomputed, no longer holds it.
    """
    with transaction(bind) as session:
        head = session.get(AuditHeadRecord, HEAD_ID)
        query = select(AuditEntryRecord).order_by(col(AuditEntryRecord.seq))
        rows = session.exec(query.execution_options(yield_per=1000))
        total, first_defect = 0, None
        previous: AuditEntryRecord | None = None
        for entry in rows:
            if first_defect is None:
                first_defect = _defect(previous, entry)
            total, previous = total + 1, entry
        if first_defect is None and recorded_head is not None:
            first_defect = _against_recorded(session, *recorded_head)
    if first_defect is not None:
        return _bad(total, first_defect, head)
    return _check_head(total, previous, head)


def _against_recorded(session: Session, seq: int, entry_hash: str) -> tuple[int, str] | None:
    entry = session.get(AuditEntryRecord, seq)
    if entry is None:
        return seq, f"entry {seq}, whose hash was recorded, is gone"
    if entry.entry_hash != entry_hash:
        return seq, f"entry {seq} no longer has the recorded hash: the log was rewritten"
    return None


def entries(
    bind: Engine | Session, *, limit: int = 50, offset: int = 0, newest_first: bool = False
) -> list[AuditEntryRecord]:
    """A page of entries in seq order (or newest first)."""
    order = col(AuditEntryRecord.seq).desc() if newest_first else col(AuditEntryRecord.seq)
    with transaction(bind) as session:
        query = select(AuditEntryRecord).order_by(order).limit(limit).offset(offset)
        return list(session.exec(query).all())


def count(bind: Engine | Session) -> int:
    with transaction(bind) as session:
        return int(session.exec(select(func.count()).select_from(AuditEntryRecord)).one())


def _locked_head(session: Session) -> AuditHeadRecord:
    dialect = session.get_bind().dialect.name
    first = {"id": HEAD_ID, "seq": 0, "entry_hash": GENESIS_HASH}
    if dialect == "postgresql":
        session.exec(postgresql_insert(AuditHeadRecord).values(first).on_conflict_do_nothing())
    elif dialect == "sqlite":
        session.exec(sqlite_insert(AuditHeadRecord).values(first).on_conflict_do_nothing())
    else:
        raise AuditError(f"The audit log supports SQLite and PostgreSQL, not {dialect}.")
    query = (
        select(AuditHeadRecord)
        .where(col(AuditHeadRecord.id) == HEAD_ID)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    head = session.exec(query).one()
    if head.seq == 0 and session.exec(select(AuditEntryRecord.seq).limit(1)).first() is not None:
        raise AuditHeadMissing()  # re-created above, but the log was not empty
    return head


def _defect(previous: AuditEntryRecord | None, entry: AuditEntryRecord) -> tuple[int, str] | None:
    expected_seq = previous.seq + 1 if previous else 1
    if entry.seq > expected_seq:
        return expected_seq, _gap(previous, expected_seq, entry.seq)
    if entry_hash(entry) != entry.entry_hash:
        return entry.seq, f"entry {entry.seq} was changed"
    expected_link = previous.entry_hash if previous else GENESIS_HASH
    if entry.prev_hash != expected_link:
        to = f"entry {previous.seq}" if previous else "the start of the log"
        return entry.seq, f"entry {entry.seq}'s link to {to} is broken"
    return None


def _gap(previous: AuditEntryRecord | None, missing: int, found: int) -> str:
    where = f"jumps from {previous.seq} to {found}" if previous else f"starts at {found}"
    return f"{_missing(missing, found - 1)} missing (the chain {where})"


def _missing(first: int, last: int) -> str:
    return f"entry {first} is" if first == last else f"entries {first} to {last} are"


def _check_head(
    checked: int, last: AuditEntryRecord | None, head: AuditHeadRecord | None
) -> AuditVerification:
    last_seq = last.seq if last else 0
    if head is None:
        if last is None:
            return AuditVerification(ok=True, entries=0)
        problem = "the head record is missing (later entries may be gone too)"
        return _bad(checked, (last_seq, problem), head)
    if head.seq > last_seq:
        what = _missing(last_seq + 1, head.seq)
        problem = f"{what} missing (the log ends at {last_seq}, its head records {head.seq})"
        return _bad(checked, (last_seq + 1, problem), head)
    if head.seq < last_seq:
        problem = f"entry {head.seq + 1} was added outside the log (its head records {head.seq})"
        return _bad(checked, (head.seq + 1, problem), head)
    if last is not None and head.entry_hash != last.entry_hash:
        return _bad(checked, (last_seq, f"entry {last_seq} does not match the head"), head)
    return AuditVerification(ok=True, entries=checked, head_seq=head.seq, head_hash=head.entry_hash)


def _bad(checked: int, defect: tuple[int, str], head: AuditHeadRecord | None) -> AuditVerification:
    seq, problem = defect
    return AuditVerification(
        ok=False,
        entries=checked,
        first_bad_seq=seq,
        problem=problem,
        head_seq=head.seq if head else 0,
        head_hash=head.entry_hash if head else GENESIS_HASH,
    )


def _canonical(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _utc(value: datetime) -> datetime:
    """Aware UTC; SQLite gives naive datetimes back, which were stored as UTC."""
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
