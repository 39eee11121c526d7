"""A certificate's status changed on chain in batches (revocations, suspensions and their
lifting): the steps both take with one batch's transaction.

prepare → save → send: the signed transaction is saved on the batch's rows before it is sent,
so a run that stops anywhere resends that same transaction (same nonce) and never a second one.
Then each saved transaction is followed to its end; one whose nonce went elsewhere, or that
reverted, puts its rows back to approved for the next run to prepare again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, TypeVar

from sqlmodel import Session

from contracts.client import PreparedTransaction, TxOutcome, TxState
from contracts.errors import TransactionDropped, TransactionReverted

S = TypeVar("S")


class TransactionSender(Protocol):
    """What following a saved transaction needs of the chain client."""

    def send(self, prepared: PreparedTransaction) -> str: ...
    def resend(self, raw: bytes) -> str: ...
    def wait(self, tx_hash: str) -> TxOutcome: ...
    def transaction_state(self, tx_hash: str) -> TxState: ...


class BatchRow(Protocol[S]):
    """A row of a batch: its state (`S`, the row's own enum) and the transaction saved on it."""

    state: S
    tx_hash: str | None
    raw_tx: bytes | None


R = TypeVar("R", bound=BatchRow[Any])


def save_then_send(
    chain: TransactionSender,
    session: Session,
    prepared: PreparedTransaction,
    batch: Sequence[BatchRow[S]],
    *,
    sending: S,
) -> None:
    """Save the prepared transaction on every row of its batch (now `sending`), then send it."""
    for row in batch:
        row.state, row.tx_hash, row.raw_tx = sending, prepared.tx_hash, prepared.raw
    session.commit()  # saved before it is sent: never a second transaction
    chain.send(prepared)


def by_transaction(rows: Sequence[R]) -> list[list[R]]:
    """The rows that were sent, one batch per saved transaction, in the order first met."""
    batches: dict[str, list[R]] = {}
    for row in rows:
        if row.tx_hash:
            batches.setdefault(row.tx_hash, []).append(row)
    return list(batches.values())


def follow_to_end(chain: TransactionSender, tx_hash: str, raw: bytes) -> TxOutcome:
    """Wait for a saved transaction to be mined, sending it again first if the node lost it.
    TransactionDropped or TransactionReverted when it never will be."""
    if chain.transaction_state(tx_hash) is TxState.UNKNOWN:
        chain.resend(raw)
    return chain.wait(tx_hash)


def settle(
    chain: TransactionSender, session: Session, batch: Sequence[BatchRow[S]], *, approved: S
) -> TxOutcome | None:
    """Follow a batch's saved transaction to its end; None when its nonce went elsewhere or it
    reverted: its rows are `approved` again (committed), for the next run to prepare anew."""
    first = batch[0]
    assert first.tx_hash is not None and first.raw_tx is not None
    try:
        return follow_to_end(chain, first.tx_hash, first.raw_tx)
    except (TransactionDropped, TransactionReverted):
        for row in batch:
            row.state, row.tx_hash, row.raw_tx = approved, None, None
        session.commit()
        return None
