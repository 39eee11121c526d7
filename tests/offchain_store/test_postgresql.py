"""PostgreSQL for real: the psycopg 3 driver, reconnection after a restart, UTC whatever the
server's zone, and a clear error (without the password) when the server cannot be reached."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlmodel import Session

from offchain_store import schema
from offchain_store.local_postgres import LocalPostgres
from offchain_store.records import IssuerRecord, make_engine
from offchain_store.schema import DatabaseUnreachable
from tests.ports import free_port


def test_a_plain_postgresql_url_goes_through_psycopg_3(postgres_url: str) -> None:
    plain = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    engine = make_engine(plain)
    try:
        assert engine.dialect.driver == "psycopg"
        with engine.connect() as connection:
            assert connection.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        engine.dispose()


def test_a_restarted_server_is_reconnected_to_by_itself(
    postgres: LocalPostgres, postgres_url: str
) -> None:
    engine = make_engine(postgres_url)
    try:
        schema.create_schema(engine)
        with Session(engine) as session:
            session.add(IssuerRecord(id="avant", name="Avant", created_at=datetime.now(UTC)))
            session.commit()
        postgres.stop()  # the pooled connection is now dead
        postgres.start()
        with Session(engine) as session:
            assert session.get(IssuerRecord, "avant") is not None
    finally:
        engine.dispose()


def test_times_are_utc_whatever_the_server_zone(postgres: LocalPostgres, postgres_url: str) -> None:
    name = postgres_url.rsplit("/", 1)[1]
    postgres.sql(f"ALTER DATABASE \"{name}\" SET timezone TO 'Pacific/Auckland'")
    engine = make_engine(postgres_url)
    try:
        schema.create_schema(engine)
        at = datetime(2026, 7, 1, 23, 30, tzinfo=ZoneInfo("Europe/Paris"))
        with Session(engine) as session:
            session.add(IssuerRecord(id="centre", name="Centre", created_at=at))
            session.commit()
        with Session(engine) as session:
            read = session.get(IssuerRecord, "centre")
            assert read is not None
            assert (read.created_at, read.created_at.utcoffset()) == (at, timedelta(0))
            shown = session.execute(text("SELECT created_at::text FROM issuers")).scalar_one()
        assert shown == "2026-07-01 21:30:00+00"
    finally:
        engine.dispose()


def test_an_unreachable_server_is_named_without_its_password() -> None:
    engine = make_engine(f"postgresql://sceau:not-to-be-shown@127.0.0.1:{free_port()}/sceau")
    try:
        with pytest.raises(DatabaseUnreachable) as raised:
            schema.create_schema(engine)
    finally:
        engine.dispose()
    message = str(raised.value)
    assert "not-to-be-shown" not in message
    assert message.startswith("Could not use the database postgresql+psycopg://sceau:***@")
