"""SQL records (SQLModel): issuers, batches, certificates, key wraps, tombstones.

A certificate's personal content and its candidate link key are kept here only from
import until the candidate's message is delivered, sealed under the staging secret
(offchain_store.staging), then wiped: from then on only the candidate's link (and each
share's) or the offline recovery key can open the certificate.
"""

from __future__ import annotations

import hashlib
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, Enum, LargeBinary, UniqueConstraint, event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlmodel import Field, Session, SQLModel, create_engine


def utcnow() -> datetime:
    return datetime.now(UTC)


def enum_column(kind: type[StrEnum], *, index: bool = False) -> Any:
    """A state column: the member's name in a VARCHAR(32), never a PostgreSQL ENUM type, so a
    new state is a code change and not an `ALTER TYPE` (SQLite stores the same text)."""
    stored = Enum(kind, native_enum=False, length=32, create_constraint=False)
    return Column(stored, nullable=False, index=index)


class CertificateState(StrEnum):
    """Where a certificate is in issuance; each state is durable and resumable."""

    IMPORTED = "imported"  # row validated, content staged, nothing signed yet
    STORED = "stored"  # rendered, signed, encrypted and stored; leaf known
    ANCHORING = "anchoring"  # its batch's anchor transaction is prepared or sent
    ANCHORED = "anchored"  # root anchored with the configured confirmations
    DELIVERED = "delivered"  # candidate message sent; link key wiped
    REVOKED = "revoked"  # revoked on chain and crypto-shredded


class BatchState(StrEnum):
    OPEN = "open"  # certificates are being signed and stored
    SEALED = "sealed"  # tree built: root and proofs saved
    ANCHORING = "anchoring"  # anchor tx signed and saved (maybe sent)
    ANCHORED = "anchored"  # confirmed on chain
    DELIVERED = "delivered"  # every certificate delivered


class WrapKind(StrEnum):
    CANDIDATE = "candidate"
    SHARE = "share"
    RECOVERY = "recovery"


class IssuerRecord(SQLModel, table=True):
    __tablename__ = "issuers"

    id: str = Field(primary_key=True)
    name: str
    created_at: datetime = Field(default_factory=utcnow)


class BatchRecord(SQLModel, table=True):
    __tablename__ = "batches"

    id: str = Field(primary_key=True)
    issuer_id: str = Field(foreign_key="issuers.id", index=True)
    source_name: str
    source_sha256: str
    state: BatchState = Field(
        default=BatchState.OPEN, sa_column=enum_column(BatchState, index=True)
    )
    created_at: datetime = Field(default_factory=utcnow)
    root: str | None = None
    chain_id: int | None = None
    contract_address: str | None = None
    tx_hash: str | None = Field(default=None, index=True)
    raw_tx: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    tx_nonce: int | None = None
    anchor_attempts: int = 0
    block_number: int | None = None
    anchored_at: datetime | None = None
    anchored_by: str | None = None


class CertificateRecord(SQLModel, table=True):
    __tablename__ = "certificates"
    __table_args__ = (UniqueConstraint("issuer_id", "result_id", name="uq_issuer_result"),)

    id: str = Field(primary_key=True)  # 128-bit random, hex
    issuer_id: str = Field(foreign_key="issuers.id", index=True)
    result_id: str
    batch_id: str = Field(foreign_key="batches.id", index=True)
    state: CertificateState = Field(
        default=CertificateState.IMPORTED, sa_column=enum_column(CertificateState, index=True)
    )
    source_line: int
    language: str = "fr"  # language of the candidate's messages
    candidate_email: str | None = None
    staged_content: str | None = None  # sealed JSON; wiped once delivered
    pending_link_key: str | None = None  # sealed token; wiped once delivered
    pdf_sha256: str | None = Field(default=None, index=True)
    salt: str | None = None  # destroyed on revocation
    leaf: str | None = Field(default=None, index=True)
    proof: str | None = None  # JSON list of 0x-hex siblings
    receipt: str | None = None  # the public receipt (JSON) once delivered; holds the salt
    created_at: datetime = Field(default_factory=utcnow)
    stored_at: datetime | None = None
    delivered_at: datetime | None = None
    revoked_at: datetime | None = None
    revocation_reason: str | None = None


class KeyWrapRecord(SQLModel, table=True):
    __tablename__ = "key_wraps"

    id: int | None = Field(default=None, primary_key=True)
    certificate_id: str = Field(foreign_key="certificates.id", index=True)
    kind: WrapKind = Field(sa_column=enum_column(WrapKind))
    share_id: str | None = Field(default=None, index=True)
    wrapped: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class ShareRecord(SQLModel, table=True):
    """A share the candidate made for one recipient; its key exists only in the share link."""

    __tablename__ = "shares"

    id: str = Field(primary_key=True)  # 128-bit random, hex
    certificate_id: str = Field(foreign_key="certificates.id", index=True)
    recipient: str
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    max_opens: int | None = None
    opens: int = 0
    ended_at: datetime | None = None


class AccessLogRecord(SQLModel, table=True):
    """One opening of a share: when, and from which approximate client."""

    __tablename__ = "access_log"

    id: int | None = Field(default=None, primary_key=True)
    certificate_id: str = Field(foreign_key="certificates.id", index=True)
    share_id: str = Field(index=True)
    opened_at: datetime = Field(default_factory=utcnow, index=True)
    client: str = ""  # e.g. "Firefox on Linux, 192.0.2.x": never a full address


class RequestKind(StrEnum):
    REVOCATION = "revocation"
    ERASURE = "erasure"  # for an anchored certificate, erasure is done by revocation


