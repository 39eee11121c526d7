"""Work claims shared by issuing workers: SKIP LOCKED from two connections, leases that run
out, batches claimed once nothing is left to sign, one anchoring account per process."""

from __future__ import annotations

import hashlib
import os
import secrets
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from issuer.dispatch import open_with_link_key
from issuer.intake import read_results
from issuer.pipeline import Issuance, stage_results, staged_link_key
from issuer.storing import store_signed_pdf
from issuer.work_queue import WorkerOptions, run_worker
from offchain_store.blobs import FilesystemBlobStore
from offchain_store.records import (
    BatchRecord,
    CertificateRecord,
    CertificateState,
    IssuerRecord,
    create_schema,
    make_engine,
)
from offchain_store.work_claims import (
    ClaimKind,
    WorkClaims,
    WorkerLockHeld,
    account_lock,
    account_lock_key,
    single_worker_lock,
)
from sceau import compose
from tests.conftest import SceauEnv
from tests.sceau.helpers import subset_of_sample

ISSUER = "centre-claims"
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'claims.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    made = make_engine(url)
    create_schema(made)
    yield made
    made.dispose()


@pytest.fixture
def pg_engine(postgres_url: str) -> Iterator[Engine]:
    made = make_engine(postgres_url)
    create_schema(made)
    yield made
    made.dispose()


def stage(engine: Engine, count: int) -> tuple[str, list[str]]:
    """One batch of `count` certificates waiting to be signed; its id and theirs."""
    batch_id = secrets.token_hex(16)
    cert_ids = [secrets.token_hex(16) for _ in range(count)]
    with Session(engine) as session:
        if session.get(IssuerRecord, ISSUER) is None:
            session.add(IssuerRecord(id=ISSUER, name="Centre"))
            session.flush()
        session.add(
            BatchRecord(id=batch_id, issuer_id=ISSUER, source_name="r.csv", source_sha256="0" * 64)
        )
        session.flush()
        for line, cert_id in enumerate(cert_ids, start=2):
            session.add(
                CertificateRecord(
                    id=cert_id,
                    issuer_id=ISSUER,
                    result_id=f"R-{cert_id}",
                    batch_id=batch_id,
                    source_line=line,
                )
            )
        session.commit()
    return batch_id, cert_ids


def mark_stored(engine: Engine, cert_ids: list[str]) -> None:
    with Session(engine) as session:
        query = select(CertificateRecord).where(col(CertificateRecord.id).in_(cert_ids))
        for record in session.exec(query):
            record.state = CertificateState.STORED
        session.commit()


def worker(engine: Engine, name: str, at: datetime = T0, lease: float = 60.0) -> WorkClaims:
    return WorkClaims(
        engine=engine, issuer_id=ISSUER, worker_id=name, lease_seconds=lease, clock=lambda: at
    )


def test_two_workers_claim_disjoint_certificates(engine: Engine) -> None:
    _, cert_ids = stage(engine, 10)
    first = worker(engine, "a").claim_certificates(4)
    second = worker(engine, "b").claim_certificates(4)
    rest = worker(engine, "c").claim_certificates(10)
    assert len(first) == len(second) == 4 and len(rest) == 2
    assert sorted(first + second + rest) == sorted(cert_ids)
    assert worker(engine, "d").claim_certificates(10) == []


def test_rows_locked_by_another_transaction_are_skipped_not_waited_for(
    pg_engine: Engine,
) -> None:
    _, cert_ids = stage(pg_engine, 6)
    held = sorted(cert_ids)[:3]
    claimed: list[str] = []
    with pg_engine.connect() as other:
        other.execute(
            text("SELECT id FROM certificates WHERE id = ANY(:ids) FOR UPDATE"), {"ids": held}
        )
        claimer = threading.Thread(
            target=lambda: claimed.extend(worker(pg_engine, "b").claim_certificates(10))
        )
        claimer.start()
        claimer.join(60)  # a claimer that waited for the lock would still be blocked here
        blocked = claimer.is_alive()
        other.rollback()
    claimer.join()
    assert not blocked
    assert sorted(claimed) == sorted(set(cert_ids) - set(held))


