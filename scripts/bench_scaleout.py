"""Benchmark scale-out on PostgreSQL: issuing with 1 and 2 workers, share openings with 1 and 2
server processes, each as a ratio to the single-process figure of the same run.

Run it from the repository root (PostgreSQL from ./scripts/install, anvil from `npm ci`):

    .venv/bin/python scripts/bench_scaleout.py                # 200 rows, 5 s of openings each
    .venv/bin/python scripts/bench_scaleout.py --rows 40 --seconds 3 --json

It builds a throw-away Sceau (bench_issuance's set-up: dev PKI, keystore, recovery key, anvil
with the registry) and a throw-away PostgreSQL cluster. For each worker count it stages one
results file of N synthetic rows with `sceau issue --enqueue` into a fresh database, then times
that many `sceau worker --once` processes (one signing process each) from spawn to exit; the
database's timestamps give the rate without start-up too (first certificate stored to last
delivered). Then, on the first run's database, it opens shares in a closed loop (10 clients,
asyncio + httpx) against 1 and then 2 `sceau serve` processes. It prints the machine, removes
everything, and asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import asyncio
import email
import json
import platform
import re
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date
from email import policy
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table
from sqlalchemy import func
from sqlmodel import Session, select

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # run as a file: scripts/ and tests/ import from the repo

from offchain_store.local_postgres import LocalPostgres, start_postgres  # noqa: E402
from offchain_store.records import CertificateRecord, CertificateState, make_engine  # noqa: E402
from offchain_store.schema import upgrade  # noqa: E402
from scripts.bench_issuance import (  # noqa: E402
    BenchSetup,
    free_port,
    machine,
    settings_for,
    synthetic_results,
    throwaway_setup,
    write_config,
)
from tests.production.shape import (  # noqa: E402
    SceauProcess,
    ShapeError,
    run_sceau,
    start_server,
    start_worker,
)

CLIENTS = 10  # concurrent share openers, each in a closed loop
LINK = re.compile(r"/me/([0-9a-f]{32})#([A-Za-z0-9_-]{43})")
log = Console(stderr=True)


@dataclass
class IssuingFigures:
    """One issuing run: N certificates by `workers` worker processes."""

    workers: int
    seconds: float  # from spawning the workers to the last one's exit
    certificates_per_s: float
    working_per_s: float  # first certificate stored to last delivered (no start-up)
    ratio: float = 1.0  # certificates_per_s / the one-worker figure
    working_ratio: float = 1.0


@dataclass
class OpeningFigures:
    """Share openings by CLIENTS closed-loop clients against `servers` server processes."""

    servers: int
    seconds: float
    openings: int
    failures: int
    openings_per_s: float
    ratio: float = 1.0


@dataclass
class Figures:
    """Everything the benchmark prints."""

    machine: str
    rows: int
    batch_size: int
    issuing: list[IssuingFigures] = field(default_factory=list)
    openings: list[OpeningFigures] = field(default_factory=list)


def machine_with_memory() -> str:
    """bench_issuance's machine line, with the RAM (from /proc/meminfo on Linux)."""
    try:
        total = re.search(r"^MemTotal:\s+(\d+) kB", Path("/proc/meminfo").read_text(), re.M)
    except OSError:
        total = None
    memory = f"{int(total.group(1)) / 1024 / 1024:.1f} GiB RAM" if total else "RAM unknown"
    return f"{machine()}, {memory}, {platform.system()} {platform.release()}"


# --- issuing ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """One run's settings file, logs and database."""

    config: Path
    logs: Path
    database_url: str


def prepare_run(
    setup: BenchSetup, cluster: LocalPostgres, name: str, source: bytes, batch_size: int
) -> Run:
    """A fresh database brought to the latest schema, and the results staged in it."""
    run_dir = setup.root / name
    logs = run_dir / "logs"
    logs.mkdir(parents=True)
    settings = settings_for(setup, run_dir, 1).model_copy(
        update={"database_url": cluster.create_database(), "batch_size": batch_size}
    )
    config = write_config(settings, setup.root / f"{name}.toml")
    run = Run(config=config, logs=logs, database_url=settings.database_url)
    upgrade_schema(run)
    results = run_dir / "results.csv"
    results.write_bytes(source)
    run_sceau(config, "issue", str(results), "--enqueue", log_dir=logs, name="issue")
    return run


def upgrade_schema(run: Run) -> None:
    """`sceau db upgrade`; while the command line lacks `db`, the same function in-process."""
    try:
        run_sceau(run.config, "db", "upgrade", log_dir=run.logs, name="db-upgrade")
    except ShapeError as error:
        if "No such command 'db'" not in str(error):
            raise
        engine = make_engine(run.database_url)
        upgrade(engine)
        engine.dispose()


