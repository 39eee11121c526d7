"""Issued batches as any process reads them: the list, and one batch's progress."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from offchain_store.records import BatchRecord, BatchState, CertificateRecord, CertificateState

SIGNED = (
    CertificateState.STORED,
    CertificateState.ANCHORING,
    CertificateState.ANCHORED,
    CertificateState.DELIVERED,
    CertificateState.REVOKED,
)


@dataclass(frozen=True)
class BatchSummary:
    """A batch and its anchoring transaction, as the admin pages and API show it."""

    id: str
    source_name: str
    state: BatchState
    created_at: datetime
    root: str | None
    tx_hash: str | None
    block_number: int | None
    anchored_at: datetime | None


@dataclass(frozen=True)
class BatchProgress:
    """How far a batch got, counted from its certificates' states."""

    batch_id: str
    state: BatchState
    certificates: int
    signed: int  # stored or further on
    delivered: int

    @property
    def finished(self) -> bool:
        return self.state == BatchState.DELIVERED


def recent_batches(engine: Engine, *, limit: int = 50) -> list[BatchSummary]:
    """The latest batches, newest first (at most 500)."""
    with Session(engine) as session:
        query = (
            select(BatchRecord)
            .order_by(col(BatchRecord.created_at).desc())
            .limit(max(1, min(limit, 500)))
        )
        return [_summary(b) for b in session.exec(query).all()]


def batch_progress(engine: Engine, batch_id: str) -> BatchProgress | None:
    """One batch's progress, or None if there is no such batch."""
    with Session(engine) as session:
        batch = session.get(BatchRecord, batch_id)
        if batch is None:
            return None
        rows = session.exec(
            select(CertificateRecord.state, func.count())
            .where(CertificateRecord.batch_id == batch_id)
            .group_by(col(CertificateRecord.state))
        ).all()
    counts: Counter[str] = Counter({str(state): int(n) for state, n in rows})
    return BatchProgress(
        batch_id=batch_id,
        state=batch.state,
        certificates=sum(counts.values()),
        signed=sum(counts[s] for s in SIGNED),
        delivered=counts[CertificateState.DELIVERED] + counts[CertificateState.REVOKED],
    )


def _summary(batch: BatchRecord) -> BatchSummary:
    return BatchSummary(
        id=batch.id,
        source_name=batch.source_name,
        state=batch.state,
        created_at=batch.created_at,
        root=batch.root,
        tx_hash=batch.tx_hash,
        block_number=batch.block_number,
        anchored_at=batch.anchored_at,
    )