def test_many_concurrent_claimers_take_every_certificate_once(pg_engine: Engine) -> None:
    _, cert_ids = stage(pg_engine, 120)
    taken: dict[str, list[str]] = {}

    def drain(name: str) -> None:
        claims = WorkClaims(engine=pg_engine, issuer_id=ISSUER, worker_id=name)
        mine = taken.setdefault(name, [])
        while got := claims.claim_certificates(3):  # as a worker does: sign, store, release
            mine.extend(got)
            mark_stored(pg_engine, got)
            claims.release(ClaimKind.CERTIFICATE, got)

    threads = [threading.Thread(target=drain, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    everything = [c for mine in taken.values() for c in mine]
    assert sorted(everything) == sorted(cert_ids)  # none twice, none left
    assert sum(1 for mine in taken.values() if mine) >= 2  # shared, not one worker alone


def test_an_expired_lease_is_taken_again_and_its_old_holder_cannot_release_it(
    engine: Engine,
) -> None:
    _, cert_ids = stage(engine, 3)
    killed = worker(engine, "killed", at=T0, lease=30)
    assert sorted(killed.claim_certificates(10)) == sorted(cert_ids)
    assert worker(engine, "b", at=T0 + timedelta(seconds=29)).claim_certificates(10) == []
    later = worker(engine, "b", at=T0 + timedelta(seconds=31))
    assert sorted(later.claim_certificates(10)) == sorted(cert_ids)
    killed.release_all()  # it comes back: what "b" took is not its to let go
    assert worker(engine, "c", at=T0 + timedelta(seconds=32)).claim_certificates(10) == []


def test_a_renewed_lease_keeps_its_work(engine: Engine) -> None:
    stage(engine, 2)
    now = [T0]
    alive = WorkClaims(
        engine=engine, issuer_id=ISSUER, worker_id="alive", lease_seconds=30, clock=lambda: now[0]
    )
    alive.claim_certificates(10)
    now[0] = T0 + timedelta(seconds=20)
    assert alive.renew() == 2
    assert worker(engine, "b", at=T0 + timedelta(seconds=45)).claim_certificates(10) == []
    assert len(worker(engine, "b", at=T0 + timedelta(seconds=51)).claim_certificates(10)) == 2


def test_a_worker_takes_its_own_claims_again_after_a_lost_connection(engine: Engine) -> None:
    _, cert_ids = stage(engine, 2)
    again = worker(engine, "a")
    again.claim_certificates(10)
    assert sorted(again.claim_certificates(10)) == sorted(cert_ids)


def test_released_certificates_go_to_the_next_claimer(engine: Engine) -> None:
    stage(engine, 4)
    first = worker(engine, "a")
    got = first.claim_certificates(10)
    first.release(ClaimKind.CERTIFICATE, got[:2])
    assert sorted(worker(engine, "b").claim_certificates(10)) == sorted(got[:2])


def test_a_batch_is_claimed_once_nothing_is_left_to_sign_and_by_one_worker(
    engine: Engine,
) -> None:
    batch_id, cert_ids = stage(engine, 3)
    assert worker(engine, "a").claim_batch() is None  # three still to sign
    mark_stored(engine, cert_ids[:2])
    assert worker(engine, "a").claim_batch() is None  # one still to sign
    mark_stored(engine, cert_ids[2:])
    assert worker(engine, "a").claim_batch() == batch_id
    assert worker(engine, "b").claim_batch() is None
    assert worker(engine, "b", at=T0 + timedelta(seconds=61)).claim_batch() == batch_id


def test_one_anchoring_account_is_held_by_one_connection_at_a_time(pg_engine: Engine) -> None:
    address = "0x" + "ab" * 20
    key = account_lock_key(address)
    assert key == account_lock_key(address.upper().replace("0X", "0x"))
    with account_lock(pg_engine, address), pg_engine.connect() as other:
        taken = other.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar()
        other_account = other.execute(
            text("SELECT pg_try_advisory_lock(:k)"), {"k": account_lock_key("0x" + "cd" * 20)}
        ).scalar()
        other.execute(text("SELECT pg_advisory_unlock_all()"))
    assert taken is False
    assert other_account is True
    with pg_engine.connect() as other:  # released at the end of the block
        assert other.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar()
        other.execute(text("SELECT pg_advisory_unlock_all()"))


def test_sqlite_allows_one_worker_at_a_time(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'one.db'}")
    create_schema(engine)
    with (
        single_worker_lock(engine),
        pytest.raises(WorkerLockHeld, match="SQLite allows one worker at a time"),
        single_worker_lock(engine),
    ):
        pass
    with single_worker_lock(engine):  # free again once the first let go
        pass


def test_a_second_signer_s_result_is_discarded(sceau_env: SceauEnv) -> None:
    issuance = compose.issuance(sceau_env.settings)
    database = issuance.engine.dialect.name
    results = subset_of_sample(sceau_env.root / "results.csv", 1)
    report = read_results(results, today=date.today())
    stage_results(issuance, report, results.read_bytes())
    with Session(issuance.engine) as session:
        cert_id = session.exec(select(CertificateRecord.id)).one()
    first, second = b"%PDF-1.7 signed by the first worker", b"%PDF-1.7 signed again"

    late: list[bool] = []
    with Session(issuance.engine) as session:
        assert store_signed_pdf(issuance, cert_id, first, session=session)
        # The second signer's store waits for the first's commit (PostgreSQL row lock).
        racer = threading.Thread(
            target=lambda: late.append(store_signed_pdf(issuance, cert_id, second))
        )
        if database == "postgresql":
            racer.start()
        session.commit()
    if database == "sqlite":
        racer.start()
    racer.join()

    assert late == [False]
    with Session(issuance.engine) as session:
        record = session.get(CertificateRecord, cert_id)
        assert record is not None and record.pdf_sha256 == hashlib.sha256(first).hexdigest()
    stored = decrypt_stored(issuance, cert_id)
    assert stored == first


def decrypt_stored(issuance: Issuance, cert_id: str) -> bytes:
    """The stored PDF, opened with the candidate's link key, as delivery opens it."""
    with Session(issuance.engine) as session:
        record = session.get(CertificateRecord, cert_id)
        assert record is not None
        return open_with_link_key(
            issuance.blobs, session, cert_id, staged_link_key(issuance, record)
        )


def test_a_worker_start_removes_temporary_files_an_hour_old_and_keeps_newer_ones(
    sceau_env: SceauEnv,
) -> None:
    """A write cut short by a killed process leaves a temporary file beside the blobs."""
    issuance = compose.issuance(sceau_env.settings)
    assert isinstance(issuance.blobs, FilesystemBlobStore)
    folder = issuance.blobs.temp_folder
    folder.mkdir(parents=True)
    old, recent = folder / ".tmp-killed-writer", folder / ".tmp-write-in-flight"
    for temporary in (old, recent):
        temporary.write_bytes(b"half a PDF")
    two_hours_ago = time.time() - 7200
    os.utime(old, (two_hours_ago, two_hours_ago))
    said: list[str] = []

    run_worker(issuance, options=WorkerOptions(once=True), stop=threading.Event(), say=said.append)

    assert not old.exists() and recent.exists()
    assert said[:1] == ["removed 1 temporary file(s) left in the blob store by a stopped process"]
