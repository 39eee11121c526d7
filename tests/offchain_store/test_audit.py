"""The audit log: any run of appends verifies; any edit, deletion or swap is found and named."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from offchain_store import audit
from offchain_store.audit import AuditEntryRecord, AuditHeadMissing, SecretInAuditEntry
from offchain_store.records import create_schema, make_engine
from offchain_store.tokens import AdminRole, create_token

START = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
EDITABLE = ("at", "actor", "action", "subject", "details", "prev_hash", "entry_hash")


@dataclass(frozen=True)
class Action:
    actor: str
    action: str
    subject: str
    details: dict[str, Any]
    after: timedelta


actions = st.builds(
    Action,
    actor=st.sampled_from(["system", "cli:alice", "0123456789ab"]) | st.text(max_size=20),
    action=st.sampled_from(["token.created", "certificate.revoked", "revocation.approved"]),
    subject=st.text(alphabet="0123456789abcdef", max_size=32),
    details=st.dictionaries(
        st.text(max_size=8),
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        max_size=3,
    ),
    after=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3)),
)
logs = st.lists(actions, min_size=1, max_size=12)


@contextmanager
def log_of(done: list[Action], url: str = "sqlite://") -> Iterator[Engine]:
    """A fresh database whose audit log holds `done`, in order."""
    engine = make_engine(url)
    create_schema(engine)
    at = START
    for action in done:
        at += action.after
        audit.append(
            engine,
            actor=action.actor,
            action=action.action,
            subject=action.subject,
            details=action.details,
            now=at,
        )
    try:
        yield engine
    finally:
        engine.dispose()


def tamper(engine: Engine, sql: str, **params: Any) -> None:
    """Change the database behind the log's back, as someone with SQL access would."""
    with engine.begin() as connection:
        connection.execute(text(sql), params)


def stored(engine: Engine, seq: int, column: str) -> Any:
    with engine.connect() as connection:
        return connection.execute(
            text(f"SELECT {column} FROM audit_log WHERE seq = :seq"), {"seq": seq}
        ).scalar_one()


def edit(engine: Engine, seq: int, column: str) -> None:
    if column == "at":
        tamper(engine, "UPDATE audit_log SET at = datetime(at, '+1 seconds') WHERE seq = :s", s=seq)
    elif column in ("prev_hash", "entry_hash"):
        old = stored(engine, seq, column)
        new = ("1" if old[0] != "1" else "2") + old[1:]
        tamper(engine, f"UPDATE audit_log SET {column} = :v WHERE seq = :s", v=new, s=seq)
    else:
        tamper(engine, f"UPDATE audit_log SET {column} = {column} || ' ' WHERE seq = :s", s=seq)


@settings(max_examples=60, deadline=None)
@given(done=st.lists(actions, max_size=12))
def test_any_run_of_appends_verifies(done: list[Action]) -> None:
    with log_of(done) as engine:
        result = audit.verify_chain(engine)
        assert result.ok, result.problem
        assert (result.entries, result.head_seq, result.first_bad_seq) == (
            len(done),
            len(done),
            None,
        )
        listed = audit.entries(engine, limit=100)
        assert [e.seq for e in listed] == list(range(1, len(done) + 1))
        assert [e.actor for e in listed] == [a.actor for a in done]
        if listed:
            assert result.head_hash == listed[-1].entry_hash


@settings(max_examples=80, deadline=None)
@given(done=logs, data=st.data())
def test_an_edited_field_of_any_entry_is_named(done: list[Action], data: st.DataObject) -> None:
    seq = data.draw(st.integers(1, len(done)), label="seq")
    column = data.draw(st.sampled_from(EDITABLE), label="column")
    with log_of(done) as engine:
        edit(engine, seq, column)
        result = audit.verify_chain(engine)
    assert not result.ok
    assert (result.first_bad_seq, result.problem) == (seq, f"entry {seq} was changed")


@settings(max_examples=40, deadline=None)
@given(done=logs, data=st.data())
def test_an_edited_seq_shows_as_a_missing_entry(done: list[Action], data: st.DataObject) -> None:
    seq = data.draw(st.integers(1, len(done)), label="seq")
    with log_of(done) as engine:
        tamper(engine, "UPDATE audit_log SET seq = seq + 1000 WHERE seq = :s", s=seq)
        result = audit.verify_chain(engine)
    assert not result.ok and result.first_bad_seq == seq
    assert result.problem.startswith((f"entry {seq} is missing", f"entries {seq} to"))


@settings(max_examples=60, deadline=None)
@given(done=st.lists(actions, min_size=2, max_size=12), data=st.data())
def test_a_deleted_entry_before_the_last_is_named(done: list[Action], data: st.DataObject) -> None:
    seq = data.draw(st.integers(1, len(done) - 1), label="seq")
    with log_of(done) as engine:
        tamper(engine, "DELETE FROM audit_log WHERE seq = :s", s=seq)
        result = audit.verify_chain(engine)
    where = f"jumps from {seq - 1} to {seq + 1}" if seq > 1 else "starts at 2"
    assert not result.ok
    assert (result.first_bad_seq, result.problem) == (
        seq,
        f"entry {seq} is missing (the chain {where})",
    )
    assert result.entries == len(done) - 1


