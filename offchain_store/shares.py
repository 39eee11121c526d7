"""The candidate's consent: shares of one certificate, each with its own key wrap.

Holding the candidate link key is the candidate's credential: every candidate action first
unwraps the data key with it. Each share wraps the data key under a fresh share key that only
the share link carries, so ending a share (deleting its wrap) ends access for good.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, bindparam, insert, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from offchain_store.blobs import BlobStore
from offchain_store.crypto import (
    DataKey,
    LinkKey,
    decrypt_document,
    new_link_key,
    unwrap_data_key,
    wrap_data_key,
)
from offchain_store.errors import DecryptionFailed, StoreError
from offchain_store.records import (
    AccessLogRecord,
    CertificateRecord,
    CertificateState,
    KeyWrapRecord,
    ShareRecord,
    WrapKind,
    relaxed_sync,
    write_turn,
)

MAX_SHARE_DAYS = 366


class ShareError(StoreError):
    """A share cannot be used or changed as asked."""


class CertificateNotFound(ShareError):
    def __init__(self) -> None:
        super().__init__("No certificate with this id.")


class WrongLinkKey(ShareError):
    def __init__(self) -> None:
        super().__init__("The link key does not open this certificate: check the whole link.")


class ShareNotFound(ShareError):
    def __init__(self) -> None:
        super().__init__("No share with this id.")


class ShareEnded(ShareError):
    def __init__(self, at: datetime) -> None:
        super().__init__("The candidate ended this share.")
        self.at = at


class ShareExpired(ShareError):
    def __init__(self, at: datetime) -> None:
        super().__init__(f"This share expired on {at:%Y-%m-%d %H:%M} UTC.")
        self.at = at


class ShareExhausted(ShareError):
    def __init__(self, max_opens: int) -> None:
        super().__init__(f"This share could be opened {max_opens} time(s) and has been.")
        self.max_opens = max_opens


class CertificateRevoked(ShareError):
    """The certificate was revoked: its content is gone, only the tombstone answers."""

    def __init__(self, certificate_id: str) -> None:
        super().__init__("This certificate was revoked.")
        self.certificate_id = certificate_id


class InvalidShareRequest(ShareError):
    """A share request with a bad recipient, expiry or limit."""


@dataclass(frozen=True)
class OpenedCertificate:
    """A certificate opened with a link key: its PDF and its record (read-only snapshot)."""

    record: CertificateRecord
    pdf: bytes
    share: ShareRecord | None = None


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _certificate(session: Session, certificate_id: str) -> CertificateRecord:
    record = session.get(CertificateRecord, certificate_id) if _is_id(certificate_id) else None
    if record is None:
        raise CertificateNotFound()
    if record.state == CertificateState.REVOKED:
        raise CertificateRevoked(certificate_id)
    return record


def _is_id(value: str) -> bool:
    return len(value) == 32 and all(c in "0123456789abcdef" for c in value)


def _unwrap(
    session: Session, certificate_id: str, kind: WrapKind, key: LinkKey, share_id: str | None = None
) -> DataKey:
    query = select(KeyWrapRecord).where(
        KeyWrapRecord.certificate_id == certificate_id,
        KeyWrapRecord.kind == kind,
        KeyWrapRecord.share_id == share_id,
    )
    return _unwrap_with(session.exec(query).first(), key, certificate_id)


def candidate_data_key(session: Session, certificate_id: str, candidate_key: LinkKey) -> DataKey:
    """The data key, proving the caller holds the candidate's link key."""
    _certificate(session, certificate_id)
    return _unwrap(session, certificate_id, WrapKind.CANDIDATE, candidate_key)


def open_as_candidate(
    engine: Engine, blobs: BlobStore, certificate_id: str, candidate_key: LinkKey
) -> OpenedCertificate:
    """The candidate's own view of the certificate."""
    with Session(engine) as session:
        data_key = candidate_data_key(session, certificate_id, candidate_key)
        record = _certificate(session, certificate_id)
        session.expunge(record)
    pdf = decrypt_document(
        blobs.get(certificate_id), data_key, associated_data=bytes.fromhex(certificate_id)
    )
    return OpenedCertificate(record=record, pdf=pdf)


