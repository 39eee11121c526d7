"""A `sceau issue` killed with SIGKILL leaves no fork server and no signing worker behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import SceauEnv
from tests.sceau.helpers import REPO, subset_of_sample

ROWS = 24
WORKERS = 2


def _children() -> dict[int, list[int]]:
    """Every live process's children, read from /proc (zombies count as ended)."""
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        if state != "Z":
            tree.setdefault(int(ppid), []).append(int(entry.name))
    return tree


def _descendants(pid: int) -> set[int]:
    tree, found, todo = _children(), set(), [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _alive(pids: set[int]) -> set[int]:
    alive = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.add(pid)
    return alive


def test_sigkill_of_issue_leaves_no_process(sceau_env: SceauEnv) -> None:
    config = sceau_env.config_file
    config.write_text(config.read_text().replace("issue_workers = 1", f"issue_workers = {WORKERS}"))
    results = subset_of_sample(sceau_env.root / "results.csv", ROWS)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCEAU_")}
    issuing = subprocess.Popen(
        [sys.executable, "-m", "sceau", "--config", str(config), "issue", str(results)],
        cwd=REPO,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        seen: set[int] = set()
        deadline = time.monotonic() + 120  # a bound against a hang, not a speed measure
        while time.monotonic() < deadline and len(seen) < WORKERS + 1:
            assert issuing.poll() is None, "sceau issue ended before its workers started"
            seen |= _descendants(issuing.pid)
            time.sleep(0.05)
        assert len(seen) >= WORKERS + 1, f"expected a fork server and {WORKERS} workers: {seen}"
        seen |= _descendants(issuing.pid)
        os.kill(issuing.pid, signal.SIGKILL)
        issuing.wait()
        deadline = time.monotonic() + 30
        while _alive(seen) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _alive(seen) == set(), "processes left running after SIGKILL of sceau issue"
    finally:
        if issuing.poll() is None:
            issuing.kill()
        for pid in _alive(_descendants(issuing.pid)):
            os.kill(pid, signal.SIGKILL)
