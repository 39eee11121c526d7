"""Several `sceau worker` / `sceau serve` processes starting at once on an empty database: each
records the issuer and the keys it is about to use, and the database ends with one row each."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from issuer.keys import register_issuer, register_keys_in_use
from offchain_store.records import IssuerKeyRecord, IssuerRecord, KeyKind, make_engine
from offchain_store.schema import create_schema
from offchain_store.statuses import SignedStatusListRecord

ISSUER = "centre-start"
STARTING = 8  # processes starting at once
SIGNING_PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
ADDRESS = "0x" + "ab" * 20
AT = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def start_up(engine: Engine, name: str = "Centre d'examen") -> None:
    """What `compose.issuance` records at each start, before any work."""
    register_issuer(engine, ISSUER, name)
    register_keys_in_use(engine, ISSUER, signing_pem=SIGNING_PEM, anchoring_address=ADDRESS, now=AT)


def all_at_once(database_url: str, step: Callable[[Engine], None]) -> list[BaseException]:
    """Run `step` in STARTING threads released together, each on its own engine (its own
    connections, as a process has); the errors they raised."""
    engines = [make_engine(database_url) for _ in range(STARTING)]
    ready = threading.Barrier(STARTING)
    errors: list[BaseException] = []

    def run(engine: Engine) -> None:
        with engine.connect():  # connected before the start, so the calls meet in SQL
            pass
        ready.wait()
        try:
            step(engine)
        except BaseException as error:  # every failure is the test's finding
            errors.append(error)

    threads = [threading.Thread(target=run, args=(engine,)) for engine in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for engine in engines:
        engine.dispose()
    return errors


def fresh(database_url: str) -> Engine:
    engine = make_engine(database_url)
    create_schema(engine)
    return engine


def issuer_rows(engine: Engine) -> list[IssuerRecord]:
    with Session(engine) as session:
        return list(session.exec(select(IssuerRecord)).all())


def status_list_rows(engine: Engine) -> int:
    with Session(engine) as session:
        return len(session.exec(select(SignedStatusListRecord.issuer_id)).all())


def open_periods(engine: Engine, kind: KeyKind) -> int:
    with Session(engine) as session:
        query = select(func.count()).where(
            IssuerKeyRecord.issuer_id == ISSUER,
            IssuerKeyRecord.kind == kind,
            col(IssuerKeyRecord.valid_until).is_(None),
        )
        return int(session.exec(query).one())


def test_processes_starting_at_once_record_one_issuer(database_url: str) -> None:
    engine = fresh(database_url)
    errors = all_at_once(database_url, lambda e: register_issuer(e, ISSUER, "Centre d'examen"))
    assert errors == []
    assert [(row.id, row.name) for row in issuer_rows(engine)] == [(ISSUER, "Centre d'examen")]
    assert status_list_rows(engine) == 1  # made before any worker seals a batch
    engine.dispose()


def test_processes_starting_at_once_record_each_key_period_once(database_url: str) -> None:
    engine = fresh(database_url)
    register_issuer(engine, ISSUER, "Centre d'examen")  # the keys alone race here
    errors = all_at_once(database_url, start_up)
    assert errors == []
    assert open_periods(engine, KeyKind.SIGNING) == 1
    assert open_periods(engine, KeyKind.ANCHORING) == 1
    engine.dispose()


def test_the_whole_start_on_an_empty_database_makes_one_row_each(database_url: str) -> None:
    def start_on_empty(engine: Engine) -> None:  # no table yet: the schema is made first
        create_schema(engine)
        start_up(engine)

    errors = all_at_once(database_url, start_on_empty)
    assert errors == []
    engine = make_engine(database_url)
    assert len(issuer_rows(engine)) == 1
    assert open_periods(engine, KeyKind.SIGNING) == 1
    assert open_periods(engine, KeyKind.ANCHORING) == 1
    engine.dispose()


def test_a_start_with_a_new_issuer_name_renames_the_one_row(database_url: str) -> None:
    engine = fresh(database_url)
    start_up(engine)
    errors = all_at_once(database_url, lambda e: start_up(e, name="Centre renommé"))
    assert errors == []
    assert [(row.id, row.name) for row in issuer_rows(engine)] == [(ISSUER, "Centre renommé")]
    assert open_periods(engine, KeyKind.SIGNING) == 1
    engine.dispose()
