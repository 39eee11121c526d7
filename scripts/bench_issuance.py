"""Benchmark issuance: rendering, signing, and the whole pipeline with one worker and with several.

Run it from the repository root (anvil must be installed by `npm ci`):

    .venv/bin/python scripts/bench_issuance.py --count 200
    .venv/bin/python scripts/bench_issuance.py --count 50 --workers 1 2 4 --json

It builds a throw-away Sceau in a temp dir (dev PKI, keystore, recovery key, anvil on a free
127.0.0.1 port with the registry deployed), issues N synthetic results, prints the figures and
removes everything, anvil included, even on Ctrl-C. It measures; it asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import platform
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path
from types import FrameType
from typing import Any

from nacl.pwhash import argon2id
from pydantic import SecretStr
from rich.console import Console
from rich.table import Table

import sceau
from contracts.keystore import create_keystore
from contracts.localchain import LocalDeployment, ensure_deployed, start_chain, stop_chain
from issuer.content import IssuerBranding
from issuer.dev_pki import DevPki, create_dev_pki
from issuer.intake import IntakeReport, parse_results
from issuer.pipeline import run_batch, stage_results
from issuer.render import render_certificate
from issuer.signing import load_signer
from offchain_store.crypto import create_recovery_keypair
from sceau import compose
from sceau.settings import ChainSettings, MailSettings, Settings, SigningSettings

PASSPHRASE = "bench-passphrase-not-secret"  # a throw-away set-up, deleted at exit
ISSUER_NAME = "Centre de mesure"
PUBLIC_BASE_URL = "https://certificates.bench.example"
SAMPLE = Path(sceau.__file__).parent / "samples" / "results-sample.csv"
log = Console(stderr=True)


@dataclass(frozen=True)
class BenchSetup:
    """The parts every run shares: PKI, keys and the chain with the registry deployed."""

    root: Path
    pki: DevPki
    keystore: Path
    recovery_public_key: Path
    rpc_url: str
    deployment: LocalDeployment


@dataclass
class IssuanceFigures:
    """One end-to-end run: stage_results + run_batch for every batch, timed by phase."""

    workers: int
    seconds: float
    certificates_per_s: float
    first_certificate_after: float  # from the start of signing: pool start-up + one certificate
    phases: dict[str, float] = field(default_factory=dict)


@dataclass
class Figures:
    """Everything the benchmark prints."""

    cores: int
    python: str
    count: int
    renders_per_s: float = 0.0
    signatures_per_s: float = 0.0
    signed_pdf_bytes: int = 0
    issuance: list[IssuanceFigures] = field(default_factory=list)


class PhaseClock:
    """A Progress sink that notes when each phase started, first advanced and last advanced."""

    def __init__(self) -> None:
        self.started: dict[str, float] = {}
        self.first: dict[str, float] = {}
        self.last: dict[str, float] = {}

    def start(self, phase: str, total: int) -> None:
        self.started[phase] = self.last[phase] = time.perf_counter()

    def advance(self, phase: str, amount: int = 1) -> None:
        self.last[phase] = time.perf_counter()
        self.first.setdefault(phase, self.last[phase])

    def reset(self) -> None:
        self.started.clear()
        self.first.clear()
        self.last.clear()


# --- the throw-away set-up ------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def build_setup(root: Path) -> BenchSetup:
    """Dev PKI, a fresh funded issuer account, a recovery key pair, anvil and the registry."""
    pki = create_dev_pki(root / "pki", issuer_name=ISSUER_NAME, passphrase=None)
    keys = root / "keys"
    keys.mkdir(parents=True)
    keystore = keys / "issuer-eth.json"
    issuer_address = create_keystore(keystore, PASSPHRASE, iterations=2)
    create_recovery_keypair_fast(keys)
    node = start_chain(root / "chain", port=free_port())  # host: 127.0.0.1
    deployment = ensure_deployed(
        root / "chain", rpc_url=node.rpc_url, issuer_address=issuer_address
    )
    return BenchSetup(
        root=root,
        pki=pki,
        keystore=keystore,
        recovery_public_key=keys / "recovery-public.json",
        rpc_url=node.rpc_url,
        deployment=deployment,
    )


def create_recovery_keypair_fast(keys: Path) -> None:
    """A recovery key pair with the cheapest argon2 limits: it is thrown away at the end."""
    create_recovery_keypair(
        keys / "recovery-private.json",
        keys / "recovery-public.json",
        passphrase=PASSPHRASE,
        kdf_limits=(argon2id.OPSLIMIT_MIN, argon2id.MEMLIMIT_MIN),
    )


def settings_for(setup: BenchSetup, run_dir: Path, workers: int) -> Settings:
    """Settings of one run: its own database, blobs, receipts and outbox; the shared chain."""
    return Settings(
        issuer_id="bench-centre",
        issuer_name=ISSUER_NAME,
        public_base_url=PUBLIC_BASE_URL,
        database_url=f"sqlite:///{run_dir / 'sceau.db'}",
        blob_store_url=f"file://{run_dir / 'blobs'}",
        receipts_dir=run_dir / "receipts",
        recovery_public_key=setup.recovery_public_key,
        issue_workers=workers,
        chain=ChainSettings(
            rpc_url=setup.rpc_url,
            chain_id=setup.deployment.chain_id,
            contract_address=setup.deployment.contract_address,
            keystore=setup.keystore,
            keystore_passphrase=SecretStr(PASSPHRASE),
            local_data_dir=setup.root / "chain",
        ),
        signing=SigningSettings(
            key=setup.pki.issuer_key,
            certificate=setup.pki.issuer_cert,
            chain=[setup.pki.root_cert],
            trust_root=setup.pki.root_cert,
        ),
        mail=MailSettings(outbox=run_dir / "outbox"),
    )


def synthetic_results(count: int, *, today: date) -> bytes:
    """`count` valid CSV rows, cycling through the sample's candidates with fresh ids."""
    with SAMPLE.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        header, templates = list(reader.fieldnames or []), list(reader)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    for n in range(1, count + 1):
        row = dict(templates[(n - 1) % len(templates)])
        row["result_id"] = f"BENCH-{n:06d}"
        row["candidate_number"] = f"B{n:06d}"
        row["email"] = f"candidate.{n}@example.org"
        row["session_date"] = (today - timedelta(days=30)).isoformat()
        writer.writerow(row)
    return out.getvalue().encode("utf-8")