class RequestState(StrEnum):
    PENDING = "pending"  # waiting for a revoker's decision
    APPROVED = "approved"  # to be revoked on chain and shredded
    REVOKING = "revoking"  # revocation transaction signed and saved (maybe sent)
    DONE = "done"  # revoked on chain, content shredded
    REFUSED = "refused"


class RevocationRequestRecord(SQLModel, table=True):
    """A revocation: asked by the candidate, or started by the issuer."""

    __tablename__ = "revocation_requests"

    id: str = Field(primary_key=True)
    certificate_id: str = Field(foreign_key="certificates.id", index=True)
    kind: RequestKind = Field(sa_column=enum_column(RequestKind))
    category: str  # a RevocationReason name: holder_request, issuer_error, fraud, ...
    explanation: str = ""  # the requester's words; wiped when the certificate is shredded
    requested_by: str  # "candidate" or an admin actor
    state: RequestState = Field(
        default=RequestState.PENDING, sa_column=enum_column(RequestState, index=True)
    )
    created_at: datetime = Field(default_factory=utcnow)
    decided_at: datetime | None = None
    decided_by: str | None = None
    decision_note: str | None = None
    tx_hash: str | None = None
    raw_tx: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    done_at: datetime | None = None


class KeyKind(StrEnum):
    SIGNING = "signing"  # an X.509 signing certificate (PEM)
    ANCHORING = "anchoring"  # an Ethereum address


class IssuerKeyRecord(SQLModel, table=True):
    """A key the issuer used, and when: the history its public profile is built from."""

    __tablename__ = "issuer_keys"

    id: int | None = Field(default=None, primary_key=True)
    issuer_id: str = Field(foreign_key="issuers.id", index=True)
    kind: KeyKind = Field(sa_column=enum_column(KeyKind))
    value: str
    valid_from: datetime
    valid_until: datetime | None = None


def hashed_result_id(issuer_id: str, result_id: str) -> str:
    """What a shredded certificate keeps of its result id: enough to refuse re-issuing it."""
    if result_id.startswith("sha256:"):
        return result_id
    digest = hashlib.sha256(f"{issuer_id}|{result_id}".encode()).hexdigest()
    return f"sha256:{digest}"


def make_engine(database_url: str, **kwargs: Any) -> Engine:
    """An engine for the configured database: SQLite gets WAL and foreign keys; PostgreSQL
    goes through psycopg 3, checks a pooled connection before use (a restarted server is
    reconnected to), and speaks UTC."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
    elif url.get_backend_name() in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
        kwargs.setdefault("pool_pre_ping", True)
        kwargs.setdefault("pool_size", 5)
        kwargs.setdefault("max_overflow", 10)
        # The session speaks UTC whatever the server's zone (its now(), timestamps as text).
        kwargs.setdefault("connect_args", {"options": "-c timezone=UTC"})
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA secure_delete=ON")  # deleted rows (salts, wrapped keys) are zeroed
    cursor.close()


@contextmanager
def relaxed_sync(connection: Connection) -> Iterator[Connection]:
    """Commits on `connection` within the block that survive a crash of the process, not a
    power cut: on SQLite (WAL), `synchronous=NORMAL` for them, so a commit waits for no fsync,
    and the engine's FULL again after. For an access-log line and a use count, never for an
    erasure (a power cut must not bring a shredded key back). Other databases: unchanged."""
    if connection.dialect.name != "sqlite":
        yield connection
        return
    _synchronous(connection, "NORMAL")
    try:
        yield connection
    finally:
        if connection.in_transaction():
            connection.rollback()
        _synchronous(connection, "FULL")


# SQLite lets one connection write at a time, and one kept waiting polls with sleeps of up to
# 100 ms (its busy handler): threads of one process that write often and briefly (a share's
# opening) take turns on a lock of their engine instead, woken as soon as it is free.
_WRITE_TURNS: weakref.WeakKeyDictionary[Engine, threading.Lock] = weakref.WeakKeyDictionary()
_WRITE_TURNS_LOCK = threading.Lock()


@contextmanager
def write_turn(connection: Connection) -> Iterator[None]:
    """Hold this process's turn to write on `connection`'s SQLite database for the block
    (another process still waits through SQLite's own lock); other databases: nothing."""
    if connection.dialect.name != "sqlite":
        yield
        return
    with _WRITE_TURNS_LOCK:
        turn = _WRITE_TURNS.setdefault(connection.engine, threading.Lock())
    with turn:
        yield


def _synchronous(connection: Connection, level: str) -> None:
    # SQLite refuses the change inside a transaction; the PRAGMA itself opens none (only
    # SQLAlchemy's own, ended at once so that a session on this connection commits its work).
    connection.exec_driver_sql(f"PRAGMA synchronous={level}")
    connection.commit()


def create_schema(engine: Engine) -> None:
    """An empty database made to the latest schema; an up-to-date one passes; an older one
    raises SchemaOutdated (offchain_store.schema, where this lives; kept here for callers)."""
    from offchain_store.schema import create_schema as create_or_require

    create_or_require(engine)


def ensure_issuer(session: Session, issuer_id: str, name: str) -> IssuerRecord:
    """The issuer row, created on first use and renamed when the settings change."""
    issuer = session.get(IssuerRecord, issuer_id)
    if issuer is None:
        issuer = IssuerRecord(id=issuer_id, name=name)
        session.add(issuer)
    elif issuer.name != name:
        issuer.name = name
    session.commit()
    session.refresh(issuer)
    return issuer


def ensure_issuer_named(engine: Engine, issuer_id: str, name: str) -> None:
    """`ensure_issuer` in a transaction of its own, for callers that hold only an engine."""
    with Session(engine) as session:
        ensure_issuer(session, issuer_id, name)
