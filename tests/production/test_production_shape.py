"""The production shape on one machine (docs/deploy.md): PostgreSQL, an S3 server, an SMTP
server, anvil, two `sceau serve` and three `sceau worker` processes. A results file is staged
with `sceau issue --enqueue`, one worker is killed with SIGKILL mid-batch and replaced, and
every certificate comes out issued once, anchored by one transaction per batch, delivered
with one stable Message-ID, and verifying VALID through both servers.
"""

from __future__ import annotations

import csv
import io
import time
import tomllib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import Engine

from contracts.client import make_web3
from issuer.delivery import certificate_message_id
from offchain_store.records import BatchState, CertificateRecord, CertificateState, make_engine
from offchain_store.schema import upgrade
from offchain_store.wallet_offers import CLAIMS_BLOB_SUFFIX as CLAIMS
from scripts.bench_issuance import synthetic_results
from tests.conftest import SceauEnv, _toml
from tests.ports import free_port
from tests.production.shape import (
    IssuanceState,
    SceauProcess,
    ShapeError,
    anchor_transactions,
    anchored_roots,
    read_issuance,
    run_sceau,
    start_server,
    start_worker,
    wait_for_output,
    worker_pid,
)
from tests.s3_server import S3_ENVIRONMENT, S3Server
from tests.smtp_server import ReceivedMessage, SmtpServer, start_smtp_server

pytestmark = [pytest.mark.slow, pytest.mark.chain]

ROWS = 72
BATCH_SIZE = 20  # 72 rows: four batches, the last one short
SERVERS = 2
WORKERS = 3
PREFIX = "prod/certificates"
SENDER = "certificats@centre-de-test.example"
DELIVERY_TIMEOUT = 900.0  # generous: the machine is shared; a bound against a hang only


@dataclass
class Shape:
    """Every process the test started, so that all of them are stopped, whatever happens."""

    config: Path
    logs: Path
    env: dict[str, str]
    servers: list[tuple[SceauProcess, str]] = field(default_factory=list)
    workers: list[SceauProcess] = field(default_factory=list)

    @property
    def processes(self) -> list[SceauProcess]:
        return [server for server, _ in self.servers] + self.workers

    def add_server(self, name: str) -> None:
        port = free_port()
        server = start_server(
            self.config, name=name, port=port, log_dir=self.logs, extra_env=self.env
        )
        self.servers.append((server, f"http://127.0.0.1:{port}"))

    def add_worker(self, name: str) -> SceauProcess:
        worker = start_worker(self.config, name=name, log_dir=self.logs, extra_env=self.env)
        self.workers.append(worker)
        return worker

    def stop_all(self) -> None:
        for process in self.processes:
            process.stop()


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[SmtpServer]:
    server = start_smtp_server(tmp_path / "smtp")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def shape(
    sceau_env: SceauEnv, s3_server: S3Server, smtp: SmtpServer, tmp_path: Path
) -> Iterator[Shape]:
    """The settings file every process shares (PostgreSQL, S3, SMTP), no process yet."""
    values = tomllib.loads(sceau_env.config_file.read_text())
    values["blob_store_url"] = s3_server.store_url(s3_server.new_bucket(), PREFIX)
    values["batch_size"] = BATCH_SIZE
    values["issue_workers"] = 1  # one signing process per worker: three workers, two cores
    values["mail"] |= {"sender": SENDER, **smtp.mail_settings()}
    sceau_env.config_file.write_text(_toml(values))
    logs = tmp_path / "logs"
    logs.mkdir()
    made = Shape(config=sceau_env.config_file, logs=logs, env=dict(S3_ENVIRONMENT))
    try:
        yield made
    finally:
        made.stop_all()


