"""Seal a batch into one Merkle tree and anchor its root in one transaction, crash-safely."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, select

from contracts.client import TxState
from contracts.errors import TransactionDropped, TransactionReverted
from contracts.merkle import MerkleTree
from issuer.errors import IssuanceError
from issuer.pipeline import Issuance
from offchain_store.records import BatchRecord, BatchState, CertificateRecord, CertificateState
from offchain_store.statuses import assign_slots
from offchain_store.work_claims import account_lock


def seal_batch(issuance: Issuance, batch_id: str) -> None:
    """Build the batch's tree once every certificate is stored; save the root and proofs."""
    with Session(issuance.engine) as session:
        batch = _batch(session, batch_id)
        if batch.state != BatchState.OPEN:
            return
        certs = _certs(session, batch_id)
        waiting = [c.id for c in certs if c.state == CertificateState.IMPORTED]
        if waiting:
            raise IssuanceError(f"batch {batch_id} still has {len(waiting)} unsigned certificates")
        stored = [c for c in certs if c.state == CertificateState.STORED]
        tree = MerkleTree([_b32(c.leaf) for c in stored])
        for cert in stored:
            cert.proof = json.dumps(["0x" + p.hex() for p in tree.proof(_b32(cert.leaf))])
        batch.root = "0x" + tree.root.hex()
        # Each certificate's random slot in its issuer's status list, drawn with the tree.
        assign_slots(session, batch.issuer_id, [c.id for c in stored])
        batch.state = BatchState.SEALED
        session.commit()


def anchor_batch(issuance: Issuance, batch_id: str) -> None:
    """Anchor the sealed root; resumes a prepared or sent transaction instead of making another.

    The anchoring account is held by this process meanwhile (see account_lock), so two
    workers never prepare transactions with the same nonce.
    """
    with (
        account_lock(issuance.engine, issuance.anchoring_address),
        Session(issuance.engine) as session,
    ):
        batch = _batch(session, batch_id)
        if batch.state == BatchState.SEALED:
            _prepare_and_send(issuance, session, batch)
        elif batch.state == BatchState.ANCHORING:
            _resume_sent(issuance, session, batch)
        else:
            return
        _record_anchor(issuance, batch)
        batch.state = BatchState.ANCHORED
        _set_states(session, batch_id, CertificateState.ANCHORING, CertificateState.ANCHORED)
        session.commit()


def _record_anchor(issuance: Issuance, batch: BatchRecord) -> None:
    """Block, time and sender of the anchoring, from our transaction or, if another run's
    transaction anchored the root first (ours then reverts), from the registry itself."""
    try:
        outcome = issuance.chain.wait(_required(batch.tx_hash))
    except TransactionReverted:
        anchored = issuance.chain.anchor_of(_b32(batch.root))
        if anchored is None:
            raise
        batch.block_number, batch.anchored_at = anchored.block_number, anchored.anchored_at
        batch.anchored_by = anchored.issuer
        return
    batch.block_number = outcome.block_number
    batch.anchored_at = outcome.block_timestamp
    batch.anchored_by = issuance.anchoring_address


def _prepare_and_send(issuance: Issuance, session: Session, batch: BatchRecord) -> None:
    prepared = issuance.chain.prepare_anchor(_b32(batch.root))
    batch.tx_hash = prepared.tx_hash
    batch.raw_tx = prepared.raw
    batch.tx_nonce = prepared.nonce
    batch.anchor_attempts += 1
    batch.state = BatchState.ANCHORING
    _set_states(session, batch.id, CertificateState.STORED, CertificateState.ANCHORING)
    session.commit()  # saved before it is sent: a crash never leads to a second transaction
    issuance.fault("after_prepare")
    issuance.chain.send(prepared)
    issuance.fault("after_send")


def _resume_sent(issuance: Issuance, session: Session, batch: BatchRecord) -> None:
    if issuance.chain.anchor_of(_b32(batch.root)) is not None:
        return  # mined; wait() reads its receipt
    if issuance.chain.transaction_state(_required(batch.tx_hash)) is not TxState.UNKNOWN:
        return  # pending or mined: wait() follows it
    try:
        issuance.chain.resend(_required(batch.raw_tx))
    except TransactionDropped:
        # Its nonce went to another transaction and the root is still not anchored:
        # only now is a new transaction for this root safe.
        _prepare_and_send(issuance, session, batch)


def _set_states(
    session: Session, batch_id: str, before: CertificateState, after: CertificateState
) -> None:
    query = select(CertificateRecord).where(
        CertificateRecord.batch_id == batch_id, CertificateRecord.state == before
    )
    for cert in session.exec(query).all():
        cert.state = after


def _batch(session: Session, batch_id: str) -> BatchRecord:
    batch = session.get(BatchRecord, batch_id)
    if batch is None:
        raise IssuanceError(f"no batch {batch_id}")
    return batch


def _certs(session: Session, batch_id: str) -> list[CertificateRecord]:
    query = select(CertificateRecord).where(CertificateRecord.batch_id == batch_id)
    return list(session.exec(query).all())


def _b32(hex_value: str | None) -> bytes:
    value = bytes.fromhex(_required(hex_value)[2:])
    if len(value) != 32:
        raise IssuanceError(f"stored hash {hex_value!r} is not 32 bytes")
    return value


def _required(value: Any) -> Any:
    if value is None:
        raise IssuanceError("a batch record is missing a value it should have at this state")
    return value


def utc(value: datetime) -> datetime:
    """SQLite hands datetimes back naive; they are always UTC here."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)
