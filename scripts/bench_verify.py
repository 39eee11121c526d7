"""Benchmark verification: share links opened by concurrent employers over HTTP, each figure
beside its baseline measured in the same run.

Run it from the repository root (anvil must be installed by `npm ci`):

    .venv/bin/python scripts/bench_verify.py
    .venv/bin/python scripts/bench_verify.py --count 20 --concurrency 1,10,50 --requests 200 --json
    .venv/bin/python scripts/bench_verify.py --only-cli          # `sceau verify` alone, seconds

Printed beside their baselines (the goals of issue 14): share openings per second of one server
process, closed loop, at 1, 10 and 50 clients, beside pyHanko signature validations per second
of the same PDFs in this process (goal: at least 2 times at 10 clients); the p99 latency of 50
clients that each open a share once a second (goal: under 100 ms); `sceau verify` as a whole
process, median of 10, beside a bare `python -c "import pyhanko.sign.validation"` (goal: under
0.6 s and at most 3 times it). Every answer must be 200 VALID; any other is printed in red.

It builds the throw-away set-up of scripts/bench_issuance.py in a temp dir (dev PKI, keys, anvil
on a free 127.0.0.1 port with the registry deployed), issues N certificates through the real
pipeline, starts the real server (`python -m sceau serve`, its own process, so the load generator
does not share its GIL) on a free 127.0.0.1 port, creates one share per certificate through the
candidate API, then opens the shares with closed-loop concurrent clients and prints verifications
per second and latencies per concurrency level. Beside it, in this process and with the server
idle: the PAdES signature check alone, a chain read without and with a warm cache, the share
opening alone and one whole `verify_share`. The server, anvil and the temp dir are removed however
the run ends, Ctrl-C included. It measures; it asserts nothing about speed.

`--only-cli` measures `sceau verify` alone, in seconds, without anvil or a batch: the example of
docs/receipt.md (tests/assets/receipts/example) against a node in this process that replays its
recorded JSON-RPC exchanges (rpc.json), beside the bare pyHanko import, interleaved.
"""

from __future__ import annotations

import argparse
import email
import hashlib
import importlib.util
import itertools
import json
import math
import os
import platform
import re
import signal
import statistics
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
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType, ModuleType
from typing import TYPE_CHECKING, Any
from unittest import mock

from rich.console import Console
from rich.table import Table

from verifier.report import CheckStatus, Verdict
from verifier.rpc import ChainNode

if TYPE_CHECKING:
    import httpx

    from contracts.receipt import Receipt
    from sceau.settings import Settings
    from sceau.web.state import AppState

# The issuer, the server's state, web3 and httpx are imported by the functions that use them:
# `--only-cli` runs without them (they take seconds to import on a loaded machine).

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "tests" / "assets" / "receipts" / "example"
BARE_IMPORT = 'python -c "import pyhanko.sign.validation"'
SERVER_START_TIMEOUT = 60.0
REQUEST_TIMEOUT = 30.0
GOAL_OPENINGS_RATIO = 2.0  # share openings per second / pyHanko validations per second
GOAL_P99_MS = 100.0  # 50 clients, each opening a share once a second
GOAL_VERIFY_SECONDS = 0.6  # `sceau verify`, whole process, median of 10
GOAL_VERIFY_RATIO = 3.0  # … at most 3 times a bare `import pyhanko.sign.validation`
log = Console(stderr=True)