def create_share(
    engine: Engine,
    *,
    certificate_id: str,
    candidate_key: LinkKey,
    recipient: str,
    expires_at: datetime,
    max_opens: int | None,
    now: datetime,
) -> tuple[ShareRecord, LinkKey]:
    """A new share for `recipient`; returns the record and the share key (shown once)."""
    recipient = " ".join(recipient.split())
    if not 1 <= len(recipient) <= 200:
        raise InvalidShareRequest("Name the recipient (1 to 200 characters).")
    expires_at = _utc(expires_at)
    if not now < expires_at <= now + timedelta(days=MAX_SHARE_DAYS):
        raise InvalidShareRequest("The expiry must be in the future and within a year.")
    if max_opens is not None and not 1 <= max_opens <= 10_000:
        raise InvalidShareRequest("The maximum number of opens must be between 1 and 10000.")
    share_key = new_link_key()
    with Session(engine) as session:
        data_key = candidate_data_key(session, certificate_id, candidate_key)
        share = ShareRecord(
            id=secrets.token_hex(16),
            certificate_id=certificate_id,
            recipient=recipient,
            created_at=now,
            expires_at=expires_at,
            max_opens=max_opens,
        )
        session.add(share)
        session.add(
            KeyWrapRecord(
                certificate_id=certificate_id,
                kind=WrapKind.SHARE,
                share_id=share.id,
                wrapped=wrap_data_key(
                    data_key, share_key, associated_data=bytes.fromhex(certificate_id)
                ),
            )
        )
        session.commit()
        session.refresh(share)
        session.expunge(share)
    return share, share_key


def list_shares(
    engine: Engine, certificate_id: str, candidate_key: LinkKey
) -> list[tuple[ShareRecord, list[AccessLogRecord]]]:
    """The candidate's shares, newest first, each with its openings."""
    with Session(engine) as session:
        candidate_data_key(session, certificate_id, candidate_key)
        shares = session.exec(
            select(ShareRecord)
            .where(ShareRecord.certificate_id == certificate_id)
            .order_by(col(ShareRecord.created_at).desc())
        ).all()
        log = session.exec(
            select(AccessLogRecord)
            .where(AccessLogRecord.certificate_id == certificate_id)
            .order_by(col(AccessLogRecord.opened_at).desc())
        ).all()
        result = [(s, [e for e in log if e.share_id == s.id]) for s in shares]
        session.expunge_all()
    return result


def end_share(
    engine: Engine, *, certificate_id: str, candidate_key: LinkKey, share_id: str, now: datetime
) -> None:
    """End a share at once: its key wrap is deleted, so even a kept link stops working."""
    with Session(engine) as session:
        candidate_data_key(session, certificate_id, candidate_key)
        share = session.get(ShareRecord, share_id)
        if share is None or share.certificate_id != certificate_id:
            raise ShareNotFound()
        _delete_share_wraps(session, certificate_id, share_id)
        if share.ended_at is None:
            share.ended_at = now
        session.commit()


def _delete_share_wraps(session: Session, certificate_id: str, share_id: str) -> None:
    query = select(KeyWrapRecord).where(
        KeyWrapRecord.certificate_id == certificate_id, KeyWrapRecord.share_id == share_id
    )
    for wrap in session.exec(query).all():
        session.delete(wrap)


def find_share(engine: Engine, share_id: str) -> ShareRecord:
    """A share by id (ended, expired or revoked ones too): ShareNotFound otherwise."""
    with Session(engine) as session:
        share = session.get(ShareRecord, share_id) if _is_id(share_id) else None
        if share is None:
            raise ShareNotFound()
        session.expunge(share)
    return share