# --- the measurements -----------------------------------------------------------------------------


def measure_render_and_sign(figures: Figures, setup: BenchSetup, report: IntakeReport) -> None:
    """Rendering alone (each row once) and signing alone (one PDF, N times), one process."""
    branding = IssuerBranding(name=ISSUER_NAME, public_base_url=PUBLIC_BASE_URL)
    contents = [
        row.to_content(certificate_id=f"{n:032x}", issued_on=date.today())
        for n, row in enumerate(report.rows, start=1)
    ]
    pdf = render_certificate(contents[0], branding=branding)  # warms fonts and caches
    signer = load_signer(setup.pki.identity)  # loads the key once, as each worker does
    figures.signed_pdf_bytes = len(signer.sign(pdf))
    seconds = _timed(lambda: [render_certificate(c, branding=branding) for c in contents])
    figures.renders_per_s = len(contents) / seconds
    seconds = _timed(lambda: [signer.sign(pdf) for _ in contents])
    figures.signatures_per_s = len(contents) / seconds


def measure_issuance(
    setup: BenchSetup, report: IntakeReport, source: bytes, workers: int
) -> IssuanceFigures:
    """Stage and run every batch, in a fresh database, with `workers` signing processes."""
    run_dir = setup.root / f"run-{workers}-workers"
    run_dir.mkdir()  # SQLite does not create the folder of an absolute path
    clock = PhaseClock()
    issuance = compose.issuance(settings_for(setup, run_dir, workers), progress=clock)
    phases = dict.fromkeys(("stage", "sign_and_store", "seal_and_anchor", "deliver"), 0.0)
    began = time.perf_counter()
    outcome = stage_results(issuance, report, source)
    phases["stage"] = time.perf_counter() - began
    first_certificate_after = 0.0
    for batch_id in outcome.batch_ids:
        clock.reset()
        run_batch(issuance, batch_id)
        _add_batch_phases(phases, clock, ended=time.perf_counter())
        first_certificate_after = first_certificate_after or (
            clock.first["sign"] - clock.started["sign"]
        )
    seconds = time.perf_counter() - began
    issuance.engine.dispose()
    return IssuanceFigures(
        workers=workers,
        seconds=seconds,
        certificates_per_s=outcome.staged / seconds,
        first_certificate_after=first_certificate_after,
        phases=phases,
    )