@cache
def _bench_issuance() -> ModuleType:
    """scripts/ is not a package: load the sibling benchmark from its path for its set-up."""
    path = Path(__file__).with_name("bench_issuance.py")
    spec = importlib.util.spec_from_file_location("bench_issuance", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


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
class ProcessFigures:
    """A command run as a whole process, `runs` times: median wall seconds, last exit code."""

    command: str
    runs: int
    median_s: float
    exit_code: int


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
    machine: str = ""
    validations_per_s: float = 0.0  # pyHanko validations of the same PDFs, this process
    paced: LevelFigures | None = None  # 50 clients, each opening once a second
    verify_processes: list[ProcessFigures] = field(default_factory=list)


# --- issuing and reading what was delivered -------------------------------------------------------


def issue_certificates(settings: Settings, count: int) -> float:
    """Issue `count` synthetic results through the real pipeline; the seconds it took."""
    from issuer.intake import parse_results
    from issuer.pipeline import run_batch, stage_results
    from sceau import compose

    source = _bench_issuance().synthetic_results(count, today=date.today())
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
    from contracts.receipt import Receipt

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


def write_config(settings: Settings, path: Path) -> Path:
    """The settings as a TOML file for the server (scripts/bench_issuance.py)."""
    written: Path = _bench_issuance().write_config(settings, path)
    return written


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
                _show_server_errors(log_file)
                server.terminate()
                try:
                    server.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    server.kill()
                    server.wait(timeout=10)
            finally:
                signal.signal(signal.SIGINT, previous)


# A logged failure: a level of ERROR or worse, or a traceback (not uvicorn's "uvicorn.error"
# logger name, which carries its ordinary INFO lines too).
SERVER_ERROR_LINE = re.compile(r"\b(ERROR|CRITICAL)\b|^Traceback ")


def _show_server_errors(log_file: Path) -> None:
    """The last errors the server logged, if any (then its answers were not all 200)."""
    lines = log_file.read_text(errors="replace").splitlines()
    errors = [n for n, line in enumerate(lines) if SERVER_ERROR_LINE.search(line)]
    if errors:
        last = errors[-1]
        log.print("[bold red]the server logged errors; the last of them:[/]")
        log.print("\n".join(lines[max(0, last - 5) : last + 30]), markup=False, highlight=False)


def _wait_until_serving(server: subprocess.Popen[bytes], base_url: str, log_file: Path) -> None:
    import httpx

    from contracts.profile import PROFILE_PATH

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
    import httpx

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
    from sceau.web.state import AppState

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
    from offchain_store.crypto import LinkKey
    from offchain_store.shares import open_share
    from verifier.chain import ChainCache, read_chain
    from verifier.checks.signature import check_signature, validate_signature
    from verifier.share_link import verify_share

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
            "PAdES check and signer (validate_signature)",
            lambda: validate_signature(
                pdf, trust_roots=roots, moment=moment, moment_source="receipt"
            ),
            "one parse; done once per PDF and profile",
        ),
        (
            "whole verify_share, in process, warm caches",
            lambda: verify_share(context, share_id=share_id, token=token, now=now, client="b"),
            "all of it, without HTTP",
        ),
    ]


@contextmanager
def counted_rpc_calls() -> Iterator[Counter[str]]:
    """Count the JSON-RPC methods the verifier's chain clients send while the block runs."""
    calls: Counter[str] = Counter()
    send = ChainNode.request

    def counted(node: ChainNode, method: str, params: list[Any]) -> Any:
        calls[str(method)] += 1
        return send(node, method, params)

    with mock.patch.object(ChainNode, "request", counted):
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
    import httpx

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
    import httpx

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


def run_paced_level(
    server: Server, anvil_pid: int, shares: list[tuple[str, str]], clients: int, seconds: float
) -> LevelFigures:
    """`clients` employers, each opening a share once a second (start times spread over the
    first second) for `seconds`: the latency an open loop of steady visitors sees."""
    import httpx

    answers = Answers()
    tickets = itertools.count()
    began = time.perf_counter()
    start = time.monotonic()
    rounds = max(1, int(seconds))
    limits = httpx.Limits(max_connections=clients)

    def employer(client: httpx.Client, n: int) -> None:
        for second in range(rounds):
            wait = start + second + n / clients - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            answers.note(*open_once(client, shares[next(tickets) % len(shares)]))

    pids = {"server": server.pid, "anvil": anvil_pid}
    cpu_before = _cpu_now(pids)
    with (
        httpx.Client(base_url=server.base_url, timeout=REQUEST_TIMEOUT, limits=limits) as client,
        ThreadPoolExecutor(max_workers=clients) as pool,
    ):
        for running in [pool.submit(employer, client, n) for n in range(clients)]:
            running.result()
    took = time.perf_counter() - began
    cpu_after = _cpu_now(pids)
    cpu = {name: 100 * (cpu_after[name] - cpu_before[name]) / took for name in cpu_after}
    return level_figures(LevelLoad(clients, clients * rounds, seconds), answers, took, cpu)


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
    import httpx

    with httpx.Client(base_url=base_url, timeout=REQUEST_TIMEOUT) as client:
        timings = [open_once(client, share) for share in shares]
        size = len(
            client.post(f"/api/v1/shares/{shares[0][0]}/open", json={"key": shares[0][1]}).content
        )
    bad = [t for t in timings if t[1] != "200" or t[2] != Verdict.VALID]
    if bad:
        raise SystemExit(f"warm-up openings did not all answer 200 VALID: {bad[:3]}")
    return [1000 * t[0] for t in timings], size


# --- the baselines: pyHanko alone, and a bare import -------------------------------------------


