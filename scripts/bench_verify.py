"""Benchmark verification: share links opened by concurrent employers over HTTP, and its parts.

Run it from the repository root (anvil must be installed by `npm ci`):

    .venv/bin/python scripts/bench_verify.py
    .venv/bin/python scripts/bench_verify.py --count 20 --concurrency 1,4,16 --requests 200 --json

It builds the throw-away set-up of scripts/bench_issuance.py in a temp dir (dev PKI, keys, anvil
on a free 127.0.0.1 port with the registry deployed), issues N certificates through the real
pipeline, starts the real server (`python -m sceau serve`, its own process, so the load generator
does not share its GIL) on a free 127.0.0.1 port, creates one share per certificate through the
candidate API, then opens the shares with closed-loop concurrent clients and prints verifications
per second and latencies per concurrency level. Beside it, in this process and with the server
idle: the PAdES signature check alone, a chain read without and with a warm cache, the share
opening alone and one whole `verify_share`. The server, anvil and the temp dir are removed however
the run ends, Ctrl-C included. It measures; it asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import email
import importlib.util
import itertools
import json
import math
import os
import platform
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from email import policy
from pathlib import Path
from types import FrameType, ModuleType
from typing import Any
from unittest import mock

import httpx
from pydantic import BaseModel, SecretStr
from rich.console import Console
from rich.table import Table
from web3 import HTTPProvider

from contracts.profile import PROFILE_PATH
from contracts.receipt import Receipt
from issuer.intake import parse_results
from issuer.pipeline import run_batch, stage_results
from offchain_store.crypto import LinkKey
from offchain_store.shares import open_share
from sceau import compose
from sceau.settings import Settings, load_settings
from sceau.web.state import AppState
from verifier.chain import ChainCache, read_chain
from verifier.checks.signature import check_signature, embedded_signer_certificate
from verifier.report import CheckStatus, Verdict
from verifier.share_link import verify_share

REPO = Path(__file__).resolve().parents[1]
SERVER_START_TIMEOUT = 60.0
REQUEST_TIMEOUT = 30.0
log = Console(stderr=True)


def _load_bench_issuance() -> ModuleType:
    """scripts/ is not a package: load the sibling benchmark from its path for its set-up."""
    path = Path(__file__).with_name("bench_issuance.py")
    spec = importlib.util.spec_from_file_location("bench_issuance", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


bench_issuance = _load_bench_issuance()


@dataclass(frozen=True)
class Delivered:
    """One candidate e-mail of the outbox: the private link's key, the PDF and the receipt."""

    certificate_id: str
    candidate_key: str
    pdf: bytes
    receipt: Receipt


@dataclass
class PartFigures:
    """One part of a verification, timed alone in this process."""

    part: str
    repeats: int
    ms_each: float
    note: str = ""


@dataclass
class LevelFigures:
    """Share openings over HTTP at one concurrency level."""

    concurrency: int
    requests: int
    seconds: float
    per_second: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    non_200: int
    not_valid: int
    time_capped: bool
    cpu_percent: dict[str, float] = field(default_factory=dict)  # of wall time; 100 = one core
    statuses: dict[str, int] = field(default_factory=dict)
    verdicts: dict[str, int] = field(default_factory=dict)


@dataclass
class Figures:
    """Everything the benchmark prints."""

    cores: int
    python: str
    count: int
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float] = (0.0, 0.0, 0.0)
    issuance_seconds: float = 0.0
    signed_pdf_bytes: int = 0
    response_bytes: int = 0
    warm_up_ms: list[float] = field(default_factory=list)
    parts: list[PartFigures] = field(default_factory=list)
    levels: list[LevelFigures] = field(default_factory=list)


# --- issuing and reading what was delivered -------------------------------------------------------


def issue_certificates(settings: Settings, count: int) -> float:
    """Issue `count` synthetic results through the real pipeline; the seconds it took."""
    source = bench_issuance.synthetic_results(count, today=date.today())
    report = parse_results(source, name="bench-results.csv", today=date.today())
    if report.rejected:
        raise SystemExit(f"synthetic rows rejected: {report.rejected[:3]}")
    began = time.perf_counter()
    issuance = compose.issuance(settings)
    for batch_id in stage_results(issuance, report, source).batch_ids:
        run_batch(issuance, batch_id)
    issuance.engine.dispose()
    return time.perf_counter() - began


