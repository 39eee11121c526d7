"""The public status of a certificate by id, and its proof by PDF hash: no personal data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from contracts.receipt import Receipt
from offchain_store.records import BatchRecord, CertificateRecord, CertificateState
from offchain_store.statuses import suspension_state


@dataclass(frozen=True)
class PublicStatus:
    certificate_id: str
    status: str  # "issued", "pending", "suspended" or "revoked"
    anchored_at: datetime | None
    chain_id: int | None
    contract: str | None
    transaction: str | None
    revoked_at: datetime | None
    revocation_reason: str | None
    suspended_at: datetime | None = None
    suspension_reason: str | None = None  # appeal, inquiry, payment or other


def _utc(value: datetime | None) -> datetime | None:
    return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)


def public_status(engine: Engine, certificate_id: str) -> PublicStatus | None:
    """What anyone holding the PDF (or its QR code) may learn: never the content."""
    with Session(engine) as session:
        cert = session.get(CertificateRecord, certificate_id)
        if cert is None:
            return None
        batch = session.get(BatchRecord, cert.batch_id)
        suspension = suspension_state(session, cert.id).suspended
    anchored = batch is not None and batch.anchored_at is not None
    state = CertificateState(cert.state)
    suspended = suspension is not None and state is not CertificateState.REVOKED
    status = (
        "revoked"
        if state is CertificateState.REVOKED
        else "suspended"
        if suspended and anchored
        else "issued"
        if anchored and state is CertificateState.DELIVERED
        else "pending"
    )
    return PublicStatus(
        certificate_id=cert.id,
        status=status,
        anchored_at=_utc(batch.anchored_at) if batch else None,
        chain_id=batch.chain_id if anchored and batch else None,
        contract=batch.contract_address if anchored and batch else None,
        transaction=batch.tx_hash if anchored and batch else None,
        revoked_at=_utc(cert.revoked_at),
        revocation_reason=cert.revocation_reason,
        suspended_at=_utc(suspension.done_at) if suspension and suspended else None,
        suspension_reason=suspension.reason if suspension and suspended else None,
    )


def receipt_for_hash(engine: Engine, pdf_sha256: str) -> Receipt | None:
    """The receipt of the delivered certificate whose signed PDF has this SHA-256."""
    with Session(engine) as session:
        query = select(CertificateRecord.receipt).where(
            CertificateRecord.pdf_sha256 == pdf_sha256.lower()
        )
        raw = session.exec(query).first()
    return Receipt.from_json(raw) if raw else None
