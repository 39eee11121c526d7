"""Publishing the status list's hash sends from the anchoring account: it holds the account's
lock (account_lock) while it sends, as anchoring and revocation do, so two processes never
send from that account with the same nonce. On the session's anvil, SQLite and PostgreSQL."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from contracts.client import PreparedTransaction, RegistryClient, TxOutcome, TxState
from contracts.values import StatusListRecord
from issuer.dev_pki import DevPki
from issuer.status_list import (
    SignedList,
    StatusListPolicy,
    StatusListPublication,
    publish_status_list,
    status_list_signer,
)
from offchain_store.records import IssuerRecord, create_schema, make_engine
from offchain_store.statuses import PublicationState, SignedStatusListRecord
from offchain_store.work_claims import account_lock, account_lock_key
from tests.conftest import AnvilChain

pytestmark = pytest.mark.chain

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
POLICY = StatusListPolicy(public_base_url="https://certs.example.test")


class ProbedRegistry:
    """The real registry client; at each send it asks whether another connection could take
    the sending account right now (PostgreSQL; SQLite has no such lock: one worker)."""

    def __init__(self, client: RegistryClient, engine: Engine) -> None:
        assert client.account is not None
        self.client, self.engine, self.address = client, engine, client.account.address
        self.free_at_send: list[bool | None] = []

    def prepare_publish_status_list(self, list_sha256: bytes | str) -> PreparedTransaction:
        return self.client.prepare_publish_status_list(list_sha256)

    def send(self, prepared: PreparedTransaction) -> str:
        self.free_at_send.append(account_free_elsewhere(self.engine, self.address))
        return self.client.send(prepared)

    def resend(self, raw: bytes) -> str:
        return self.client.resend(raw)

    def wait(self, tx_hash: str) -> TxOutcome:
        return self.client.wait(tx_hash)

    def transaction_state(self, tx_hash: str) -> TxState:
        return self.client.transaction_state(tx_hash)

    def current_status_list(self) -> StatusListRecord | None:
        return self.client.current_status_list()


def account_free_elsewhere(engine: Engine, address: str) -> bool | None:
    """Whether another connection (another process, as far as PostgreSQL goes) could take the
    account's lock now; None on SQLite, where account_lock is nothing."""
    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as other:
        key = account_lock_key(address)
        taken = bool(other.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar())
        if taken:
            other.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
        other.commit()
    return taken


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    made = make_engine(database_url)
    create_schema(made)
    yield made
    made.dispose()


def publication(
    engine: Engine, anvil_chain: AnvilChain, shared_pki: DevPki, *, publisher: bool = True
) -> tuple[StatusListPublication, ProbedRegistry]:
    """A fresh issuer (its own list, so its hash is new on the shared registry)."""
    issuer_id = "lock-" + secrets.token_hex(6)
    with Session(engine) as session:
        session.add(IssuerRecord(id=issuer_id, name="Centre de test"))
        session.commit()
    chain = ProbedRegistry(anvil_chain.client(anvil_chain.issuer), engine)
    made = StatusListPublication(
        engine=engine,
        issuer_id=issuer_id,
        signer=status_list_signer(shared_pki.identity),
        policy=POLICY,
        chain=chain,
        publisher_address=anvil_chain.issuer.address if publisher else None,
    )
    return made, chain


def published(engine: Engine, issuer_id: str) -> SignedStatusListRecord:
    with Session(engine) as session:
        row = session.get(SignedStatusListRecord, issuer_id)
        assert row is not None
        session.expunge(row)
    return row


def test_the_anchoring_account_is_held_while_the_list_hash_is_sent(
    engine: Engine, anvil_chain: AnvilChain, shared_pki: DevPki
) -> None:
    made, chain = publication(engine, anvil_chain, shared_pki)
    signed = publish_status_list(made, now=NOW)
    assert signed is not None
    expected = None if engine.dialect.name == "sqlite" else False
    assert chain.free_at_send == [expected]  # sent once, the account held by this process
    assert account_free_elsewhere(engine, chain.address) in (None, True)  # released after
    row = published(engine, made.issuer_id)
    assert row.state == PublicationState.PUBLISHED and row.sha256 == signed.sha256.hex()
    on_chain = anvil_chain.client().current_status_list()
    assert on_chain is not None and on_chain.list_hash == signed.sha256


def test_without_a_publisher_address_nothing_is_held(
    engine: Engine, anvil_chain: AnvilChain, shared_pki: DevPki
) -> None:
    made, chain = publication(engine, anvil_chain, shared_pki, publisher=False)
    assert publish_status_list(made, now=NOW) is not None
    expected = None if engine.dialect.name == "sqlite" else True
    assert chain.free_at_send == [expected]  # the probe can tell held from free


def test_publication_waits_for_another_process_holding_the_account(
    postgres_url: str, anvil_chain: AnvilChain, shared_pki: DevPki
) -> None:
    """PostgreSQL only: on SQLite one worker runs at a time, so nobody else holds the account."""
    engine = make_engine(postgres_url)
    create_schema(engine)
    made, chain = publication(engine, anvil_chain, shared_pki)
    outcome: list[SignedList | BaseException | None] = []

    def publish() -> None:
        try:
            outcome.append(publish_status_list(made, now=NOW))
        except BaseException as error:  # handed to the test's thread
            outcome.append(error)

    publisher = threading.Thread(target=publish, daemon=True)
    with account_lock(engine, chain.address):  # the other process: e.g. a worker anchoring
        publisher.start()
        wait_until_blocked_on_advisory_lock(engine, publisher)
        assert chain.free_at_send == []  # nothing prepared, saved or sent meanwhile
        with Session(engine) as session:
            assert session.get(SignedStatusListRecord, made.issuer_id) is None
    publisher.join(timeout=120)
    assert not publisher.is_alive(), "publication still waiting after the account was let go"
    assert len(outcome) == 1 and isinstance(outcome[0], SignedList)
    assert chain.free_at_send == [False]
    assert published(engine, made.issuer_id).state == PublicationState.PUBLISHED
    engine.dispose()


def wait_until_blocked_on_advisory_lock(engine: Engine, publisher: threading.Thread) -> None:
    """Until PostgreSQL shows a session waiting for an advisory lock (the publisher's)."""
    query = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        " AND wait_event_type = 'Lock' AND wait_event = 'advisory'"
    )
    for _ in range(1200):  # a bound, so that a broken lock fails instead of hanging
        if not publisher.is_alive():
            pytest.fail("publication went ahead while another process held the account")
        with engine.connect() as probe:
            if probe.execute(query).scalar():
                return
        time.sleep(0.05)
    pytest.fail("publication never waited for the account's lock")
