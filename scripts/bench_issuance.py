"""Benchmark issuance: a whole `sceau issue` process beside PAdES signing alone, in one run.

Run it from the repository root (anvil must be installed by `npm ci`):

    .venv/bin/python scripts/bench_issuance.py                 # 1,000 certificates
    .venv/bin/python scripts/bench_issuance.py --count 50 --workers 1 2 --json

It builds a throw-away Sceau in a temp dir (dev PKI, keystore, recovery key, anvil on a free
127.0.0.1 port with the registry deployed) and, for N synthetic results (default 1,000):
renders the N certificates and signs them alone on every core (a process per core, the key
loaded once each: the baseline), then times `python -m sceau issue` as a whole process (imports,
key unlock, pool start, render, sign, encrypt, anchor, deliver) on the same results, and prints
the ratio of the two rates (the goal of issue 14: at least 0.8). `--workers` adds in-process
pipeline runs taken apart by phase. It prints the machine (cores, CPU model), removes
everything, anvil included, even on Ctrl-C, and asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import multiprocessing
import os
import platform
import shutil
import signal
import socket
import subprocess
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
from pydantic import BaseModel, SecretStr
from rich.console import Console
from rich.table import Table

import sceau
from contracts.keystore import create_keystore
from contracts.localchain import LocalDeployment, ensure_deployed, start_chain, stop_chain
from issuer.content import CertificateContent, IssuerBranding
from issuer.dev_pki import DevPki, create_dev_pki
from issuer.intake import IntakeReport, parse_results
from issuer.pipeline import run_batch, stage_results
from issuer.render import render_certificate
from issuer.signing import load_signer
from offchain_store.crypto import create_recovery_keypair
from sceau import compose
from sceau.settings import ChainSettings, MailSettings, Settings, SigningSettings, load_settings

PASSPHRASE = "bench-passphrase-not-secret"  # a throw-away set-up, deleted at exit
ISSUER_NAME = "Centre de mesure"
PUBLIC_BASE_URL = "https://certificates.bench.example"
SAMPLE = Path(sceau.__file__).parent / "samples" / "results-sample.csv"
REPO = Path(__file__).resolve().parents[1]
GOAL_ISSUANCE_RATIO = 0.8  # issue 14: whole `sceau issue` at least 0.8 of signing alone
log = Console(stderr=True)


def machine() -> str:
    """Cores and CPU model (from /proc/cpuinfo on Linux), and Python."""
    model = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count() or 1} cores, {model}, Python {platform.python_version()}"


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
    machine: str = ""
    renders_per_s: float = 0.0  # on every core
    signatures_per_s: float = 0.0  # PAdES signing alone, on every core: the baseline
    signing_seconds: float = 0.0
    signed_pdf_bytes: int = 0
    issue_process_seconds: float = 0.0  # `python -m sceau issue`, whole process
    issue_process_per_s: float = 0.0
    issue_process_exit: int = 0
    ratio_to_signing: float = 0.0  # issue_process_per_s / signatures_per_s
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


_worker_signer: Any = None
_BRANDING = IssuerBranding(name=ISSUER_NAME, public_base_url=PUBLIC_BASE_URL)


def _load_worker_signer(identity: Any) -> None:
    global _worker_signer
    _worker_signer = load_signer(identity)  # once per process, as each issuance worker does


def _render(content: CertificateContent) -> bytes:
    return render_certificate(content, branding=_BRANDING)


def _sign(pdf: bytes) -> int:
    return len(_worker_signer.sign(pdf))


def measure_render_and_sign(figures: Figures, setup: BenchSetup, report: IntakeReport) -> None:
    """Render the N certificates, then sign them alone, on every core (one process per core,
    started and warmed before the clock starts): signing alone is the baseline."""
    contents = [
        row.to_content(certificate_id=f"{n:032x}", issued_on=date.today())
        for n, row in enumerate(report.rows, start=1)
    ]
    cores = figures.cores
    context = multiprocessing.get_context("spawn")
    with context.Pool(cores, _load_worker_signer, (setup.pki.identity,)) as pool:
        warm = pool.map(_render, contents[:cores], chunksize=1)  # fonts and caches warmed
        pool.map(_sign, warm, chunksize=1)
        began = time.perf_counter()
        pdfs = pool.map(_render, contents, chunksize=4)
        figures.renders_per_s = len(contents) / (time.perf_counter() - began)
        began = time.perf_counter()
        sizes = pool.map(_sign, pdfs, chunksize=4)
        figures.signing_seconds = time.perf_counter() - began
    figures.signatures_per_s = len(pdfs) / figures.signing_seconds
    figures.signed_pdf_bytes = sizes[0]


def measure_issue_process(
    figures: Figures, setup: BenchSetup, source: bytes, *, timeout: float
) -> None:
    """`python -m sceau --config … issue results.csv` as a whole process, timed from spawn to
    exit, in a fresh database, with one signing worker per core."""
    run_dir = setup.root / "run-sceau-issue"
    run_dir.mkdir()
    config = write_config(settings_for(setup, run_dir, figures.cores), setup.root / "issue.toml")
    results = setup.root / "bench-results.csv"
    results.write_bytes(source)
    command = [sys.executable, "-m", "sceau", "--config", str(config), "issue", str(results)]
    began = time.perf_counter()
    done = subprocess.run(command, cwd=REPO, capture_output=True, timeout=timeout, check=False)
    figures.issue_process_seconds = time.perf_counter() - began
    figures.issue_process_exit = done.returncode
    if done.returncode != 0:
        log.print(f"sceau issue exited {done.returncode}: {done.stderr.decode()[-2000:]}")
    figures.issue_process_per_s = figures.count / figures.issue_process_seconds
    figures.ratio_to_signing = figures.issue_process_per_s / figures.signatures_per_s


@contextmanager
def main_module_hidden() -> Iterator[None]:
    """While it lasts, the processes forked for signing and delivery are given no main module
    to load. multiprocessing loads a main module given by its path again in each child: here,
    this whole script, 1.5 s of imports before the first signature, which a `sceau` process
    (whose main module is guarded) never pays."""
    main = sys.modules["__main__"]
    path = main.__dict__.pop("__file__", None)
    try:
        yield
    finally:
        if path is not None:
            main.__file__ = path


def measure_issuance(
    setup: BenchSetup, report: IntakeReport, source: bytes, workers: int
) -> IssuanceFigures:
    """Stage and run every batch, in a fresh database, with `workers` signing processes."""
    with main_module_hidden():
        return _measure_issuance(setup, report, source, workers)


def _measure_issuance(
    setup: BenchSetup, report: IntakeReport, source: bytes, workers: int
) -> IssuanceFigures:
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


# --- settings as a file, for the processes started (`sceau issue`, `sceau serve`) ---------------


def toml_document(settings: Settings) -> str:
    """The settings as a TOML file `sceau --config` reads back to the same settings."""
    top: list[str] = []
    tables: list[str] = []
    for name, value in _plain(settings).items():
        if isinstance(value, dict):
            tables += ["", f"[{name}]", *(f"{k} = {json.dumps(v)}" for k, v in value.items())]
        else:
            top.append(f"{name} = {json.dumps(value)}")  # JSON scalars and arrays are TOML too
    return "\n".join([*top, *tables]) + "\n"


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        fields = {name: _plain(getattr(value, name)) for name in type(value).model_fields}
        return {name: v for name, v in fields.items() if v is not None}
    if isinstance(value, SecretStr):
        return value.get_secret_value()  # a throw-away set-up: these secrets die with it
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


def write_config(settings: Settings, path: Path) -> Path:
    """Write the TOML file for a `sceau` process, and check that it reads back to `settings`."""
    path.write_text(toml_document(settings), encoding="utf-8")
    if load_settings(path) != settings:
        raise SystemExit(f"{path} does not read back to the benchmark's settings")
    return path


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
    table.add_column("baseline (same run)", justify="right")
    table.add_column("ratio (goal)", justify="right")
    table.add_row("machine", figures.machine)
    table.add_row("certificates (N)", str(figures.count))
    every_core = f"{figures.cores} processes"
    table.add_row("rendering alone, " + every_core, f"{figures.renders_per_s:.1f} renders/s")
    table.add_row("signed PDF size", f"{figures.signed_pdf_bytes / 1024:.1f} KiB")
    exit_note = "" if figures.issue_process_exit == 0 else f", exit {figures.issue_process_exit}!"
    table.add_row(
        "whole `sceau issue` process",
        f"{figures.issue_process_per_s:.1f} certificates/s "
        f"({figures.issue_process_seconds:.1f} s{exit_note})",
        f"{figures.signatures_per_s:.1f} PAdES signatures/s alone, {every_core} "
        f"({figures.signing_seconds:.1f} s)",
        f"{figures.ratio_to_signing:.2f} (≥ {GOAL_ISSUANCE_RATIO})",
    )
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
    """--count, --workers (a list), --timeout and --json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000, help="synthetic results (default 1000)")
    parser.add_argument(
        "--workers",
        type=int,
        nargs="*",
        default=[],
        help="signing processes of extra in-process pipeline runs, by phase (default: none)",
    )
    parser.add_argument(
        "--timeout", type=float, default=3600.0, help="cap on the `sceau issue` process (3600 s)"
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    if args.count < 1 or min(args.workers, default=1) < 1 or not 0 < args.timeout <= 86400:
        parser.error("--count and --workers must be at least 1, --timeout within a day")
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
    figures = Figures(
        cores=os.cpu_count() or 1,
        python=platform.python_version(),
        count=args.count,
        machine=machine(),
    )
    source = synthetic_results(args.count, today=date.today())
    report = parse_results(source, name="bench-results.csv", today=date.today())
    if report.rejected:
        raise SystemExit(f"synthetic rows rejected: {report.rejected[:3]}")
    with throwaway_setup() as setup:
        log.print(f"set-up ready in {setup.root}; anvil at {setup.rpc_url}")
        log.print(f"rendering, then signing alone, {args.count} certificates on every core...")
        measure_render_and_sign(figures, setup, report)
        log.print(f"`sceau issue` of {args.count} certificates, as a whole process...")
        measure_issue_process(figures, setup, source, timeout=args.timeout)
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
        out = Console() if sys.stdout.isatty() else Console(width=140)  # whole rows in a file
        out.print(figures_table(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
