"""Who is working on what: leased claims on certificates and batches, shared through SQL.

Workers claim with `SELECT … FOR UPDATE SKIP LOCKED` (PostgreSQL), so two never take the
same rows; a claim is a lease, renewed while its worker lives, so the work of a killed worker
is taken again once its lease runs out. Leases are measured on the database's clock
(PostgreSQL's `now()`), so workers on machines whose clocks disagree never take live work from
each other. SQLite has no row locks: there one worker process at a time holds a file lock
beside the database, and leases are measured on that one machine's clock. One anchoring
account is used by one process at a time through a PostgreSQL advisory lock keyed by its
address, so nonces never collide.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import secrets
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import IO

from sqlalchemy import (
    Column,
    ColumnElement,
    DateTime,
    and_,
    delete,
    exists,
    func,
    or_,
    text,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped
from sqlmodel import Field, Session, SQLModel, col, select

from offchain_store.errors import StoreError
from offchain_store.records import BatchRecord, BatchState, CertificateRecord, CertificateState

DEFAULT_LEASE_SECONDS = 60.0
SQLITE_ONE_WORKER = "SQLite allows one worker at a time; use PostgreSQL for several"


class ClaimKind(StrEnum):
    CERTIFICATE = "certificate"  # to render, sign, encrypt and store
    BATCH = "batch"  # to seal, anchor and deliver


class WorkClaimRecord(SQLModel, table=True):
    """A lease on one piece of work: held by `worker_id` until `lease_until` (UTC)."""

    __tablename__ = "work_claims"

    kind: str = Field(primary_key=True)  # a ClaimKind (plain text: no database enum type)
    subject_id: str = Field(primary_key=True)  # a certificate's or a batch's id
    worker_id: str = Field(index=True)
    lease_until: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    claimed_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class WorkerLockHeld(StoreError):
    """Another worker process already works on this SQLite database."""

    def __init__(self) -> None:
        super().__init__(SQLITE_ONE_WORKER + ".")


def new_worker_id() -> str:
    """A worker's name in claims: host and process, made unique by a random tail."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def database_now(session: Session) -> datetime:
    """The time by which leases are measured: PostgreSQL's clock (its transaction's start),
    the same for every worker on every machine; on SQLite, this machine's UTC clock (one
    machine holds the database file, one worker works on it)."""
    if session.get_bind().dialect.name == "postgresql":
        now: datetime = session.execute(select(func.now())).scalar_one()
        return now if now.tzinfo else now.replace(tzinfo=UTC)
    return datetime.now(UTC)


@dataclass(kw_only=True)
class WorkClaims:
    """One worker's claims on one database; leases measured on the database's clock
    (`database_now`), or on `clock` when one is given (tests)."""

    engine: Engine
    issuer_id: str
    worker_id: str = field(default_factory=new_worker_id)
    lease_seconds: float = DEFAULT_LEASE_SECONDS
    clock: Callable[[], datetime] | None = None

    def claim_certificates(self, limit: int) -> list[str]:
        """Up to `limit` certificates waiting to be signed that nobody else holds; now ours."""
        claim = _claim_join(ClaimKind.CERTIFICATE, col(CertificateRecord.id))
        with Session(self.engine) as session:
            now = self._now(session)
            query = (
                select(CertificateRecord.id)
                .outerjoin(WorkClaimRecord, claim)
                .where(
                    CertificateRecord.issuer_id == self.issuer_id,
                    CertificateRecord.state == CertificateState.IMPORTED,
                    self._free(now),
                )
                .order_by(col(CertificateRecord.batch_id), col(CertificateRecord.source_line))
                .limit(limit)
                .with_for_update(skip_locked=True, of=CertificateRecord)
            )
            ids = self._take(session, ClaimKind.CERTIFICATE, list(session.exec(query).all()), now)
            session.commit()
        return ids

    def claim_batch(self) -> str | None:
        """The oldest undelivered batch with nothing left to sign that nobody else holds."""
        claim = _claim_join(ClaimKind.BATCH, col(BatchRecord.id))
        unsigned = exists().where(
            col(CertificateRecord.batch_id) == col(BatchRecord.id),
            col(CertificateRecord.state) == CertificateState.IMPORTED,
        )
        with Session(self.engine) as session:
            now = self._now(session)
            query = (
                select(BatchRecord.id)
                .outerjoin(WorkClaimRecord, claim)
                .where(
                    BatchRecord.issuer_id == self.issuer_id,
                    BatchRecord.state != BatchState.DELIVERED,
                    ~unsigned,
                    self._free(now),
                )
                .order_by(col(BatchRecord.created_at))
                .limit(1)
                .with_for_update(skip_locked=True, of=BatchRecord)
            )
            batch_id = session.exec(query).first()
            if batch_id is not None and not self._take(session, ClaimKind.BATCH, [batch_id], now):
                batch_id = None
            session.commit()
        return batch_id

    def renew(self) -> int:
        """Push every lease of this worker forward (its heartbeat); returns how many."""
        with Session(self.engine) as session:
            until = self._lease_end(self._now(session))
            done = session.execute(
                update(WorkClaimRecord)
                .where(col(WorkClaimRecord.worker_id) == self.worker_id)
                .values(lease_until=until)
            )
            session.commit()
        return int(done.rowcount)  # type: ignore[attr-defined]

    def release(self, kind: ClaimKind, subject_ids: list[str]) -> None:
        """Let go of these claims (done, or given back); others' claims are left alone."""
        with Session(self.engine) as session:
            for start in range(0, len(subject_ids), 500):
                session.execute(
                    delete(WorkClaimRecord).where(
                        col(WorkClaimRecord.worker_id) == self.worker_id,
                        col(WorkClaimRecord.kind) == kind,
                        col(WorkClaimRecord.subject_id).in_(subject_ids[start : start + 500]),
                    )
                )
            session.commit()

    def release_all(self) -> None:
        """Let go of every claim of this worker (on a clean stop)."""
        with Session(self.engine) as session:
            session.execute(
                delete(WorkClaimRecord).where(col(WorkClaimRecord.worker_id) == self.worker_id)
            )
            session.commit()

    def forget_every_claim(self) -> None:
        """Drop all claims: only for the one worker of a SQLite database, whose claims found
        at start are a killed predecessor's."""
        with Session(self.engine) as session:
            session.execute(delete(WorkClaimRecord))
            session.commit()

    def _now(self, session: Session) -> datetime:
        return self.clock() if self.clock is not None else database_now(session)

    def _free(self, now: datetime) -> ColumnElement[bool]:
        """No claim, an expired one, or our own (taken again after a lost connection)."""
        return or_(
            col(WorkClaimRecord.subject_id).is_(None),
            col(WorkClaimRecord.lease_until) < now,
            col(WorkClaimRecord.worker_id) == self.worker_id,
        )

    def _lease_end(self, now: datetime) -> datetime:
        return now + timedelta(seconds=self.lease_seconds)

    def _take(self, session: Session, kind: ClaimKind, ids: list[str], now: datetime) -> list[str]:
        """Claim those of `ids` still free, now that their rows are locked; returns them.

        The claiming SELECT joined the claims as its snapshot saw them: another worker may
        have claimed and committed between that snapshot and our row lock (its claim is in
        another table, so the lock does not make PostgreSQL re-check it). Read again here."""
        until = self._lease_end(now)
        held = {
            claim.subject_id: claim
            for claim in session.exec(
                select(WorkClaimRecord).where(
                    WorkClaimRecord.kind == kind, col(WorkClaimRecord.subject_id).in_(ids)
                )
            )
        }
        taken: list[str] = []
        for subject_id in ids:
            claim = held.get(subject_id)
            if claim is None:
                claim = WorkClaimRecord(
                    kind=kind,
                    subject_id=subject_id,
                    worker_id="",
                    lease_until=until,
                    claimed_at=now,
                )
            elif claim.worker_id != self.worker_id and _aware(claim.lease_until) >= now:
                continue  # live, someone else's: taken since our snapshot
            claim.worker_id, claim.lease_until, claim.claimed_at = self.worker_id, until, now
            session.add(claim)
            taken.append(subject_id)
        return taken


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _claim_join(kind: ClaimKind, subject: Mapped[str]) -> ColumnElement[bool]:
    return and_(col(WorkClaimRecord.kind) == kind, col(WorkClaimRecord.subject_id) == subject)


