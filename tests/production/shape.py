"""The production shape's processes on one machine: `sceau serve` and `sceau worker` as real
processes (each in a session of its own, so what it leaves behind can be found), and what
the test reads back from the database and the chain.

Used by tests/production/test_production_shape.py; scripts/bench_scaleout.py starts its
processes through the same functions.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from web3 import Web3

from contracts.abi import load_artifact
from offchain_store.records import BatchRecord, CertificateRecord, CertificateState
from offchain_store.work_claims import ClaimKind, WorkClaimRecord

REPO = Path(__file__).resolve().parents[2]
SCEAU = (sys.executable, "-m", "sceau")
STOP_SECONDS = 60.0  # SIGTERM lets a worker finish the piece in hand; then SIGKILL
ORPHAN_GRACE_SECONDS = 10.0  # for children to notice that their parent ended


class ShapeError(AssertionError):
    """A process of the shape did not start, or did not do what it should in time."""


@dataclass
class SceauProcess:
    """One `sceau` process started in its own session, its output in a log file."""

    name: str
    process: subprocess.Popen[bytes] = field(repr=False)
    log: Path
    left_behind: set[int] = field(default_factory=set)  # found alive after it ended

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def running(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL the `sceau` process alone, as a crash would; its children are on their own."""
        os.kill(self.pid, signal.SIGKILL)
        self.process.wait(timeout=STOP_SECONDS)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after STOP_SECONDS; what its session still holds a few
        seconds after it ended is noted in `left_behind`, then killed."""
        if self.running():
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=STOP_SECONDS)
        self.left_behind |= self.wait_until_alone()
        for pid in self.left_behind:
            _kill_quietly(pid)

    def wait_until_alone(self, timeout: float = ORPHAN_GRACE_SECONDS) -> set[int]:
        """Wait for the processes of its session to end (children die with their parent a
        moment later); those still alive after `timeout`."""
        deadline = time.monotonic() + timeout
        while (members := session_members(self.pid)) and time.monotonic() < deadline:
            time.sleep(0.1)
        return members


def start_sceau(
    config: Path,
    *args: str,
    name: str,
    log_dir: Path,
    extra_env: Mapping[str, str] | None = None,
) -> SceauProcess:
    """`python -m sceau --config CONFIG ARGS…` in a new session, without this process's
    SCEAU_* variables, its output (stdout and stderr) in `log_dir/NAME.log`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCEAU_")}
    env |= {"COLUMNS": "200", **(extra_env or {})}
    log = log_dir / f"{name}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [*SCEAU, "--config", str(config), *args],
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return SceauProcess(name=name, process=process, log=log)


def run_sceau(
    config: Path,
    *args: str,
    log_dir: Path,
    name: str,
    extra_env: Mapping[str, str] | None = None,
    timeout: float = 300.0,
) -> str:
    """Run one `sceau` command to its end; its output, or ShapeError when it fails."""
    started = start_sceau(config, *args, name=name, log_dir=log_dir, extra_env=extra_env)
    try:
        code = started.process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        started.stop()
        raise ShapeError(f"`sceau {' '.join(args)}` ran over {timeout:.0f} s") from None
    if code != 0:
        raise ShapeError(f"`sceau {' '.join(args)}` exited {code}:\n{started.output()[-3000:]}")
    started.stop()
    if started.left_behind:
        raise ShapeError(f"`sceau {' '.join(args)}` left processes {started.left_behind}")
    return started.output()


def start_server(
    config: Path,
    *,
    name: str,
    port: int,
    log_dir: Path,
    extra_env: Mapping[str, str] | None = None,
    workers: int = 1,
) -> SceauProcess:
    """`sceau serve` on 127.0.0.1:PORT (`--workers N` when N > 1), once it answers."""
    args = ["serve", "--host", "127.0.0.1", "--port", str(port)]
    if workers > 1:
        args += ["--workers", str(workers)]
    server = start_sceau(config, *args, name=name, log_dir=log_dir, extra_env=extra_env)
    wait_until_answering(server, f"http://127.0.0.1:{port}")
    return server


def wait_until_answering(server: SceauProcess, base_url: str, timeout: float = 180.0) -> None:
    """Wait for the server's /check page; ShapeError with its log if it dies or never answers."""
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=base_url, timeout=10) as client:
        while time.monotonic() < deadline:
            if not server.running():
                raise ShapeError(f"{server.name} exited:\n{server.output()[-3000:]}")
            try:
                client.get("/check")
                return
            except httpx.TransportError:
                time.sleep(0.2)
    server.stop()
    raise ShapeError(f"{server.name} did not answer in {timeout:.0f} s:\n{server.output()[-3000:]}")


def start_worker(
    config: Path,
    *,
    name: str,
    log_dir: Path,
    extra_env: Mapping[str, str] | None = None,
    once: bool = False,
    lease_seconds: float = 10.0,
    poll_seconds: float = 0.5,
) -> SceauProcess:
    """`sceau worker` with a short lease (a killed worker's claims are taken again soon)."""
    args = ["worker", "--lease-seconds", str(lease_seconds), "--poll-seconds", str(poll_seconds)]
    if once:
        args.append("--once")
    return start_sceau(config, *args, name=name, log_dir=log_dir, extra_env=extra_env)