def measure_issuing(run: Run, workers: int, rows: int, timeout: float) -> IssuingFigures:
    """`workers` × `sceau worker --once`, timed from spawn to the last exit."""
    began = time.perf_counter()
    started = [
        start_worker(run.config, name=f"worker-{n}", log_dir=run.logs, once=True)
        for n in range(1, workers + 1)
    ]
    try:
        for worker in started:
            code = worker.process.wait(timeout=max(1.0, timeout - (time.perf_counter() - began)))
            if code != 0:
                raise ShapeError(f"{worker.name} exited {code}:\n{worker.output()[-2000:]}")
    finally:
        for worker in started:
            worker.stop()
    seconds = time.perf_counter() - began
    delivered, working = delivered_and_working_seconds(run.database_url)
    if delivered != rows:
        raise ShapeError(f"{delivered}/{rows} certificates delivered by {workers} worker(s)")
    return IssuingFigures(
        workers=workers,
        seconds=seconds,
        certificates_per_s=rows / seconds,
        working_per_s=rows / working if working > 0 else 0.0,
    )


def delivered_and_working_seconds(database_url: str) -> tuple[int, float]:
    """How many certificates are delivered, and the seconds from the first stored to the last
    delivered."""
    engine = make_engine(database_url)
    with Session(engine) as session:
        first, last, count = session.exec(
            select(
                func.min(CertificateRecord.stored_at),
                func.max(CertificateRecord.delivered_at),
                func.count(),
            ).where(CertificateRecord.state == CertificateState.DELIVERED)
        ).one()
    engine.dispose()
    return int(count), (last - first).total_seconds() if first and last else 0.0


# --- share openings -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Share:
    share_id: str
    key: str


def candidate_links(outbox: Path, count: int) -> list[tuple[str, str]]:
    """(certificate id, link key) from the first `count` messages of the outbox."""
    links = []
    for path in sorted(outbox.glob("*.eml"))[:count]:
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        body = message.get_body(preferencelist=("plain",))
        found = LINK.search(body.get_content() if body is not None else "")
        if found:
            links.append((found.group(1), found.group(2)))
    return links


def create_shares(base_url: str, links: list[tuple[str, str]]) -> list[Share]:
    """One share per candidate link, through the candidate API."""
    shares = []
    with httpx.Client(base_url=base_url, timeout=60) as client:
        for cert_id, key in links:
            made = client.post(
                f"/api/v1/me/{cert_id}/shares", json={"key": key, "recipient": "Bench employer"}
            )
            if made.status_code != 201:
                raise ShapeError(f"share not created: {made.status_code} {made.text[:300]}")
            share_id, share_key = made.json()["link"].split("/s/")[1].split("#")
            shares.append(Share(share_id, share_key))
    return shares


async def _open_in_a_loop(
    client: httpx.AsyncClient, share: Share, until: float, tally: list[int]
) -> None:
    while time.perf_counter() < until:
        answer = await client.post(f"/api/v1/shares/{share.share_id}/open", json={"key": share.key})
        valid = answer.status_code == 200 and answer.json()["report"]["verdict"] == "VALID"
        tally[0 if valid else 1] += 1


async def _closed_loop(
    urls: list[str], shares: list[Share], seconds: float
) -> tuple[int, int, float]:
    """CLIENTS clients, client i on server i mod len(urls), each opening its share again and
    again, after one warm-up opening each; (VALID openings, others, seconds timed)."""
    tally = [0, 0]
    clients = [httpx.AsyncClient(base_url=urls[i % len(urls)], timeout=60) for i in range(CLIENTS)]
    try:
        for client, share in zip(clients, shares, strict=False):  # warm: caches, connections
            await client.post(f"/api/v1/shares/{share.share_id}/open", json={"key": share.key})
        began = time.perf_counter()
        until = began + seconds
        loops = [
            _open_in_a_loop(clients[i], shares[i % len(shares)], until, tally)
            for i in range(CLIENTS)
        ]
        await asyncio.gather(*loops)
        elapsed = time.perf_counter() - began
    finally:
        for client in clients:
            await client.aclose()
    return tally[0], tally[1], elapsed


