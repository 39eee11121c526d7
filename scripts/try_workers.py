"""Try issuing workers on PostgreSQL: one results file, several `sceau worker` processes, one
SIGKILLed mid-way and restarted (and, with --restart-postgres, the database restarted during
the batch); prints how many certificates were lost, issued twice, and anchor transactions sent.

Run it from the repository root (PostgreSQL from ./scripts/install, anvil from `npm ci`):

    .venv/bin/python scripts/try_workers.py                      # 1,000 rows, 3 workers
    .venv/bin/python scripts/try_workers.py --rows 200 --workers 2 --restart-postgres

Everything lives in a temp dir (anvil, the PostgreSQL cluster, keys) and is removed at the end.
It exits non-zero when a figure is wrong; it asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from bench_issuance import (
    PASSPHRASE,
    BenchSetup,
    free_port,
    settings_for,
    synthetic_results,
    throwaway_setup,
    write_config,
)
from rich.console import Console
from rich.table import Table
from sqlalchemy import func
from sqlmodel import Session, col, select

from contracts.abi import load_artifact
from contracts.client import RegistryClient
from contracts.keystore import load_account
from offchain_store.blobs import FilesystemBlobStore
from offchain_store.local_postgres import LocalPostgres, start_postgres
from offchain_store.records import CertificateRecord, CertificateState, make_engine
from offchain_store.wallet_offers import CLAIMS_BLOB_SUFFIX
from sceau.settings import Settings

REPO = Path(__file__).resolve().parents[1]
console = Console()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=3, help="worker processes (2 to 4)")
    parser.add_argument("--cores", type=int, default=1, help="signing processes per worker")
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--lease-seconds", type=float, default=10.0)
    parser.add_argument("--restart-postgres", action="store_true")
    return parser.parse_args(argv)


def start_worker(config: Path, log: Path, args: argparse.Namespace) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCEAU_")}
    command = [sys.executable, "-m", "sceau", "--config", str(config), "worker", "--once"]
    command += ["--cores", str(args.cores), "--lease-seconds", str(args.lease_seconds)]
    with log.open("ab") as output:
        return subprocess.Popen(
            command, cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=output, stderr=output
        )


def signed(database_url: str) -> int:
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            query = select(func.count()).where(
                col(CertificateRecord.state) != CertificateState.IMPORTED
            )
            return int(session.exec(query).one())
    finally:
        engine.dispose()


def wait_for_signed(database_url: str, count: int) -> None:
    while signed(database_url) < count:
        time.sleep(0.2)


def run(args: argparse.Namespace) -> int:
    with throwaway_setup() as setup:
        cluster = start_postgres(port=free_port())
        try:
            return _trial(args, setup, cluster)
        finally:
            cluster.remove()


@dataclass(frozen=True)
class Trial:
    """Where one trial runs, and where the chain stood before it."""

    settings: Settings
    database_url: str
    client: RegistryClient
    issuer: str
    first_block: int
    nonce: int


def _trial(args: argparse.Namespace, setup: BenchSetup, cluster: LocalPostgres) -> int:
    run_dir = setup.root / "run"
    run_dir.mkdir()
    database_url = cluster.create_database()
    settings = settings_for(setup, run_dir, workers=args.cores).model_copy(
        update={"database_url": database_url, "batch_size": args.batch_size}
    )
    config = write_config(settings, run_dir / "sceau.toml")
    results = run_dir / "results.csv"
    results.write_bytes(synthetic_results(args.rows, today=date.today()))
    client = RegistryClient.connect(
        rpc_url=settings.chain.rpc_url,
        address=settings.chain.contract_address or "",
        chain_id=settings.chain.chain_id or 0,
    )
    issuer = load_account(settings.chain.keystore, PASSPHRASE).address
    trial = Trial(
        settings=settings,
        database_url=database_url,
        client=client,
        issuer=issuer,
        first_block=client.web3.eth.block_number + 1,
        nonce=client.web3.eth.get_transaction_count(issuer),
    )

    staged = subprocess.run(
        [
            sys.executable,
            "-m",
            "sceau",
            "--config",
            str(config),
            "issue",
            str(results),
            "--enqueue",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    if staged.returncode != 0:
        console.print(staged.stdout + staged.stderr, markup=False)
        return 2
    started = time.monotonic()
    logs = [run_dir / f"worker-{i}.log" for i in range(args.workers + 1)]
    workers = [start_worker(config, logs[i], args) for i in range(args.workers)]
    wait_for_signed(database_url, args.rows // 3)
    workers[0].send_signal(signal.SIGKILL)
    workers[0].wait()
    console.print(f"killed worker 0 (SIGKILL) at {signed(database_url)} signed; restarting it")
    workers[0] = start_worker(config, logs[-1], args)
    if args.restart_postgres:
        wait_for_signed(database_url, 2 * args.rows // 3)
        cluster.stop()
        time.sleep(2.0)
        cluster.start()
        console.print("PostgreSQL stopped and started again")
    codes = [w.wait() for w in workers]
    elapsed = time.monotonic() - started
    for log in logs:
        if set(codes) != {0}:  # say why before the temp dir goes
            console.print(
                f"--- {log.name}\n" + log.read_text(errors="replace")[-3000:], markup=False
            )
    return _report(args, trial, codes, elapsed)


def _report(args: argparse.Namespace, trial: Trial, codes: list[int], elapsed: float) -> int:
    """Print the figures; 0 when none is lost, none issued twice, one transaction per batch."""
    settings, client = trial.settings, trial.client
    engine = make_engine(trial.database_url)
    with Session(engine) as session:
        records = list(session.exec(select(CertificateRecord)).all())
    engine.dispose()
    delivered = [r for r in records if r.state == CertificateState.DELIVERED]
    twice = sum(n - 1 for n in Counter(r.result_id for r in records).values() if n > 1)
    outbox = sorted(settings.mail.outbox.glob("*.eml"))
    blob_root = Path(settings.blob_store_url.removeprefix("file://"))
    blobs = [p for p in blob_root.rglob("*") if p.is_file()]
    # Each certificate keeps two blobs: its encrypted PDF and its wallet claims.
    claims = [p for p in blobs if p.name.endswith(CLAIMS_BLOB_SUFFIX)]
    # A write cut short by the SIGKILL leaves a temporary file, swept by a worker's start
    # once it is an hour old (never seen as a blob).
    temporary = [p for p in blobs if p.parent == FilesystemBlobStore(blob_root).temp_folder]
    pdfs = [p for p in blobs if p not in claims and p not in temporary]
    batches = {r.batch_id for r in records}
    contract = client.web3.eth.contract(address=client.address, abi=load_artifact().abi)
    events = contract.events.RootAnchored.get_logs(from_block=trial.first_block)
    transactions = client.web3.eth.get_transaction_count(trial.issuer) - trial.nonce
    figures = {
        "rows staged": len(records),
        "lost (not delivered)": args.rows - len(delivered),
        "issued twice (result ids)": twice,
        "encrypted PDFs stored": len(pdfs),
        "wallet claims stored": len(claims),
        "temporary files left by the killed worker": len(temporary),
        "outbox messages": len(outbox),
        "batches": len(batches),
        "anchor transactions (issuer nonces used)": transactions,
        "RootAnchored events": len(events),
        "worker exit codes": " ".join(map(str, codes)),
        "certificates per second (whole run)": f"{len(delivered) / elapsed:.1f}",
    }
    table = Table(title=f"{args.workers} workers × {args.cores} core(s), {args.rows} rows")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for name, value in figures.items():
        table.add_row(name, str(value))
    console.print(table)
    right = (
        len(delivered) == args.rows == len(pdfs) == len(claims) == len(outbox)
        and twice == 0
        and transactions == len(events) == len(batches)
        and set(codes) == {0}
    )
    console.print("all figures right" if right else "[bold red]some figures are wrong[/]")
    return 0 if right else 1


def main(argv: list[str] | None = None) -> int:
    return run(parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
