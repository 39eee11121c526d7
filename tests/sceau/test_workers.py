"""`sceau worker` processes sharing one staged file on PostgreSQL: one SIGKILLed mid-way and
restarted, or the database restarted during the batch, and still every certificate is issued
once, with one anchor transaction per batch. On SQLite, one worker at a time, said plainly."""

from __future__ import annotations

import csv
import io
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import Session, col, select

from offchain_store.blobs import FilesystemBlobStore
from offchain_store.local_postgres import LocalPostgres
from offchain_store.records import CertificateRecord, CertificateState, make_engine
from offchain_store.wallet_offers import CLAIMS_BLOB_SUFFIX
from offchain_store.work_claims import WorkClaimRecord
from tests.conftest import SceauEnv
from tests.sceau.helpers import REPO, SAMPLE, certificates, read_outbox, run_sceau
from tests.sceau.test_crash_resume import root_anchored_events
from tests.sceau.test_stateless_servers import serving

ROWS = 72
BATCH_SIZE = 36  # two batches: two anchor transactions from one account, by two workers
LEASE_SECONDS = "3"  # a killed worker's claims are taken again after this
WAIT_SECONDS = 300.0  # a guard against a hang, not a timing assertion


def write_results(path: Path, rows: int) -> Path:
    """A results file of `rows` distinct candidates, made from the sample's rows."""
    with SAMPLE.open(newline="", encoding="utf-8") as handle:
        sample = list(csv.DictReader(handle))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(sample[0]), lineterminator="\n")
    writer.writeheader()
    for index in range(rows):
        row = dict(sample[index % len(sample)])
        row["result_id"] = f"W-2026-{index:05d}"
        row["candidate_number"] = f"W{index:06d}"
        row["email"] = f"candidate.{index}@example.org" if row["email"] else ""
        writer.writerow(row)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def config_on(env: SceauEnv, database_url: str, *, batch_size: int = BATCH_SIZE) -> Path:
    """The environment's settings with another database and batch size."""
    text = env.config_file.read_text()
    text = re.sub(r"^database_url = .*$", f'database_url = "{database_url}"', text, flags=re.M)
    path = env.root / "sceau-workers.toml"
    path.write_text(f"batch_size = {batch_size}\n" + text)
    return path