def measure_validations(
    delivered: list[Delivered], roots: tuple[bytes, ...], budget: float
) -> float:
    """pyHanko signature validations per second of the delivered PDFs, one thread, no cache:
    each PDF once at least, then round after round until `budget` seconds have passed."""
    from verifier.checks.signature import check_signature

    done, began = 0, time.perf_counter()
    while done < len(delivered) or time.perf_counter() - began < budget:
        item = delivered[done % len(delivered)]
        moment = item.receipt.anchored_at
        result = check_signature(item.pdf, trust_roots=roots, moment=moment, moment_source="r")
        if result.status is not CheckStatus.VALID:
            raise SystemExit(f"pyHanko says {result.code} of an issued PDF")
        done += 1
    return done / (time.perf_counter() - began)


def publish_profile(settings: Settings) -> bytes:
    """The issuer profile as a stranger receives it, its hash published by the registry's admin
    (anvil's development account, which deployed it), so that `sceau verify` can say VALID."""
    from contracts.client import RegistryClient, make_web3
    from contracts.localchain import dev_account
    from sceau import compose

    profile = compose.profile(settings).to_json()
    _chain_id, address = settings.resolved_chain()
    client = RegistryClient(
        web3=make_web3(settings.chain.rpc_url),
        address=address,
        account=dev_account(),
        poll_interval=0.05,
    )
    try:
        client.publish_profile(hashlib.sha256(profile).digest())
    except Exception as exc:  # a benchmark goes on: the verify runs then report ERROR
        log.print(f"[yellow]could not publish the profile's hash:[/] {type(exc).__name__}")
    return profile


def measure_processes(
    settings: Settings, item: Delivered, folder: Path, runs: int
) -> list[ProcessFigures]:
    """`sceau verify` of one issued certificate as a whole process beside a bare pyHanko import,
    each `runs` times, interleaved so that they share the load."""
    pdf, receipt, profile = folder / "c.pdf", folder / "r.json", folder / "p.json"
    pdf.write_bytes(item.pdf)
    receipt.write_bytes(item.receipt.to_json())
    profile.write_bytes(publish_profile(settings))
    return time_processes(verify_commands(pdf, receipt, profile, settings.chain.rpc_url), runs)


def measure_example_cli(runs: int) -> list[ProcessFigures]:
    """`sceau verify` of the docs' example against a node replaying its recorded exchanges."""
    with replayed_node(EXAMPLE / "rpc.json") as rpc_url:
        pdf, receipt, profile = (
            EXAMPLE / f for f in ("certificate.pdf", "receipt.json", "profile.json")
        )
        return time_processes(verify_commands(pdf, receipt, profile, rpc_url), runs)


def verify_commands(pdf: Path, receipt: Path, profile: Path, rpc_url: str) -> dict[str, list[str]]:
    """`sceau verify` as users run it (the console script of [project.scripts], next to this
    Python), and the bare import it is measured against."""
    args = [str(pdf), "--receipt", str(receipt), "--profile", str(profile)]
    args += ["--rpc", rpc_url, "--json"]
    script = Path(sys.executable).with_name("sceau")
    shown = script.relative_to(REPO) if script.is_relative_to(REPO) else script
    verify = (
        {f"{shown} verify …": [str(script), "verify", *args]}
        if script.is_file()
        else {"python -m sceau verify …": [sys.executable, "-m", "sceau", "verify", *args]}
    )
    return {**verify, BARE_IMPORT: [sys.executable, "-c", "import pyhanko.sign.validation"]}


def time_processes(commands: dict[str, list[str]], runs: int) -> list[ProcessFigures]:
    """Each command as a whole process, `runs` times, interleaved: median seconds, last exit."""
    seconds: dict[str, list[float]] = {name: [] for name in commands}
    exits: dict[str, int] = {}
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCEAU_")}
    for _ in range(runs):
        for name, command in commands.items():
            began = time.perf_counter()
            done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, timeout=120)
            seconds[name].append(time.perf_counter() - began)
            exits[name] = done.returncode
    return [
        ProcessFigures(name, runs, statistics.median(seconds[name]), exits[name])
        for name in commands
    ]


