"""Leases on work are measured on the database's clock: a worker on a machine whose clock is
wrong neither takes live work from others nor keeps its own past its lease."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, tzinfo
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from offchain_store import work_claims
from offchain_store.records import make_engine
from offchain_store.schema import create_schema
from offchain_store.work_claims import WorkClaimRecord, WorkClaims
from tests.issuer.test_work_queue import ISSUER, stage


@pytest.fixture
def pg_engine(postgres_url: str) -> Iterator[Engine]:
    made = make_engine(postgres_url)
    create_schema(made)
    yield made
    made.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'leases.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    made = make_engine(url)
    create_schema(made)
    yield made
    made.dispose()


def machine_clock_off_by(monkeypatch: pytest.MonkeyPatch, offset: timedelta) -> None:
    """This process's clock is `offset` away from the true time (as on a machine without NTP)."""

    class Skewed(datetime):
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> Skewed:
            real = datetime.now(tz) + offset
            return cls.fromtimestamp(real.timestamp(), tz)

    monkeypatch.setattr(work_claims, "datetime", Skewed)


def seconds_left(engine: Engine) -> list[float]:
    """Each lease's time left, as the database's own clock sees it."""
    with Session(engine) as session:
        now = session.exec(select(func.now())).one()
        ends = session.exec(select(WorkClaimRecord.lease_until)).all()
    return [(end - now).total_seconds() for end in ends]


def test_a_worker_whose_clock_runs_ahead_leaves_live_work_alone(
    pg_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, cert_ids = stage(pg_engine, 3)
    holder = WorkClaims(engine=pg_engine, issuer_id=ISSUER, worker_id="on-time", lease_seconds=60)
    assert sorted(holder.claim_certificates(10)) == sorted(cert_ids)
    machine_clock_off_by(monkeypatch, timedelta(hours=2))
    ahead = WorkClaims(engine=pg_engine, issuer_id=ISSUER, worker_id="ahead", lease_seconds=60)
    assert ahead.claim_certificates(10) == []


def test_a_worker_whose_clock_runs_behind_holds_its_lease_for_its_length_only(
    pg_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    stage(pg_engine, 2)
    machine_clock_off_by(monkeypatch, -timedelta(hours=2))
    behind = WorkClaims(engine=pg_engine, issuer_id=ISSUER, worker_id="behind", lease_seconds=600)
    behind.claim_certificates(10)
    behind.renew()
    left = seconds_left(pg_engine)
    assert len(left) == 2
    assert all(0 < seconds <= 600 for seconds in left)  # not two hours and ten minutes


def test_a_lease_run_out_on_the_database_clock_is_taken_again(engine: Engine) -> None:
    _, cert_ids = stage(engine, 2)
    killed = WorkClaims(engine=engine, issuer_id=ISSUER, worker_id="killed", lease_seconds=0)
    assert sorted(killed.claim_certificates(10)) == sorted(cert_ids)
    other = WorkClaims(engine=engine, issuer_id=ISSUER, worker_id="other", lease_seconds=60)
    assert sorted(other.claim_certificates(10)) == sorted(cert_ids)
    assert (
        WorkClaims(engine=engine, issuer_id=ISSUER, worker_id="third").claim_certificates(10) == []
    )