def _add_batch_phases(phases: dict[str, float], clock: PhaseClock, *, ended: float) -> None:
    # The pipeline reports "sign" (render, sign, encrypt, store) and "deliver"; sealing and
    # anchoring report nothing, so they are the gap between the last signature and delivery.
    sign_start, sign_end = clock.started["sign"], clock.last["sign"]
    deliver_start = clock.started["deliver"]
    phases["sign_and_store"] += sign_end - sign_start
    phases["seal_and_anchor"] += deliver_start - sign_end
    phases["deliver"] += ended - deliver_start


def _timed(work: Callable[[], object]) -> float:
    began = time.perf_counter()
    work()
    return time.perf_counter() - began


# --- output ---------------------------------------------------------------------------------------

PHASE_NAMES = {
    "stage": "stage (records)",
    "sign_and_store": "render + sign + encrypt + store",
    "seal_and_anchor": "seal + anchor (1 tx)",
    "deliver": "deliver (receipt + .eml)",
}


def figures_table(figures: Figures) -> Table:
    """The figures as a two-column rich table, one section per end-to-end run."""
    table = Table(title="Sceau issuance benchmark", title_justify="left")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row("cores (os.cpu_count)", str(figures.cores))
    table.add_row("Python", figures.python)
    table.add_row("certificates (N)", str(figures.count))
    table.add_row("rendering alone, 1 process", f"{figures.renders_per_s:.1f} renders/s")
    table.add_row("signing alone, 1 process", f"{figures.signatures_per_s:.1f} signatures/s")
    table.add_row("signed PDF size", f"{figures.signed_pdf_bytes / 1024:.1f} KiB")
    for run in figures.issuance:
        table.add_section()
        table.add_row(
            f"end to end, workers={run.workers}",
            f"{run.certificates_per_s:.1f} certificates/s ({run.seconds:.2f} s)",
        )
        for phase, seconds in run.phases.items():
            share = 100 * seconds / run.seconds if run.seconds else 0.0
            table.add_row(f"  {PHASE_NAMES[phase]}", f"{seconds:.2f} s ({share:.0f} %)")
            if phase == "sign_and_store":
                table.add_row(
                    "    of which until the 1st certificate", f"{run.first_certificate_after:.2f} s"
                )
    return table


# --- running it -----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """--count, --workers (a list) and --json."""
    cores = os.cpu_count() or 1
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200, help="synthetic results (default 200)")
    parser.add_argument(
        "--workers",
        type=int,
        nargs="+",
        default=sorted({1, cores}),
        help=f"signing processes for each end-to-end run (default: 1 and {cores})",
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    if args.count < 1 or min(args.workers) < 1:
        parser.error("--count and --workers must be at least 1")
    return args


@contextmanager
def throwaway_setup() -> Iterator[BenchSetup]:
    """A set-up in a temp dir; anvil stopped and the dir removed however the run ends."""
    root = Path(tempfile.mkdtemp(prefix="sceau-bench-"))
    try:
        yield build_setup(root)
    finally:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C: clean up anyway
        try:
            stop_chain(root / "chain")
        finally:
            shutil.rmtree(root, ignore_errors=True)
            signal.signal(signal.SIGINT, previous)


def run(args: argparse.Namespace) -> Figures:
    """Generate the results, build the set-up, measure, tear it all down."""
    figures = Figures(cores=os.cpu_count() or 1, python=platform.python_version(), count=args.count)
    source = synthetic_results(args.count, today=date.today())
    report = parse_results(source, name="bench-results.csv", today=date.today())
    if report.rejected:
        raise SystemExit(f"synthetic rows rejected: {report.rejected[:3]}")
    with throwaway_setup() as setup:
        log.print(f"set-up ready in {setup.root}; anvil at {setup.rpc_url}")
        log.print(f"rendering and signing {args.count} certificates, one process...")
        measure_render_and_sign(figures, setup, report)
        for workers in args.workers:
            log.print(f"issuing {args.count} certificates end to end, workers={workers}...")
            figures.issuance.append(measure_issuance(setup, report, source, workers))
    return figures


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds through the clean-up, as Ctrl-C does


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the figures; return the exit code (130 on Ctrl-C)."""
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    try:
        figures = run(args)
    except KeyboardInterrupt:
        log.print("interrupted; anvil stopped and the temp dir removed")
        return 130
    if args.json:
        document: dict[str, Any] = asdict(figures)
        print(json.dumps(document, indent=2))
    else:
        Console().print(figures_table(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