@pytest.mark.parametrize("sceau_env", ["postgresql"], indirect=True)
def test_workers_killed_mid_batch_lose_nothing_and_issue_nothing_twice(
    sceau_env: SceauEnv, shape: Shape, s3_server: S3Server, smtp: SmtpServer, tmp_path: Path
) -> None:
    engine = make_engine(sceau_env.settings.database_url)
    web3 = make_web3(sceau_env.chain.rpc_url)
    first_block = int(web3.eth.block_number) + 1
    source = synthetic_results(ROWS, today=date.today())
    results = tmp_path / "results.csv"
    results.write_bytes(source)

    _upgrade_schema(shape, engine)
    for n in range(SERVERS):
        shape.add_server(f"server-{n + 1}")
    for n in range(WORKERS):
        shape.add_worker(f"worker-{n + 1}")
    for worker in shape.workers:
        wait_for_output(worker, "Worker started")
    run_sceau(
        shape.config, "issue", str(results), "--enqueue",
        log_dir=shape.logs, name="issue", extra_env=shape.env,
    )  # fmt: skip

    killed, when = _kill_a_worker_mid_batch(engine, shape.workers)
    shape.add_worker("worker-replacement")
    state = _wait_until_delivered(engine, shape)

    mid = _batch_held(when, killed)
    assert 0 < when.stored_in(mid) < when.size_of(mid), when.summary()  # killed mid-batch
    _assert_every_certificate_issued_once(state, source, s3_server, shape)
    _assert_one_anchor_transaction_per_batch(state, sceau_env, first_block)
    messages = smtp.received()
    _assert_one_message_id_per_certificate(state, source, messages)
    first_of_batch = {c.batch_id: c for c in state.certificates}
    for certificate in first_of_batch.values():
        _assert_share_valid_on_both(shape, certificate, _message_of(messages, certificate.id))

    shape.stop_all()
    for process in shape.processes:
        assert not process.running(), process.name
        assert process.left_behind == set(), f"{process.name} left {process.left_behind}"
    engine.dispose()