def start_worker(config: Path, log: Path, *extra: str) -> subprocess.Popen[bytes]:
    """A real `sceau worker` process, its output in `log`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCEAU_")}
    env["COLUMNS"] = "200"
    command = [sys.executable, "-m", "sceau", "--config", str(config), "worker"]
    options = ["--cores", "1", "--lease-seconds", LEASE_SECONDS, "--poll-seconds", "0.2"]
    with log.open("ab") as output:
        return subprocess.Popen(
            [*command, *options, *extra],
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting for {what}")
        time.sleep(0.1)


def signed_count(database_url: str) -> int:
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            query = select(func.count()).where(
                col(CertificateRecord.state) != CertificateState.IMPORTED
            )
            return int(session.exec(query).one())
    finally:
        engine.dispose()


def finish(workers: list[subprocess.Popen[bytes]], logs: list[Path]) -> None:
    for worker in workers:
        try:
            worker.wait(timeout=WAIT_SECONDS)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
    output = "\n".join(log.read_text(errors="replace") for log in logs)
    assert [w.returncode for w in workers] == [0] * len(workers), output


@dataclass(frozen=True)
class ChainMark:
    """Where the chain was before the workers ran: events and nonces are counted from here."""

    block: int
    nonce: int


def chain_mark(env: SceauEnv) -> ChainMark:
    web3 = env.chain.client().web3
    return ChainMark(
        block=web3.eth.block_number + 1,
        nonce=web3.eth.get_transaction_count(env.chain.issuer.address),
    )


def assert_issued_once(
    env: SceauEnv, database_url: str, mark: ChainMark, rows: int, *, killed: bool = False
) -> None:
    """Every certificate delivered once, stored once, and one anchor transaction per batch."""
    records = certificates(database_url)
    assert len(records) == rows
    assert {r.state for r in records} == {CertificateState.DELIVERED}
    assert max(Counter(r.result_id for r in records).values()) == 1
    blob_root = env.root / "blobs"
    files = [p for p in blob_root.rglob("*") if p.is_file()]
    # A write cut short by a SIGKILL may leave a temporary file, only in the store's own
    # temporary folder (swept by a worker's start once an hour old, never read as a blob).
    temporary = [p for p in files if p.parent == FilesystemBlobStore(blob_root).temp_folder]
    assert all(p.name.startswith(".tmp-") for p in temporary)
    assert killed or not temporary  # a worker that ends on its own leaves none
    blobs = [p.name for p in files if p not in temporary]
    expected = [r.id + suffix for r in records for suffix in ("", CLAIMS_BLOB_SUFFIX)]
    assert sorted(blobs) == sorted(expected)  # each PDF stored once, with its wallet claims
    delivered = read_outbox(env.settings.mail.outbox)
    assert sorted(d.receipt.certificate_id for d in delivered) == sorted(r.id for r in records)
    roots = Counter(d.receipt.root for d in delivered)
    batches = Counter(r.batch_id for r in records)
    assert sorted(roots.values()) == sorted(batches.values())  # one root per batch
    client = env.chain.client()
    assert sorted(root_anchored_events(client, mark.block)) == sorted(roots)
    sent = client.web3.eth.get_transaction_count(env.chain.issuer.address) - mark.nonce
    assert sent == len(batches)


def stage(config: Path, results: Path) -> None:
    staged = run_sceau(config, "issue", str(results), "--enqueue")
    assert staged.returncode == 0, staged.stderr + staged.stdout
    assert "Workers (`sceau worker`) will sign, anchor and deliver" in staged.stdout


@pytest.mark.parametrize("sceau_env", ["postgresql"], indirect=True)  # several workers need it
def test_workers_share_a_file_and_a_killed_worker_s_work_is_taken_again(
    sceau_env: SceauEnv, postgres_url: str
) -> None:
    config = config_on(sceau_env, postgres_url)
    results = write_results(sceau_env.root / "results.csv", ROWS)
    mark = chain_mark(sceau_env)
    stage(config, results)
    logs = [sceau_env.root / f"worker-{i}.log" for i in range(3)]
    doomed = start_worker(config, logs[0], "--once")
    steady = start_worker(config, logs[1], "--once")

    wait_until(lambda: signed_count(postgres_url) >= 10, "some certificates signed")
    doomed.send_signal(signal.SIGKILL)
    assert doomed.wait(timeout=WAIT_SECONDS) == -signal.SIGKILL
    restarted = start_worker(config, logs[2], "--once")

    finish([steady, restarted], logs)
    assert_issued_once(sceau_env, postgres_url, mark, ROWS, killed=True)
    progress = run_sceau(config, "progress")
    assert progress.returncode == 0 and "No unfinished batch." in progress.stdout


@pytest.mark.parametrize("sceau_env", ["postgresql"], indirect=True)  # several workers need it
def test_workers_wait_for_a_restarted_database_and_finish_the_batch(
    sceau_env: SceauEnv, postgres: LocalPostgres, postgres_url: str
) -> None:
    config = config_on(sceau_env, postgres_url)
    results = write_results(sceau_env.root / "results.csv", ROWS)
    mark = chain_mark(sceau_env)
    stage(config, results)
    logs = [sceau_env.root / f"worker-{i}.log" for i in range(2)]
    with serving(sceau_env, "server", config) as server:
        [first, *_] = (r.id for r in certificates(postgres_url))
        status = f"/api/v1/certificates/{first}/status"
        assert server.client.get(status).status_code == 200
        workers = [start_worker(config, log, "--once") for log in logs]

        wait_until(lambda: signed_count(postgres_url) >= 10, "some certificates signed")
        postgres.stop()
        try:
            wait_until(
                lambda: "database unreachable" in "".join(log.read_text() for log in logs),
                "a worker to notice the database is gone",
            )
            during = server.client.get(status)
        finally:
            postgres.start()
        assert during.status_code == 503, during.text
        assert during.json()["code"] == "database_unavailable"

        finish(workers, logs)
        assert_issued_once(sceau_env, postgres_url, mark, ROWS)
        for record in certificates(postgres_url):  # the same server, reconnected by itself
            answer = server.client.get(f"/api/v1/certificates/{record.id}/status")
            assert answer.status_code == 200 and answer.json()["status"] == "issued"
        assert "Traceback" not in server.logs()
    said = "".join(log.read_text() for log in logs)
    stored = re.findall(r"Worker stopped: (\d+) certificate\(s\) signed and stored", said)
    assert sum(int(n) for n in stored) == ROWS  # each stored by one worker, once


@pytest.mark.parametrize("sceau_env", ["postgresql"], indirect=True)  # several workers need it
def test_a_worker_stopped_by_sigterm_finishes_its_piece_and_releases_its_claims(
    sceau_env: SceauEnv, postgres_url: str
) -> None:
    config = config_on(sceau_env, postgres_url)
    results = write_results(sceau_env.root / "results.csv", ROWS)
    mark = chain_mark(sceau_env)
    stage(config, results)
    logs = [sceau_env.root / "worker-0.log", sceau_env.root / "worker-1.log"]
    stopped = start_worker(config, logs[0])  # until stopped
    wait_until(lambda: signed_count(postgres_url) >= 10, "some certificates signed")
    stopped.send_signal(signal.SIGTERM)
    assert stopped.wait(timeout=WAIT_SECONDS) == 0, logs[0].read_text()
    assert "Stopping after the piece of work in hand" in logs[0].read_text()
    assert claims_held(postgres_url) == 0
    assert 0 < signed_count(postgres_url) < ROWS  # it stopped before the end

    finish([start_worker(config, logs[1], "--once")], logs)
    assert_issued_once(sceau_env, postgres_url, mark, ROWS)


def claims_held(database_url: str) -> int:
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            return len(session.exec(select(WorkClaimRecord)).all())
    finally:
        engine.dispose()


@pytest.mark.parametrize("sceau_env", ["sqlite"], indirect=True)  # about SQLite
def test_sqlite_refuses_a_second_worker_and_the_first_stops_cleanly(
    sceau_env: SceauEnv,
) -> None:
    results = write_results(sceau_env.root / "results.csv", 4)
    mark = chain_mark(sceau_env)
    stage(sceau_env.config_file, results)
    log = sceau_env.root / "worker.log"
    first = start_worker(sceau_env.config_file, log)  # until stopped
    try:
        wait_until(lambda: "delivered" in _last_line(log), "the first worker to deliver")
        second = subprocess.run(
            [sys.executable, "-m", "sceau", "--config", str(sceau_env.config_file), "worker"],
            cwd=REPO,
            env={k: v for k, v in os.environ.items() if not k.startswith("SCEAU_")},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=WAIT_SECONDS,
        )
        assert second.returncode != 0
        assert "SQLite allows one worker at a time; use PostgreSQL for several" in second.stderr
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=WAIT_SECONDS) == 0, log.read_text()
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert "Worker stopped: 4 certificate(s) signed and stored" in log.read_text()
    assert_issued_once(sceau_env, sceau_env.settings.database_url, mark, 4)


def _last_line(log: Path) -> str:
    lines = log.read_text(errors="replace").strip().splitlines()
    return lines[-1] if lines else ""
