"""One share opening on SQLite and PostgreSQL: one read, one commit that counts and logs it, and
on SQLite the engine's full fsync back on the connection afterwards."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from offchain_store.blobs import InMemoryBlobStore
from offchain_store.crypto import new_link_key
from offchain_store.records import create_schema, make_engine
from offchain_store.shares import WrongLinkKey, list_shares, open_share
from tests.offchain_store.test_shares import NOW, PDF, share, stored_certificate


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    made = make_engine(database_url)
    create_schema(made)
    yield made
    made.dispose()


def test_an_opening_reads_once_and_commits_once(engine: Engine) -> None:
    blobs = InMemoryBlobStore()
    cert_id, key = stored_certificate(engine, blobs)
    share_id, share_key = share(engine, cert_id, key, "Employer A", max_opens=5)
    seen: list[str] = []

    def statement(_conn: object, _cursor: object, sql: str, *_args: object) -> None:
        seen.append(sql.split(None, 1)[0].upper())

    def commit(_conn: object) -> None:
        seen.append("COMMIT")

    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "commit", commit)
    try:
        opened = open_share(
            engine, blobs, share_id=share_id, share_key=share_key, now=NOW, client="x"
        )
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine, "commit", commit)
    assert opened.pdf == PDF and opened.record.id == cert_id and opened.share is not None
    assert _work(seen) == ["SELECT", "UPDATE", "INSERT", "COMMIT"]
    listed = list_shares(engine, cert_id, key)
    assert listed[0][0].opens == 1 and len(listed[0][1]) == 1


def _work(seen: list[str]) -> list[str]:
    """The statements and the commits that carry a write (SQLite's PRAGMAs left out, with
    the empty commits SQLAlchemy sends after them)."""
    work: list[str] = []
    for step in seen:
        if step == "PRAGMA" or (step == "COMMIT" and work[-1:] in ([], ["COMMIT"])):
            continue
        if step == "COMMIT" and work[-1] == "SELECT":
            continue
        work.append(step)
    return work


def test_a_refused_opening_writes_nothing_and_keeps_full_sync(engine: Engine) -> None:
    blobs = InMemoryBlobStore()
    cert_id, key = stored_certificate(engine, blobs)
    share_id, _ = share(engine, cert_id, key, "Employer A")
    with pytest.raises(WrongLinkKey):
        open_share(engine, blobs, share_id=share_id, share_key=new_link_key(), now=NOW, client="x")
    listed = list_shares(engine, cert_id, key)
    assert listed[0][0].opens == 0 and listed[0][1] == []
    if engine.dialect.name == "sqlite":  # the pooled connection is back to the engine's FULL
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2