@settings(max_examples=30, deadline=None)
@given(done=logs)
def test_a_deleted_last_entry_is_caught_by_the_head(done: list[Action]) -> None:
    last = len(done)
    with log_of(done) as engine:
        tamper(engine, "DELETE FROM audit_log WHERE seq = :s", s=last)
        result = audit.verify_chain(engine)
    assert not result.ok
    assert (result.first_bad_seq, result.problem) == (
        last,
        f"entry {last} is missing (the log ends at {last - 1}, its head records {last})",
    )


@settings(max_examples=60, deadline=None)
@given(done=st.lists(actions, min_size=2, max_size=12), data=st.data())
def test_two_swapped_entries_are_named(done: list[Action], data: st.DataObject) -> None:
    first, second = sorted(
        data.draw(
            st.lists(st.integers(1, len(done)), min_size=2, max_size=2, unique=True), label="pair"
        )
    )
    with log_of(done) as engine:
        tamper(engine, "UPDATE audit_log SET seq = -1 WHERE seq = :s", s=first)
        tamper(engine, "UPDATE audit_log SET seq = :a WHERE seq = :b", a=first, b=second)
        tamper(engine, "UPDATE audit_log SET seq = :b WHERE seq = -1", b=second)
        result = audit.verify_chain(engine)
    assert not result.ok
    assert (result.first_bad_seq, result.problem) == (first, f"entry {first} was changed")


def forge(engine: Engine, seq: int) -> None:
    """Edit an entry and recompute its own hash, as someone who read this code would."""
    with Session(engine) as session:
        entry = session.get(AuditEntryRecord, seq)
        assert entry is not None
        entry.actor += " (edited)"
        entry.entry_hash = audit.entry_hash(entry)
        session.add(entry)
        session.commit()


@settings(max_examples=40, deadline=None)
@given(done=st.lists(actions, min_size=2, max_size=12), data=st.data())
def test_a_rehashed_entry_breaks_the_next_link(done: list[Action], data: st.DataObject) -> None:
    seq = data.draw(st.integers(1, len(done) - 1), label="seq")
    with log_of(done) as engine:
        forge(engine, seq)
        result = audit.verify_chain(engine)
    assert not result.ok
    next_seq = seq + 1
    assert (result.first_bad_seq, result.problem) == (
        next_seq,
        f"entry {next_seq}'s link to entry {seq} is broken",
    )


def test_a_rehashed_last_entry_no_longer_matches_the_head(database_url: str) -> None:
    done = [Action("cli:mallory", "token.created", "ab", {}, timedelta(seconds=1))] * 3
    with log_of(done, database_url) as engine:
        forge(engine, 3)
        result = audit.verify_chain(engine)
    assert (result.ok, result.first_bad_seq, result.problem) == (
        False,
        3,
        "entry 3 does not match the head",
    )


def test_an_entry_added_outside_the_log_is_named(database_url: str) -> None:
    done = [Action("system", "token.created", "ab", {}, timedelta(seconds=1))] * 2
    with log_of(done, database_url) as engine, Session(engine) as session:
        head = session.get(audit.AuditHeadRecord, audit.HEAD_ID)
        assert head is not None
        extra = AuditEntryRecord(
            seq=3,
            at=START,
            actor="system",
            action="token.created",
            subject="cd",
            prev_hash=head.entry_hash,
            entry_hash="",
        )
        extra.entry_hash = audit.entry_hash(extra)
        session.add(extra)
        session.commit()
        result = audit.verify_chain(engine)
    assert (result.ok, result.first_bad_seq) == (False, 3)
    assert result.problem == "entry 3 was added outside the log (its head records 2)"


def test_a_deleted_head_is_named_and_stops_appends(database_url: str) -> None:
    done = [Action("system", "token.created", "ab", {}, timedelta(seconds=1))] * 2
    with log_of(done, database_url) as engine:
        tamper(engine, "DELETE FROM audit_head")
        result = audit.verify_chain(engine)
        assert (result.ok, result.first_bad_seq) == (False, 2)
        assert result.problem.startswith("the head record is missing")
        with pytest.raises(AuditHeadMissing):
            audit.append(engine, actor="system", action="x", now=START)


def test_appending_after_a_deleted_tail_keeps_the_gap_visible(database_url: str) -> None:
    done = [Action("system", "token.created", "ab", {}, timedelta(seconds=1))] * 3
    with log_of(done, database_url) as engine:
        tamper(engine, "DELETE FROM audit_log WHERE seq = 3")
        audit.append(engine, actor="system", action="token.revoked", now=START)
        result = audit.verify_chain(engine)
    assert (result.ok, result.first_bad_seq) == (False, 3)
    assert result.problem == "entry 3 is missing (the chain jumps from 2 to 4)"