def _assert_every_certificate_issued_once(
    state: IssuanceState, source: bytes, s3_server: S3Server, shape: Shape
) -> None:
    """One certificate per row, all delivered; in the bucket, one PDF per certificate and its
    wallet claims, nothing else."""
    certificates = [c.id for c in state.certificates]
    assert sorted(c.result_id for c in state.certificates) == sorted(_emails(source))
    assert len(state.batches) == -(-ROWS // BATCH_SIZE), state.summary()
    assert all(b.state == BatchState.DELIVERED for b in state.batches), state.summary()
    bucket, prefix = _bucket_of(shape)
    stored = s3_server.everything_in(bucket)
    expected = [f"{prefix}/{c}{suffix}" for c in certificates for suffix in ("", CLAIMS)]
    assert stored == sorted((key, "null") for key in expected)  # the PDF and the wallet claims


def _assert_one_anchor_transaction_per_batch(
    state: IssuanceState, env: SceauEnv, first_block: int
) -> None:
    """From the issuer's address, one successful anchoring transaction per batch since the
    test began (none reverted, none repeated) and one RootAnchored event per batch root."""
    web3 = make_web3(env.chain.rpc_url)
    anchors = anchor_transactions(
        web3, env.chain.contract_address, from_block=first_block, senders=[env.chain.issuer.address]
    )
    assert sorted(a.tx_hash for a in anchors) == sorted(str(b.tx_hash) for b in state.batches)
    assert all(a.succeeded for a in anchors), anchors
    roots = anchored_roots(web3, env.chain.contract_address, from_block=first_block)
    assert Counter(roots) == Counter(str(b.root) for b in state.batches)


def _assert_one_message_id_per_certificate(
    state: IssuanceState, source: bytes, messages: list[ReceivedMessage]
) -> None:
    """The set of Message-IDs is the set of certificates (a resend repeats its certificate's
    Message-ID), each message sent to its candidate's address."""
    by_message_id = {certificate_message_id(c.id, SENDER): c for c in state.certificates}
    assert {m.message_id for m in messages} == set(by_message_id)
    emails = _emails(source)
    for message in messages:
        assert message.rcpt_tos == (emails[by_message_id[message.message_id].result_id],)


def _upgrade_schema(shape: Shape, engine: Engine) -> None:
    """`sceau db upgrade`, as docs/deploy.md says to run before servers and workers start."""
    try:
        run_sceau(shape.config, "db", "upgrade", log_dir=shape.logs, name="db-upgrade")
    except ShapeError as error:
        if "No such command 'db'" not in str(error):
            raise
        upgrade(engine)  # `sceau db` not yet on the command line: the same function in-process


def _kill_a_worker_mid_batch(
    engine: Engine, workers: list[SceauProcess]
) -> tuple[SceauProcess, IssuanceState]:
    """SIGKILL the first worker seen holding certificates still to sign in a batch that is
    partly stored; the state seen then."""
    by_pid = {w.pid: w for w in workers}
    deadline = time.monotonic() + DELIVERY_TIMEOUT
    while time.monotonic() < deadline:
        state = read_issuance(engine)
        for worker_id in set(state.certificate_claims.values()):
            worker = by_pid.get(worker_pid(worker_id))
            if worker is None:
                continue
            batch = _batch_held(state, worker)
            if 0 < state.stored_in(batch) < state.size_of(batch):
                worker.kill()
                return worker, state
        if state.certificates and state.delivered == len(state.certificates):
            break
        time.sleep(0.05)
    seen = read_issuance(engine).summary()
    raise ShapeError(f"no worker was seen mid-batch before the end: {seen}")


def _batch_held(state: IssuanceState, worker: SceauProcess) -> str:
    """The batch of a certificate still to sign that `worker` holds a claim on."""
    certificates = {c.id: c for c in state.certificates}
    for cert_id, worker_id in state.certificate_claims.items():
        held = certificates.get(cert_id)
        if worker_pid(worker_id) == worker.pid and held and held.state == CertificateState.IMPORTED:
            return held.batch_id
    return ""


def _wait_until_delivered(engine: Engine, shape: Shape) -> IssuanceState:
    deadline = time.monotonic() + DELIVERY_TIMEOUT
    while time.monotonic() < deadline:
        state = read_issuance(engine)
        # A batch is marked delivered just after its last certificate: wait for both.
        finished = all(b.state == BatchState.DELIVERED for b in state.batches)
        if len(state.certificates) == ROWS and state.delivered == ROWS and finished:
            return state
        dead = [w.name for w in shape.workers[-1:] if not w.running()]
        if dead:
            raise ShapeError(f"{dead[0]} exited:\n{shape.workers[-1].output()[-3000:]}")
        time.sleep(0.5)
    logs = "\n".join(f"--- {w.name}\n{w.output()[-1500:]}" for w in shape.workers)
    raise ShapeError(
        f"not all delivered after {DELIVERY_TIMEOUT:.0f} s: {read_issuance(engine).summary()}\n"
        + logs
    )


def _emails(source: bytes) -> dict[str, str]:
    """Result id -> the candidate's e-mail address, from the results file."""
    rows = csv.DictReader(io.StringIO(source.decode("utf-8")))
    return {row["result_id"]: row["email"] for row in rows}


def _bucket_of(shape: Shape) -> tuple[str, str]:
    url = tomllib.loads(shape.config.read_text())["blob_store_url"]
    bucket, _, rest = url.removeprefix("s3://").partition("/")
    return bucket, rest.partition("?")[0]


def _message_of(messages: list[ReceivedMessage], cert_id: str) -> ReceivedMessage:
    wanted = certificate_message_id(cert_id, SENDER)
    return next(m for m in messages if m.message_id == wanted)


def _assert_share_valid_on_both(
    shape: Shape, certificate: CertificateRecord, message: ReceivedMessage
) -> None:
    """Create a share with the link key of the candidate's message on the first server; open
    it on every server."""
    body = message.message.get_body(preferencelist=("plain",))
    assert body is not None
    key = body.get_content().split(f"/me/{certificate.id}#")[1][:43]
    (_, first), *_ = shape.servers
    created = httpx.post(
        f"{first}/api/v1/me/{certificate.id}/shares",
        json={"key": key, "recipient": "Employeur"},
        timeout=60,
    )
    assert created.status_code == 201, created.text
    share_id, share_key = created.json()["link"].split("/s/")[1].split("#")
    for server, url in shape.servers:
        opened = httpx.post(
            f"{url}/api/v1/shares/{share_id}/open", json={"key": share_key}, timeout=60
        )
        assert opened.status_code == 200, f"{server.name}: {opened.text}"
        assert opened.json()["report"]["verdict"] == "VALID", (server.name, opened.json())