def claimed_count(engine: Engine, kind: ClaimKind, subject_ids: list[str]) -> int:
    """How many of these subjects some worker holds a live claim on right now."""
    if not subject_ids:
        return 0
    with Session(engine) as session:
        query = select(WorkClaimRecord.subject_id).where(
            WorkClaimRecord.kind == kind,
            col(WorkClaimRecord.subject_id).in_(subject_ids),
            col(WorkClaimRecord.lease_until) >= database_now(session),
        )
        return len(session.exec(query).all())


@contextmanager
def account_lock(engine: Engine, address: str) -> Iterator[None]:
    """Hold the anchoring account `address` for this process while it prepares, sends and
    records a transaction. PostgreSQL: an advisory lock; SQLite: nothing (one worker)."""
    if engine.dialect.name != "postgresql":
        yield
        return
    key = account_lock_key(address)
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
        connection.commit()
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
            connection.commit()


@contextmanager
def account_held(engine: Engine, address: str | None) -> Iterator[None]:
    """The account's lock (account_lock) while its transactions are prepared and sent; None:
    an account no other process sends from (nothing to hold)."""
    if address is None:
        yield
        return
    with account_lock(engine, address):
        yield


def account_lock_key(address: str) -> int:
    """A signed 64-bit advisory lock key for an account, the same in every process."""
    digest = hashlib.sha256(b"sceau-account|" + address.lower().encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def hold_issuer_records(session: Session, issuer_id: str) -> None:
    """Until `session`'s transaction ends, hold the issuer's own rows (its record, its key
    periods) against every other transaction that holds them too: processes starting at
    once on an empty database then create each row once. Call it first in the transaction.
    PostgreSQL: an advisory transaction lock; SQLite: the database's write lock, taken now."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        key = issuer_lock_key(issuer_id)
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
    elif connection.dialect.name == "sqlite":
        # Taken before the first read, so what is read next is still true at the write.
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def issuer_lock_key(issuer_id: str) -> int:
    """A signed 64-bit advisory lock key for an issuer's rows, apart from the accounts' keys."""
    digest = hashlib.sha256(b"sceau-issuer|" + issuer_id.encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextmanager
def single_worker_lock(engine: Engine) -> Iterator[None]:
    """On SQLite, hold the one-worker lock of the database file (raises WorkerLockHeld when
    another process has it); on PostgreSQL, nothing: row claims share the work."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        yield
        return
    handle = _lock_file(Path(database))
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise WorkerLockHeld() from None
        yield  # the kernel drops the lock when this process ends, however it ends
    finally:
        handle.close()


def _lock_file(database: Path) -> IO[bytes]:
    # A file of its own: SQLite's POSIX locks on the database belong to the process, and
    # closing another descriptor of that file would drop them.
    path = database.with_name(database.name + ".worker-lock")
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    return os.fdopen(fd, "r+b")