# The statements of an opening, built once: composing them costs more than running them.
_SHARE_TO_OPEN = (
    select(ShareRecord, CertificateRecord, KeyWrapRecord)
    .outerjoin(CertificateRecord, col(CertificateRecord.id) == col(ShareRecord.certificate_id))
    .outerjoin(
        KeyWrapRecord,
        and_(
            col(KeyWrapRecord.certificate_id) == col(ShareRecord.certificate_id),
            col(KeyWrapRecord.share_id) == col(ShareRecord.id),
            col(KeyWrapRecord.kind) == WrapKind.SHARE,
        ),
    )
    .where(col(ShareRecord.id) == bindparam("share_id"))
)
_COUNT_OPENING = (  # run on the connection: plain SQL, no session bookkeeping
    update(ShareRecord)
    .where(col(ShareRecord.id) == bindparam("share_id"))
    .where(
        (col(ShareRecord.max_opens).is_(None))
        | (col(ShareRecord.opens) < col(ShareRecord.max_opens))
    )
    .values(opens=col(ShareRecord.opens) + 1)
)
_LOG_OPENING = insert(AccessLogRecord)


def open_share(
    engine: Engine,
    blobs: BlobStore,
    *,
    share_id: str,
    share_key: LinkKey,
    now: datetime,
    client: str,
) -> OpenedCertificate:
    """Open a living share with its key; the opening is counted and logged.

    One query reads the share, its certificate and its key wrap; the blob is read and opened
    with no database connection held (an S3 read may take a while); one commit counts and logs
    the opening (on SQLite without an fsync of its own: see `relaxed_sync`).
    """
    if not _is_id(share_id):
        raise ShareNotFound()
    with Session(engine, expire_on_commit=False) as session:
        share, record, wrap = _share_to_open(session, share_id)
        session.expunge_all()  # what was read, as the caller gets it
    if share.ended_at is not None:
        raise ShareEnded(_utc(share.ended_at))
    if _utc(share.expires_at) <= now:
        raise ShareExpired(_utc(share.expires_at))
    data_key = _unwrap_with(wrap, share_key, record.id)
    # Decrypted before the opening counts: a store outage does not use up a limited share.
    pdf = decrypt_document(blobs.get(record.id), data_key, associated_data=bytes.fromhex(record.id))
    with engine.connect() as connection, relaxed_sync(connection), write_turn(connection):
        # The count holds only while the share has opens left (a conditional update, so two
        # openings of a share's last open never both count).
        counted = connection.execute(_COUNT_OPENING, {"share_id": share.id})
        if counted.rowcount != 1:
            connection.rollback()  # within the turn: the next writer finds the database free
            raise ShareExhausted(share.max_opens or 0)
        log = {"certificate_id": record.id, "share_id": share.id, "opened_at": now}
        connection.execute(_LOG_OPENING, {**log, "client": client[:120]})
        connection.commit()
    return OpenedCertificate(record=record, pdf=pdf, share=share)


def _share_to_open(
    session: Session, share_id: str
) -> tuple[ShareRecord, CertificateRecord, KeyWrapRecord | None]:
    """The share, its certificate and the share's key wrap (None once ended), in one query;
    ShareNotFound, CertificateNotFound or CertificateRevoked otherwise."""
    found = session.execute(_SHARE_TO_OPEN, {"share_id": share_id}).first()
    if found is None:
        raise ShareNotFound()
    share, record, wrap = found
    if record is None:
        raise CertificateNotFound()
    if record.state == CertificateState.REVOKED:
        raise CertificateRevoked(record.id)
    return share, record, wrap


def _unwrap_with(wrap: KeyWrapRecord | None, key: LinkKey, certificate_id: str) -> DataKey:
    if wrap is None:
        raise WrongLinkKey()
    try:
        return unwrap_data_key(wrap.wrapped, key, associated_data=bytes.fromhex(certificate_id))
    except DecryptionFailed:
        raise WrongLinkKey() from None


def living_share(engine: Engine, share_id: str, *, now: datetime) -> ShareRecord:
    """A share that may still be opened, judged without its key: else ShareNotFound,
    CertificateNotFound, CertificateRevoked, ShareEnded, ShareExpired or ShareExhausted."""
    share = find_share(engine, share_id)
    with Session(engine) as session:
        _certificate(session, share.certificate_id)
    if share.ended_at is not None:
        raise ShareEnded(_utc(share.ended_at))
    if _utc(share.expires_at) <= now:
        raise ShareExpired(_utc(share.expires_at))
    if share.max_opens is not None and share.opens >= share.max_opens:
        raise ShareExhausted(share.max_opens)
    return share
