"""The steps revocations and suspensions share with one batch's transaction: saved on its rows
before it is sent, followed to its end (sent again if the node lost it), and put back to
approved when its nonce went elsewhere or it reverted. On SQLite and on PostgreSQL."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from contracts.client import PreparedTransaction, TxOutcome, TxState
from contracts.errors import TransactionDropped, TransactionReverted
from issuer.status_transactions import by_transaction, save_then_send, settle
from offchain_store.records import (
    BatchRecord,
    CertificateRecord,
    CertificateState,
    IssuerRecord,
    RequestKind,
    RequestState,
    RevocationRequestRecord,
    create_schema,
    make_engine,
)
from offchain_store.statuses import ChangeState, SuspensionAction, SuspensionChangeRecord

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


@dataclass
class RecordingChain:
    """A chain double: it answers `state_of` for every hash and `wait` with `ends`; `send`
    reads the rows back through a session of its own, as another process would."""

    engine: Engine
    state_of: TxState = TxState.PENDING
    ends: BaseException | None = None
    calls: list[str] = field(default_factory=list)
    saved_when_sent: list[tuple[str, str | None]] = field(default_factory=list)

    def send(self, prepared: PreparedTransaction) -> str:
        with Session(self.engine) as session:
            rows = session.exec(select(SuspensionChangeRecord)).all()
            self.saved_when_sent = sorted((row.state, row.tx_hash) for row in rows)
        self.calls.append(f"send {prepared.tx_hash}")
        return prepared.tx_hash

    def resend(self, raw: bytes) -> str:
        self.calls.append(f"resend {raw.hex()}")
        return "0x" + raw.hex()

    def transaction_state(self, tx_hash: str) -> TxState:
        self.calls.append(f"state {tx_hash}")
        return self.state_of

    def wait(self, tx_hash: str) -> TxOutcome:
        self.calls.append(f"wait {tx_hash}")
        if self.ends is not None:
            raise self.ends
        return TxOutcome(tx_hash=tx_hash, block_number=7, block_timestamp=NOW, gas_used=21_000)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    create_schema(engine)
    yield engine
    engine.dispose()


def _certificate(engine: Engine) -> str:
    cert_id, batch_id = secrets.token_hex(16), secrets.token_hex(16)
    with Session(engine) as session:
        session.add(IssuerRecord(id="centre", name="Centre", created_at=NOW))
        session.commit()
        batch = BatchRecord(
            id=batch_id, issuer_id="centre", source_name="r.csv", source_sha256="0" * 64
        )
        session.add(batch)
        session.commit()
        session.add(
            CertificateRecord(
                id=cert_id,
                issuer_id="centre",
                result_id="R-1",
                batch_id=batch_id,
                source_line=2,
                state=CertificateState.DELIVERED,
                leaf="ab" * 32,
            )
        )
        session.commit()
    return cert_id


def _changes(engine: Engine, count: int) -> list[str]:
    cert_id = _certificate(engine)
    ids = [secrets.token_hex(8) for _ in range(count)]
    with Session(engine) as session:
        for change_id in ids:
            session.add(
                SuspensionChangeRecord(
                    id=change_id,
                    certificate_id=cert_id,
                    action=SuspensionAction.SUSPEND.value,
                    requested_by="test",
                    created_at=NOW,
                )
            )
        session.commit()
    return ids


def _prepared(tx_hash: str) -> PreparedTransaction:
    return PreparedTransaction(
        tx_hash=tx_hash, raw=bytes.fromhex(tx_hash[2:]), nonce=1, kind="suspend_batch"
    )


def _rows(session: Session) -> list[SuspensionChangeRecord]:
    return list(session.exec(select(SuspensionChangeRecord)).all())


def test_the_transaction_is_saved_on_every_row_before_it_is_sent(engine: Engine) -> None:
    _changes(engine, 2)
    chain = RecordingChain(engine)
    with Session(engine) as session:
        save_then_send(chain, session, _prepared("0xaa01"), _rows(session), sending="sending")
    assert chain.calls == ["send 0xaa01"]
    assert chain.saved_when_sent == [("sending", "0xaa01"), ("sending", "0xaa01")]
    with Session(engine) as session:
        assert {(row.state, row.raw_tx) for row in _rows(session)} == {("sending", b"\xaa\x01")}


def test_rows_are_grouped_by_their_transaction_in_the_order_first_met(engine: Engine) -> None:
    first, second, third, unsent = _changes(engine, 4)
    with Session(engine) as session:
        rows = {row.id: row for row in _rows(session)}
        for change_id, tx_hash in ((first, "0xbb"), (second, "0xaa"), (third, "0xbb")):
            rows[change_id].tx_hash = tx_hash
        ordered = [rows[first], rows[second], rows[third], rows[unsent]]
        batches = by_transaction(ordered)
    assert [[row.id for row in batch] for batch in batches] == [[first, third], [second]]


def test_a_transaction_the_node_lost_is_sent_again_then_followed(engine: Engine) -> None:
    _changes(engine, 1)
    chain = RecordingChain(engine, state_of=TxState.UNKNOWN)
    with Session(engine) as session:
        save_then_send(chain, session, _prepared("0xcc02"), _rows(session), sending="sending")
        outcome = settle(chain, session, _rows(session), approved=ChangeState.APPROVED)
    assert outcome is not None and outcome.tx_hash == "0xcc02"
    assert chain.calls == ["send 0xcc02", "state 0xcc02", "resend cc02", "wait 0xcc02"]


def test_a_pending_transaction_is_only_waited_for(engine: Engine) -> None:
    _changes(engine, 1)
    chain = RecordingChain(engine, state_of=TxState.PENDING)
    with Session(engine) as session:
        save_then_send(chain, session, _prepared("0xdd03"), _rows(session), sending="sending")
        assert settle(chain, session, _rows(session), approved="approved") is not None
    assert "resend dd03" not in chain.calls


@pytest.mark.parametrize(
    "ends",
    [
        TransactionDropped("nonce taken", tx_hash="0xee04"),
        TransactionReverted("leaf already revoked", error_name="CertificateRegistryRevoked"),
    ],
    ids=["dropped", "reverted"],
)
def test_a_batch_that_will_never_be_mined_is_approved_again(
    engine: Engine, ends: BaseException
) -> None:
    _changes(engine, 2)
    chain = RecordingChain(engine, ends=ends)
    with Session(engine) as session:
        save_then_send(chain, session, _prepared("0xee04"), _rows(session), sending="sending")
        assert settle(chain, session, _rows(session), approved="approved") is None
    with Session(engine) as session:  # committed: another process sees it
        rows = _rows(session)
    assert [(row.state, row.tx_hash, row.raw_tx) for row in rows] == [("approved", None, None)] * 2


def test_revocation_requests_take_the_same_steps(engine: Engine) -> None:
    cert_id = _certificate(engine)
    with Session(engine) as session:
        session.add(
            RevocationRequestRecord(
                id="r1",
                certificate_id=cert_id,
                kind=RequestKind.REVOCATION,
                category="fraud",
                requested_by="test",
                state=RequestState.APPROVED,
            )
        )
        session.commit()
    chain = RecordingChain(engine, ends=TransactionDropped("nonce taken", tx_hash="0xff05"))
    with Session(engine) as session:
        requests = list(session.exec(select(RevocationRequestRecord)).all())
        prepared = _prepared("0xff05")
        save_then_send(chain, session, prepared, requests, sending=RequestState.REVOKING)
        assert [request.state for request in requests] == [RequestState.REVOKING]
        [batch] = by_transaction(requests)
        assert settle(chain, session, batch, approved=RequestState.APPROVED) is None
    with Session(engine) as session:
        request = session.get(RevocationRequestRecord, "r1")
        assert request is not None
        assert (request.state, request.tx_hash, request.raw_tx) == (
            RequestState.APPROVED,
            None,
            None,
        )