@contextmanager
def replayed_node(exchanges: Path) -> Iterator[str]:
    """A JSON-RPC node on a free 127.0.0.1 port, in a thread of this process, that answers each
    recorded request (same method and parameters, addresses in any case) with its recorded
    answer and anything else with a JSON-RPC error; its URL while the block runs."""
    recorded = {
        _exchange_key(e["request"]): e["response"] for e in json.loads(exchanges.read_text())
    }

    class Replay(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # kept alive, as a real node's

        def do_POST(self) -> None:
            request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            unknown = {"code": -32601, "message": "not in the recorded exchanges"}
            answer = recorded.get(_exchange_key(request), {"jsonrpc": "2.0", "error": unknown})
            body = json.dumps({**answer, "id": request.get("id")}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Replay)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _exchange_key(request: dict[str, Any]) -> tuple[str, str]:
    return str(request.get("method")), json.dumps(request.get("params"), sort_keys=True).lower()


# --- output ---------------------------------------------------------------------------------------


def context_table(figures: Figures) -> Table:
    """The machine, the set-up and the first openings."""
    table = Table(title="Sceau verification benchmark", title_justify="left")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row("machine", figures.machine)
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


def cli_context_table(figures: Figures) -> Table:
    """The machine and its load, for `--only-cli`."""
    table = Table(title="Sceau verify benchmark (the docs' example, replayed node)")
    table.title_justify = "left"
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row("machine", figures.machine)
    table.add_row("load average 1/5/15 min, before", _load(figures.load_before))
    table.add_row("load average 1/5/15 min, after", _load(figures.load_after))
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


def ratios_table(figures: Figures) -> Table:
    """Each figure beside its baseline of the same run, and the goal."""
    table = Table(title="Figures beside their baselines (same run)", title_justify="left")
    for name in ("figure", "value", "baseline", "ratio", "goal", "all 200 VALID"):
        table.add_column(name, justify="left" if name == "figure" else "right")
    base = figures.validations_per_s
    for level in figures.levels:
        table.add_row(
            f"openings/s, 1 server process, {level.concurrency} clients (closed loop)",
            f"{level.per_second:.1f}",
            f"{base:.1f} pyHanko validations/s",
            f"{level.per_second / base:.2f}" if base else "?",
            f"≥ {GOAL_OPENINGS_RATIO:.0f}" if level.concurrency == 10 else "",
            _all_valid(level),
        )
    if figures.paced is not None:
        paced = figures.paced
        table.add_row(
            f"p99, {paced.concurrency} clients each opening once a second",
            f"{paced.p99_ms:.0f} ms",
            f"p50 {paced.p50_ms:.0f} ms",
            "",
            f"< {GOAL_P99_MS:.0f} ms",
            _all_valid(paced),
        )
    bare = next((p for p in figures.verify_processes if "import pyhanko" in p.command), None)
    for run in figures.verify_processes:
        if run is bare:
            continue
        table.add_row(
            f"{run.command} (median of {run.runs}, exit {run.exit_code})",
            f"{run.median_s:.2f} s",
            f"{bare.median_s:.2f} s bare pyHanko import" if bare else "",
            f"{run.median_s / bare.median_s:.2f}" if bare else "",
            f"< {GOAL_VERIFY_SECONDS} s, ≤ {GOAL_VERIFY_RATIO:.0f}",
            "VALID" if run.exit_code == 0 else "no",
        )
    return table


def _all_valid(level: LevelFigures) -> str:
    return "yes" if not (level.non_200 or level.not_valid) else "[bold red]no[/]"


def _load(load: tuple[float, float, float]) -> str:
    return " ".join(f"{v:.2f}" for v in load)


def unexpected_answers(figures: Figures) -> list[str]:
    """One line per level that saw anything but 200 VALID, with what it saw instead."""
    return [
        f"{level.concurrency} clients: statuses {level.statuses}, verdicts {level.verdicts}"
        for level in (*figures.levels, *([figures.paced] if figures.paced else []))
        if level.non_200 or level.not_valid
    ]


# --- running it -----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """--count, --concurrency, --requests, --max-seconds, --repeats and --json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20, help="certificates and shares (20)")
    parser.add_argument("--concurrency", default="1,10,50", help="clients per level (1,10,50)")
    parser.add_argument("--requests", type=int, default=200, help="openings per level (200)")
    parser.add_argument(
        "--max-seconds", type=float, default=120.0, help="cap on all levels together (120)"
    )
    parser.add_argument("--repeats", type=int, default=20, help="runs of each timed part (20)")
    parser.add_argument(
        "--paced-seconds", type=float, default=20.0, help="seconds of the paced level (20; 0: none)"
    )
    parser.add_argument("--paced-clients", type=int, default=50, help="paced clients (50)")
    parser.add_argument(
        "--validation-seconds", type=float, default=10.0, help="pyHanko baseline budget (10 s)"
    )
    parser.add_argument(
        "--verify-runs", type=int, default=10, help="whole `sceau verify` processes (10; 0: none)"
    )
    parser.add_argument(
        "--only-cli",
        action="store_true",
        help="only `sceau verify` beside the bare import, on the docs' example (no anvil)",
    )
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
    if not 0 <= args.paced_seconds <= 600 or not 1 <= args.paced_clients <= 256:
        parser.error("--paced-seconds within 0..600, --paced-clients within 1..256")
    if not 0 < args.validation_seconds <= 600 or not 0 <= args.verify_runs <= 100:
        parser.error("--validation-seconds within 0..600, --verify-runs within 0..100")
    if args.only_cli and not args.verify_runs:
        parser.error("--only-cli needs --verify-runs of at least 1")
    return args


def _machine() -> str:
    """Cores, CPU model and Python, as scripts/bench_issuance.py's `machine` says them (that
    module imports the issuer, which `--only-cli` does without)."""
    model = platform.processor() or "unknown CPU"
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        cpuinfo = []
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo if "model name" in line), model)
    return f"{os.cpu_count() or 1} cores, {model}, Python {platform.python_version()}"