def wait_for_output(process: SceauProcess, text: str, timeout: float = 180.0) -> None:
    """Wait until `text` shows in the process's output (e.g. "Worker started")."""
    deadline = time.monotonic() + timeout
    while text not in process.output():
        if not process.running():
            raise ShapeError(f"{process.name} exited:\n{process.output()[-3000:]}")
        if time.monotonic() > deadline:
            raise ShapeError(f"{process.name} never said {text!r}:\n{process.output()[-3000:]}")
        time.sleep(0.2)


# --- processes: who is still alive ----------------------------------------------------------------


def session_members(session_id: int) -> set[int]:
    """Live (non-zombie) processes whose session is `session_id`, read from /proc."""
    members = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        state, session = fields[0], int(fields[3])
        if session == session_id and state != "Z":
            members.add(int(entry.name))
    return members


def _kill_quietly(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


# --- what the database says -----------------------------------------------------------------------


@dataclass(frozen=True)
class IssuanceState:
    """Every batch and certificate of the issuer, as the database holds them now."""

    batches: list[BatchRecord]
    certificates: list[CertificateRecord]
    certificate_claims: dict[str, str]  # certificate id -> worker id holding its claim

    def stored_in(self, batch_id: str) -> int:
        return sum(
            1
            for c in self.certificates
            if c.batch_id == batch_id and c.state != CertificateState.IMPORTED
        )

    def size_of(self, batch_id: str) -> int:
        return sum(1 for c in self.certificates if c.batch_id == batch_id)

    @property
    def delivered(self) -> int:
        return sum(1 for c in self.certificates if c.state == CertificateState.DELIVERED)

    def summary(self) -> str:
        """One line per batch, for failure messages."""
        return (
            "; ".join(
                f"batch {b.id[:8]} {b.state}: {self.stored_in(b.id)}/{self.size_of(b.id)} stored"
                for b in self.batches
            )
            + f"; {self.delivered}/{len(self.certificates)} delivered"
        )


def read_issuance(engine: Engine) -> IssuanceState:
    """The batches, certificates and certificate claims, read in one session."""
    with Session(engine, expire_on_commit=False) as session:
        batches = list(session.exec(select(BatchRecord).order_by(col(BatchRecord.created_at))))
        certificates = list(session.exec(select(CertificateRecord)))
        claims = session.exec(
            select(WorkClaimRecord).where(WorkClaimRecord.kind == ClaimKind.CERTIFICATE.value)
        )
        held = {c.subject_id: c.worker_id for c in claims}
    return IssuanceState(batches=batches, certificates=certificates, certificate_claims=held)


def worker_pid(worker_id: str) -> int:
    """The process id in a worker's claim name (`host:pid:random`)."""
    return int(worker_id.split(":")[-2])


# --- what the chain says --------------------------------------------------------------------------


@dataclass(frozen=True)
class AnchorTransaction:
    """A transaction that called one of the registry's anchoring functions."""

    tx_hash: str
    sender: str
    function: str
    succeeded: bool


def anchor_transactions(
    web3: Web3, contract_address: str, *, from_block: int, senders: Iterable[str]
) -> list[AnchorTransaction]:
    """Every transaction to the registry, from `senders`, since `from_block`, whose function's
    name starts with "anchor" (mined ones, reverted ones included)."""
    contract = web3.eth.contract(
        address=Web3.to_checksum_address(contract_address), abi=list(load_artifact().abi)
    )
    wanted = {s.lower() for s in senders}
    found = []
    for number in range(from_block, web3.eth.block_number + 1):
        block: Any = web3.eth.get_block(number, full_transactions=True)
        for tx in block["transactions"]:
            if str(tx["from"]).lower() not in wanted or tx["to"] is None:
                continue
            if str(tx["to"]).lower() != contract_address.lower():
                continue
            function, _ = contract.decode_function_input(tx["input"])
            if function.fn_name.startswith("anchor"):
                receipt = web3.eth.get_transaction_receipt(tx["hash"])
                found.append(
                    AnchorTransaction(
                        tx_hash="0x" + bytes(tx["hash"]).hex(),
                        sender=str(tx["from"]),
                        function=function.fn_name,
                        succeeded=receipt["status"] == 1,
                    )
                )
    return found


def anchored_roots(web3: Web3, contract_address: str, *, from_block: int) -> list[str]:
    """The root of every RootAnchored event since `from_block`, as 0x-hex, in chain order."""
    contract = web3.eth.contract(
        address=Web3.to_checksum_address(contract_address), abi=list(load_artifact().abi)
    )
    events = contract.events.RootAnchored.get_logs(from_block=from_block)
    return ["0x" + bytes(e["args"]["root"]).hex() for e in events]