def rewrite(engine: Engine, seq: int) -> None:
    """Edit an entry and recompute every later hash and the head: a thorough forger."""
    with Session(engine) as session:
        rows = session.exec(select(AuditEntryRecord).order_by(col(AuditEntryRecord.seq))).all()
        previous = audit.GENESIS_HASH
        for entry in rows:
            if entry.seq == seq:
                entry.actor += " (edited)"
            entry.prev_hash = previous
            entry.entry_hash = previous = audit.entry_hash(entry)
            session.add(entry)
        head = session.get(audit.AuditHeadRecord, audit.HEAD_ID)
        assert head is not None
        head.entry_hash = previous
        session.add(head)
        session.commit()


def test_a_rewritten_log_is_caught_only_against_a_recorded_head(database_url: str) -> None:
    done = [Action("system", f"a{i}", "", {}, timedelta(seconds=1)) for i in range(4)]
    with log_of(done, database_url) as engine:
        before = audit.verify_chain(engine)
        recorded = (before.head_seq, before.head_hash)
        rewrite(engine, 2)
        assert audit.verify_chain(engine).ok  # hashing alone cannot tell
        result = audit.verify_chain(engine, recorded_head=recorded)
        assert (result.ok, result.first_bad_seq) == (False, 4)
        assert result.problem == "entry 4 no longer has the recorded hash: the log was rewritten"
        tamper(engine, "DELETE FROM audit_log WHERE seq = 4")
        tamper(
            engine,
            "UPDATE audit_head SET seq = 3, entry_hash = :h",
            h=stored(engine, 3, "entry_hash"),
        )
        gone = audit.verify_chain(engine, recorded_head=recorded)
        assert gone.problem == "entry 4, whose hash was recorded, is gone"


def test_an_empty_log_verifies(database_url: str) -> None:
    with log_of([], database_url) as engine:
        assert audit.verify_chain(engine) == audit.AuditVerification(ok=True, entries=0)


def test_the_entry_hash_is_sha256_of_this_canonical_json() -> None:
    entry = AuditEntryRecord(
        seq=1,
        at=datetime(2026, 3, 1, 10, 30, tzinfo=UTC),
        actor="cli:alice",
        action="token.created",
        subject="0123456789ab",
        details='{"role":"admin"}',
        prev_hash="0" * 64,
        entry_hash="",
    )
    canonical = (
        '{"action":"token.created","actor":"cli:alice","at":"2026-03-01T10:30:00.000000+00:00",'
        '"details":"{\\"role\\":\\"admin\\"}","prev_hash":"' + "0" * 64 + '","seq":1,'
        '"subject":"0123456789ab"}'
    )
    assert audit.entry_hash(entry) == hashlib.sha256(canonical.encode()).hexdigest()


def test_details_are_stored_as_canonical_json(database_url: str) -> None:
    with log_of(
        [Action("system", "x", "", {"b": 1, "a": "é"}, timedelta(0))], database_url
    ) as engine:
        assert stored(engine, 1, "details") == '{"a":"é","b":1}'


def test_an_entry_in_a_rolled_back_transaction_leaves_no_trace(database_url: str) -> None:
    with log_of([Action("system", "x", "", {}, timedelta(0))], database_url) as engine:
        with Session(engine) as session:
            audit.append(session, actor="system", action="y", now=START)
            audit.append(session, actor="system", action="z", now=START)
            session.rollback()
        audit.append(engine, actor="system", action="w", now=START)
        result = audit.verify_chain(engine)
        assert (result.ok, result.entries) == (True, 2)


def test_a_token_is_refused_in_any_field(database_url: str) -> None:
    with log_of([], database_url) as engine:
        _, token = create_token(engine, name="t", role=AdminRole.ADMIN, now=START)
        for fields in ({"actor": token}, {"subject": token}, {"details": {"note": token}}):
            arguments: dict[str, Any] = {"actor": "system", "action": "x", **fields}
            with pytest.raises(SecretInAuditEntry) as raised:
                audit.append(engine, now=START, **arguments)
            assert token not in str(raised.value)
        assert audit.count(engine) == 0


def test_concurrent_appends_make_one_unbroken_chain(database_url: str) -> None:
    with log_of([], database_url) as engine:
        failures: list[BaseException] = []

        def worker(name: str) -> None:
            try:
                for n in range(15):
                    with Session(engine) as session:
                        session.exec(select(AuditEntryRecord).limit(1)).all()  # a read first
                        audit.append(session, actor=name, action=f"a{n}", now=START)
                        session.commit()
            except BaseException as error:  # reported below, from the main thread
                failures.append(error)

        threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert failures == []
        result = audit.verify_chain(engine)
        assert (result.ok, result.entries, result.head_seq) == (True, 60, 60), result.problem


def test_entries_pages_in_either_order(database_url: str) -> None:
    done = [Action("system", f"a{i}", "", {}, timedelta(seconds=1)) for i in range(5)]
    with log_of(done, database_url) as engine:
        assert [e.seq for e in audit.entries(engine, limit=2, offset=1)] == [2, 3]
        assert [e.seq for e in audit.entries(engine, limit=2, newest_first=True)] == [5, 4]
        assert audit.count(engine) == 5