def run_only_cli(args: argparse.Namespace) -> Figures:
    """`sceau verify` of the docs' example beside the bare import; nothing issued or served."""
    figures = Figures(
        cores=os.cpu_count() or 1,
        python=platform.python_version(),
        count=0,
        load_before=os.getloadavg(),
        machine=_machine(),
    )
    log.print(f"`sceau verify` of {EXAMPLE.name} as a whole process, {args.verify_runs} times...")
    figures.verify_processes = measure_example_cli(args.verify_runs)
    figures.load_after = os.getloadavg()
    return figures


def run(args: argparse.Namespace) -> Figures:
    """Build the set-up, issue, serve, share, measure; tear it all down."""
    from sceau import compose

    figures = Figures(
        cores=os.cpu_count() or 1,
        python=platform.python_version(),
        count=args.count,
        load_before=os.getloadavg(),
        machine=_bench_issuance().machine(),
    )
    with _bench_issuance().throwaway_setup() as setup:
        log.print(f"set-up ready in {setup.root}; anvil at {setup.rpc_url}")
        run_dir = setup.root / "sceau"
        run_dir.mkdir()  # SQLite does not create the folder of an absolute path
        settings = _bench_issuance().settings_for(setup, run_dir, workers=figures.cores)
        log.print(f"issuing {args.count} certificates through the pipeline...")
        figures.issuance_seconds = issue_certificates(settings, args.count)
        delivered = read_outbox(settings.mail.outbox)
        figures.signed_pdf_bytes = len(delivered[0].pdf)
        config = write_config(settings, setup.root / "sceau.toml")
        port = _bench_issuance().free_port()
        with running_server(config, port, setup.root / "server.log") as server:
            log.print(f"server at {server.base_url}; creating {len(delivered)} shares...")
            shares = create_shares(server.base_url, delivered)
            figures.warm_up_ms, figures.response_bytes = warm_up(server.base_url, shares)
            log.print("timing the parts in this process (server idle)...")
            measure_parts(figures, settings, delivered[0], shares[0], args.repeats)
            log.print("pyHanko validations of the same PDFs, this process (server idle)...")
            roots = compose.profile(settings).trust_roots_der()
            figures.validations_per_s = measure_validations(
                delivered, roots, args.validation_seconds
            )
            anvil_pid = int((setup.root / "chain" / "anvil.pid").read_text())
            measure_levels(figures, args, server, anvil_pid, shares)
            if args.paced_seconds:
                log.print(f"{args.paced_clients} clients, each once a second...")
                figures.paced = run_paced_level(
                    server, anvil_pid, shares, args.paced_clients, args.paced_seconds
                )
        if args.verify_runs:
            log.print(f"`sceau verify` as a whole process, {args.verify_runs} times...")
            figures.verify_processes = measure_processes(
                settings, delivered[0], setup.root, args.verify_runs
            )
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
        figures = run_only_cli(args) if args.only_cli else run(args)
    except KeyboardInterrupt:
        log.print("interrupted; server and anvil stopped, temp dir removed")
        return 130
    if args.json:
        print(json.dumps(asdict(figures), indent=2))
        return 0
    out = Console() if sys.stdout.isatty() else Console(width=120)  # whole tables in a file
    if args.only_cli:
        out.print(cli_context_table(figures))
        out.print(ratios_table(figures))
        return 0
    tables = (context_table(figures), parts_table(figures), levels_table(figures))
    for table in (*tables, ratios_table(figures)):
        out.print(table)
    for line in unexpected_answers(figures):
        out.print(f"[bold red]unexpected answers[/] {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