def measure_openings(run: Run, shares: list[Share], servers: int, seconds: float) -> OpeningFigures:
    """`servers` × `sceau serve` on free ports, and the closed loop against them."""
    with ExitStack() as stack:
        urls = []
        for n in range(1, servers + 1):
            port = free_port()
            stack.enter_context(stopping(start_server(
                run.config, name=f"server-{servers}-{n}", port=port, log_dir=run.logs
            )))  # fmt: skip
            urls.append(f"http://127.0.0.1:{port}")
        valid, failed, elapsed = asyncio.run(_closed_loop(urls, shares, seconds))
    return OpeningFigures(
        servers=servers,
        seconds=elapsed,
        openings=valid,
        failures=failed,
        openings_per_s=valid / elapsed,
    )


@contextmanager
def stopping(process: SceauProcess) -> Iterator[SceauProcess]:
    try:
        yield process
    finally:
        process.stop()


# --- running it ---------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> Figures:
    """Throw-away chain and PostgreSQL; the issuing runs, then the opening runs."""
    figures = Figures(machine=machine_with_memory(), rows=args.rows, batch_size=args.batch_size)
    source = synthetic_results(args.rows, today=date.today())
    cluster = start_postgres(port=free_port())
    first: Run | None = None
    try:
        with throwaway_setup() as setup:
            log.print(f"set-up ready in {setup.root}; anvil at {setup.rpc_url}")
            for workers in (1, 2):
                prepared = prepare_run(setup, cluster, f"run-{workers}", source, args.batch_size)
                first = first or prepared
                log.print(f"issuing {args.rows} rows with {workers} worker process(es)...")
                figures.issuing.append(measure_issuing(prepared, workers, args.rows, args.timeout))
            assert first is not None
            outbox = setup.root / "run-1" / "outbox"
            links = candidate_links(outbox, CLIENTS)
            with stopping(start_server(
                first.config, name="server-shares", port=(port := free_port()), log_dir=first.logs
            )):  # fmt: skip
                shares = create_shares(f"http://127.0.0.1:{port}", links)
            for servers in (1, 2):
                log.print(f"opening shares for {args.seconds:.0f} s, {servers} server(s)...")
                figures.openings.append(measure_openings(first, shares, servers, args.seconds))
    finally:
        cluster.remove()
    set_ratios(figures)
    return figures


def set_ratios(figures: Figures) -> None:
    """Each figure over the single-process figure of the same run."""
    one = figures.issuing[0]
    for issuing in figures.issuing:
        issuing.ratio = issuing.certificates_per_s / one.certificates_per_s
        issuing.working_ratio = (
            issuing.working_per_s / one.working_per_s if one.working_per_s else 0
        )
    single = figures.openings[0].openings_per_s
    for opening in figures.openings:
        opening.ratio = opening.openings_per_s / single if single else 0.0


def figures_table(figures: Figures) -> Table:
    table = Table(title="Sceau scale-out benchmark (PostgreSQL)", title_justify="left")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_column("ratio to 1 process", justify="right")
    table.add_row("rows, batch size", f"{figures.rows}, {figures.batch_size}")
    for issuing in figures.issuing:
        table.add_row(
            f"issuing, {issuing.workers} worker(s), whole processes",
            f"{issuing.certificates_per_s:.1f} certificates/s ({issuing.seconds:.1f} s)",
            f"{issuing.ratio:.2f}",
        )
        table.add_row(
            "  first stored → last delivered",
            f"{issuing.working_per_s:.1f} certificates/s",
            f"{issuing.working_ratio:.2f}",
        )
    table.add_section()
    for opening in figures.openings:
        failed = f", {opening.failures} not VALID!" if opening.failures else ""
        table.add_row(
            f"share openings, {opening.servers} server process(es), {CLIENTS} clients",
            f"{opening.openings_per_s:.1f} openings/s ({opening.openings} in "
            f"{opening.seconds:.1f} s{failed})",
            f"{opening.ratio:.2f}",
        )
    return table


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=200, help="synthetic results (default 200)")
    parser.add_argument("--batch-size", type=int, default=50, help="certificates per batch (50)")
    parser.add_argument("--seconds", type=float, default=5.0, help="openings per run (5 s)")
    parser.add_argument("--timeout", type=float, default=3600.0, help="cap per issuing run")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    if args.rows < CLIENTS or args.batch_size < 1 or not 0 < args.seconds <= 600:
        parser.error(f"--rows at least {CLIENTS}, --batch-size at least 1, --seconds up to 600")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        figures = run(args)
    except KeyboardInterrupt:
        log.print("interrupted; PostgreSQL and anvil stopped, the temp dir removed")
        return 130
    if args.json:
        print(json.dumps(asdict(figures), indent=2))
    else:
        out = Console(width=120)
        out.print(f"machine: {figures.machine}", markup=False, highlight=False)
        out.print(figures_table(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