def read_outbox(outbox: Path) -> list[Delivered]:
    """The candidates' e-mails: the key in each private link, the signed PDF and the receipt."""
    delivered = []
    for path in sorted(outbox.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        body = message.get_body(preferencelist=("plain",))
        text = str(body.get_content()) if body is not None else ""
        link = re.search(r"/me/([0-9a-f]{32})#([A-Za-z0-9_-]{43})", text)
        if link is None:
            raise SystemExit(f"no private link in {path.name}")
        files = {p.get_filename() or "": p.get_content() for p in message.iter_attachments()}
        pdf = next(v for k, v in files.items() if k.endswith(".pdf"))
        receipt = next(v for k, v in files.items() if k.endswith(".json"))
        delivered.append(Delivered(link.group(1), link.group(2), pdf, Receipt.from_json(receipt)))
    return delivered


# --- the server, in its own process ---------------------------------------------------------------


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
    """Write the TOML file for the server, and check that it reads back to `settings`."""
    path.write_text(toml_document(settings), encoding="utf-8")
    if load_settings(path) != settings:
        raise SystemExit(f"{path} does not read back to the benchmark's settings")
    return path


@dataclass(frozen=True)
class Server:
    """The running server: where to reach it, and its process for CPU accounting."""

    base_url: str
    pid: int


@contextmanager
def running_server(config: Path, port: int, log_file: Path) -> Iterator[Server]:
    """`python -m sceau serve` on 127.0.0.1:`port`; stopped however the block ends."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCEAU_")}
    command = [sys.executable, "-m", "sceau", "--config", str(config), "serve"]
    with log_file.open("wb") as server_log:
        server = subprocess.Popen(
            [*command, "--host", "127.0.0.1", "--port", str(port)],
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=server_log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches us only; we stop it below
        )
        try:
            base_url = f"http://127.0.0.1:{port}"
            _wait_until_serving(server, base_url, log_file)
            yield Server(base_url, server.pid)
        finally:
            previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
            try:
                server.terminate()
                try:
                    server.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    server.kill()
                    server.wait(timeout=10)
            finally:
                signal.signal(signal.SIGINT, previous)


def _wait_until_serving(server: subprocess.Popen[bytes], base_url: str, log_file: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited:\n{log_file.read_text(errors='replace')}")
        try:
            if httpx.get(base_url + PROFILE_PATH, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"the server did not answer within {SERVER_START_TIMEOUT:.0f} s")


def create_shares(base_url: str, delivered: list[Delivered]) -> list[tuple[str, str]]:
    """One share per certificate through the candidate API: (share id, share key) each."""
    shares = []
    with httpx.Client(base_url=base_url, timeout=REQUEST_TIMEOUT) as client:
        for n, item in enumerate(delivered, start=1):
            body = {"key": item.candidate_key, "recipient": f"Employer {n}"}
            answer = client.post(f"/api/v1/me/{item.certificate_id}/shares", json=body)
            if answer.status_code != 201:
                raise SystemExit(f"share creation answered {answer.status_code}: {answer.text}")
            created = answer.json()
            shares.append((str(created["share_id"]), str(created["link"]).rsplit("#", 1)[1]))
    return shares


# --- the parts, timed alone in this process -------------------------------------------------------


def measure_parts(
    figures: Figures, settings: Settings, item: Delivered, share: tuple[str, str], repeats: int
) -> None:
    """Each part of one share opening, `repeats` times in this thread, then the whole of it."""
    state = AppState.build(settings)  # what the server builds: records, blobs, chain cache
    try:
        for name, work, note in parts_of_a_verification(state, item, share):
            figures.parts.append(PartFigures(name, repeats, _ms_each(work, repeats), note))
    finally:
        state.engine.dispose()


def parts_of_a_verification(
    state: AppState, item: Delivered, share: tuple[str, str]
) -> list[tuple[str, Callable[[], object], str]]:
    """(name, work, note) of what `verify_share` does, the PAdES check checked VALID first."""
    context = state.verification()
    rpc_url, receipt, pdf, now = context.rpc_url, item.receipt, item.pdf, datetime.now(UTC)
    roots, moment = context.profile.trust_roots_der(), receipt.anchored_at
    signature = check_signature(pdf, trust_roots=roots, moment=moment, moment_source="receipt")
    if signature.status is not CheckStatus.VALID:
        raise SystemExit(f"the PAdES check of an issued PDF says {signature.code}")
    warm = ChainCache()
    with counted_rpc_calls() as cold_calls:
        read_chain(rpc_url, receipt, cache=warm)
    with counted_rpc_calls() as warm_calls:
        read_chain(rpc_url, receipt, cache=warm)
    share_id, token = share
    key = LinkKey.from_token(token)
    return [
        (
            "open_share: SQL, unwrap, decrypt, log",
            lambda: open_share(
                state.engine, state.blobs, share_id=share_id, share_key=key, now=now, client="b"
            ),
            "",
        ),
        (
            "chain read, no cache (as verify_share does)",
            lambda: read_chain(rpc_url, receipt, cache=None),
            _calls(cold_calls),
        ),
        (
            "chain read, warm cache",
            lambda: read_chain(rpc_url, receipt, cache=warm),
            _calls(warm_calls),
        ),
        (
            "signer certificate (embedded_signer_certificate)",
            lambda: embedded_signer_certificate(pdf),
            "parses the PDF",
        ),
        (
            "PAdES check (check_signature)",
            lambda: check_signature(pdf, trust_roots=roots, moment=moment, moment_source="receipt"),
            "parses the PDF again",
        ),
        (
            "whole verify_share, in process",
            lambda: verify_share(context, share_id=share_id, token=token, now=now, client="b"),
            "all of it, without HTTP",
        ),
    ]


@contextmanager
def counted_rpc_calls() -> Iterator[Counter[str]]:
    """Count the JSON-RPC methods every HTTPProvider sends while the block runs."""
    calls: Counter[str] = Counter()
    send = HTTPProvider.make_request

    def counted(provider: HTTPProvider, method: str, params: Any) -> Any:
        calls[str(method)] += 1
        return send(provider, method, params)

    with mock.patch.object(HTTPProvider, "make_request", counted):
        yield calls


def _calls(calls: Counter[str]) -> str:
    return ", ".join(f"{m}×{n}" if n > 1 else m for m, n in sorted(calls.items()))


def _ms_each(work: Callable[[], object], repeats: int) -> float:
    began = time.perf_counter()
    for _ in range(repeats):
        work()
    return 1000 * (time.perf_counter() - began) / repeats


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far, from /proc (Linux); NaN where unknown."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return math.nan
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- the load: closed-loop clients opening shares over HTTP ---------------------------------------


@dataclass(frozen=True)
class LevelLoad:
    """How hard one level pushes: clients at once, openings in all, seconds at most."""

    concurrency: int
    requests: int
    budget: float


@dataclass
class Answers:
    """What the clients of one level saw; appended to from several threads."""

    latencies: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    verdicts: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, seconds: float, status: str, verdict: str) -> None:
        with self.lock:
            self.latencies.append(seconds)
            self.statuses[status] += 1
            self.verdicts[verdict] += 1


def open_once(client: httpx.Client, share: tuple[str, str]) -> tuple[float, str, str]:
    """POST one share opening: (seconds, HTTP status, verdict or why there is none)."""
    share_id, share_key = share
    began = time.perf_counter()
    try:
        answer = client.post(f"/api/v1/shares/{share_id}/open", json={"key": share_key})
    except httpx.HTTPError as exc:
        return time.perf_counter() - began, type(exc).__name__, "no answer"
    seconds = time.perf_counter() - began
    try:
        document = answer.json()
    except ValueError:  # a proxy or a crash may answer plain text
        document = {}
    if answer.status_code != 200:
        return seconds, str(answer.status_code), str(document.get("code", "no report"))
    return seconds, "200", str(document.get("report", {}).get("verdict", "no report"))


def run_level(
    server: Server, anvil_pid: int, shares: list[tuple[str, str]], load: LevelLoad
) -> LevelFigures:
    """`load.concurrency` clients, each opening the next share as soon as its last answer came."""
    answers, stop = Answers(), threading.Event()
    tickets = itertools.count()  # next() on a count is atomic: each ticket is one request
    deadline = time.monotonic() + load.budget
    pool_size = httpx.Limits(max_connections=load.concurrency)

    def employer(client: httpx.Client) -> None:
        while not stop.is_set() and time.monotonic() < deadline:
            ticket = next(tickets)
            if ticket >= load.requests:
                return
            answers.note(*open_once(client, shares[ticket % len(shares)]))

    pids = {"server": server.pid, "anvil": anvil_pid}
    cpu_before = _cpu_now(pids)
    began = time.perf_counter()
    with (
        httpx.Client(base_url=server.base_url, timeout=REQUEST_TIMEOUT, limits=pool_size) as client,
        ThreadPoolExecutor(max_workers=load.concurrency) as pool,
    ):
        try:
            for running in [pool.submit(employer, client) for _ in range(load.concurrency)]:
                running.result()
        finally:
            stop.set()  # on Ctrl-C the clients stop after their request in flight
    seconds = time.perf_counter() - began
    cpu_after = _cpu_now(pids)
    cpu = {name: 100 * (cpu_after[name] - cpu_before[name]) / seconds for name in cpu_after}
    return level_figures(load, answers, seconds, cpu)


def _cpu_now(pids: dict[str, int]) -> dict[str, float]:
    """CPU seconds so far of each process, and of this one (the clients) as "clients"."""
    return {
        **{name: cpu_seconds(pid) for name, pid in pids.items()},
        "clients": time.process_time(),
    }


def level_figures(
    load: LevelLoad, answers: Answers, seconds: float, cpu_percent: dict[str, float]
) -> LevelFigures:
    done = sorted(answers.latencies)
    ms = [1000 * s for s in done] or [0.0]
    return LevelFigures(
        concurrency=load.concurrency,
        requests=len(done),
        seconds=seconds,
        per_second=len(done) / seconds if seconds else 0.0,
        p50_ms=_percentile(ms, 50),
        p90_ms=_percentile(ms, 90),
        p99_ms=_percentile(ms, 99),
        max_ms=ms[-1],
        non_200=sum(n for status, n in answers.statuses.items() if status != "200"),
        not_valid=sum(n for verdict, n in answers.verdicts.items() if verdict != Verdict.VALID),
        time_capped=len(done) < load.requests,
        cpu_percent=cpu_percent,
        statuses=dict(answers.statuses),
        verdicts=dict(answers.verdicts),
    )


def _percentile(ordered: list[float], p: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def warm_up(base_url: str, shares: list[tuple[str, str]]) -> tuple[list[float], int]:
    """Open every share once, one at a time: milliseconds each and the size of one answer."""
    with httpx.Client(base_url=base_url, timeout=REQUEST_TIMEOUT) as client:
        timings = [open_once(client, share) for share in shares]
        size = len(
            client.post(f"/api/v1/shares/{shares[0][0]}/open", json={"key": shares[0][1]}).content
        )
    bad = [t for t in timings if t[1] != "200" or t[2] != Verdict.VALID]
    if bad:
        raise SystemExit(f"warm-up openings did not all answer 200 VALID: {bad[:3]}")
    return [1000 * t[0] for t in timings], size


# --- output ---------------------------------------------------------------------------------------


def context_table(figures: Figures) -> Table:
    """The machine, the set-up and the first openings."""
    table = Table(title="Sceau verification benchmark", title_justify="left")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row("cores (os.cpu_count), Python", f"{figures.cores}, {figures.python}")
    table.add_row("load average 1/5/15 min, before", _load(figures.load_before))
    table.add_row("load average 1/5/15 min, after", _load(figures.load_after))
    table.add_row("certificates issued, one share each", str(figures.count))
    table.add_row("issuing them (pipeline, for scale)", f"{figures.issuance_seconds:.1f} s")
    table.add_row("signed PDF", f"{figures.signed_pdf_bytes / 1024:.1f} KiB")
    table.add_row(
        "open answer (report + PDF in base64)", f"{figures.response_bytes / 1024:.1f} KiB"
    )
    warm = figures.warm_up_ms
    if warm:
        table.add_row("1st opening after the server started", f"{warm[0]:.0f} ms")
        rest = warm[1:] or warm
        table.add_row("warm-up: the other shares, one at a time", f"{sum(rest) / len(rest):.0f} ms")
    return table


def parts_table(figures: Figures) -> Table:
    """One share opening taken apart, timed in this process while the server is idle."""
    table = Table(title="One share opening, part by part (1 thread)", title_justify="left")
    table.add_column("part")
    table.add_column("ms each", justify="right")
    table.add_column("per s", justify="right")
    table.add_column("note")
    for part in figures.parts:
        table.add_row(part.part, f"{part.ms_each:.1f}", f"{1000 / part.ms_each:.0f}", part.note)
    return table


def levels_table(figures: Figures) -> Table:
    """Verifications per second and latency at each level, and where the CPU went."""
    table = Table(
        title="POST /api/v1/shares/{id}/open, loopback (ms; CPU % of one core)",
        title_justify="left",
    )
    names = ("clients", "done", "per s", "p50", "p90", "p99", "max", "non-200", "not VALID")
    for name in (*names, "CPU server", "anvil", "bench", "server CPU ms each"):
        table.add_column(name, justify="right")
    for level in figures.levels:
        cpu = level.cpu_percent
        table.add_row(
            str(level.concurrency),
            f"{level.requests}{'*' if level.time_capped else ''}",
            f"{level.per_second:.1f}",
            *(f"{v:.0f}" for v in (level.p50_ms, level.p90_ms, level.p99_ms, level.max_ms)),
            str(level.non_200),
            str(level.not_valid),
            *(f"{cpu.get(k, math.nan):.0f}" for k in ("server", "anvil", "clients")),
            f"{10 * cpu.get('server', math.nan) * level.seconds / max(1, level.requests):.0f}",
        )
    if any(level.time_capped for level in figures.levels):
        table.caption = "* stopped by the time cap (--max-seconds)"
    return table


def _load(load: tuple[float, float, float]) -> str:
    return " ".join(f"{v:.2f}" for v in load)


def unexpected_answers(figures: Figures) -> list[str]:
    """One line per level that saw anything but 200 VALID, with what it saw instead."""
    return [
        f"{level.concurrency} clients: statuses {level.statuses}, verdicts {level.verdicts}"
        for level in figures.levels
        if level.non_200 or level.not_valid
    ]


# --- running it -----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """--count, --concurrency, --requests, --max-seconds, --repeats and --json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20, help="certificates and shares (20)")
    parser.add_argument("--concurrency", default="1,4,16", help="clients per level (1,4,16)")
    parser.add_argument("--requests", type=int, default=200, help="openings per level (200)")
    parser.add_argument(
        "--max-seconds", type=float, default=120.0, help="cap on all levels together (120)"
    )
    parser.add_argument("--repeats", type=int, default=20, help="runs of each timed part (20)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    try:
        args.concurrency = [int(c) for c in args.concurrency.split(",")]
    except ValueError:
        parser.error("--concurrency takes a comma-separated list of integers, e.g. 1,4,16")
    if min(args.count, args.requests, args.repeats, *args.concurrency) < 1:
        parser.error("--count, --requests, --repeats and each concurrency must be at least 1")
    if max(args.concurrency) > 256 or args.requests > 100_000 or not 0 < args.max_seconds <= 3600:
        parser.error("at most 256 clients, 100000 openings per level and 3600 s in all")
    return args


def run(args: argparse.Namespace) -> Figures:
    """Build the set-up, issue, serve, share, measure; tear it all down."""
    figures = Figures(
        cores=os.cpu_count() or 1,
        python=platform.python_version(),
        count=args.count,
        load_before=os.getloadavg(),
    )
    with bench_issuance.throwaway_setup() as setup:
        log.print(f"set-up ready in {setup.root}; anvil at {setup.rpc_url}")
        run_dir = setup.root / "sceau"
        run_dir.mkdir()  # SQLite does not create the folder of an absolute path
        settings = bench_issuance.settings_for(setup, run_dir, workers=figures.cores)
        log.print(f"issuing {args.count} certificates through the pipeline...")
        figures.issuance_seconds = issue_certificates(settings, args.count)
        delivered = read_outbox(settings.mail.outbox)
        figures.signed_pdf_bytes = len(delivered[0].pdf)
        config = write_config(settings, setup.root / "sceau.toml")
        port = bench_issuance.free_port()
        with running_server(config, port, setup.root / "server.log") as server:
            log.print(f"server at {server.base_url}; creating {len(delivered)} shares...")
            shares = create_shares(server.base_url, delivered)
            figures.warm_up_ms, figures.response_bytes = warm_up(server.base_url, shares)
            log.print("timing the parts in this process (server idle)...")
            measure_parts(figures, settings, delivered[0], shares[0], args.repeats)
            anvil_pid = int((setup.root / "chain" / "anvil.pid").read_text())
            measure_levels(figures, args, server, anvil_pid, shares)
    figures.load_after = os.getloadavg()
    return figures


def measure_levels(
    figures: Figures,
    args: argparse.Namespace,
    server: Server,
    anvil_pid: int,
    shares: list[tuple[str, str]],
) -> None:
    """Each level in turn; the time left is shared evenly among the levels still to run."""
    ends = time.monotonic() + args.max_seconds
    levels = args.concurrency
    for left, concurrency in zip(range(len(levels), 0, -1), levels, strict=True):
        load = LevelLoad(concurrency, args.requests, max(0.0, ends - time.monotonic()) / left)
        log.print(f"{concurrency} clients, {load.requests} openings (cap {load.budget:.0f} s)...")
        figures.levels.append(run_level(server, anvil_pid, shares, load))


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds through the clean-up, as Ctrl-C does


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the figures; return the exit code (130 on Ctrl-C)."""
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    try:
        figures = run(args)
    except KeyboardInterrupt:
        log.print("interrupted; server and anvil stopped, temp dir removed")
        return 130
    if args.json:
        print(json.dumps(asdict(figures), indent=2))
        return 0
    out = Console() if sys.stdout.isatty() else Console(width=120)  # whole tables in a file
    for table in (context_table(figures), parts_table(figures), levels_table(figures)):
        out.print(table)
    for line in unexpected_answers(figures):
        out.print(f"[bold red]unexpected answers[/] {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
