"""Imports started from the admin pages: one background thread each, run one at a time.

A job keeps its progress in memory (behind a lock) for the page to poll; what it issued is
durable in the database, so a server restart loses only the progress display, and the
next import (or `sceau resume`) finishes any batch a failed job left behind.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from contracts.errors import RegistryError
from issuer.delivery import DeliveryError
from issuer.errors import IssuanceError, SigningError
from issuer.intake import IntakeReport, RejectedRow, RepeatedResult
from issuer.pipeline import Issuance, Progress, run_batch, stage_results, unfinished_batches
from offchain_store.errors import StoreError
from sceau import compose
from sceau.settings import ConfigurationError, Settings

log = logging.getLogger("sceau.web.imports")

KEPT_JOBS = 100  # finished jobs beyond this many are forgotten, oldest first
IssuanceFactory = Callable[..., Issuance]

# What went wrong, by kind: the page names the kind in the reader's language, then the
# error's own plain-language message. Anything else is "internal", its message kept in the log.
ERROR_KINDS: tuple[tuple[type[BaseException], str], ...] = (
    (ConfigurationError, "configuration"),
    (RegistryError, "chain"),
    (SigningError, "signing"),
    (DeliveryError, "delivery"),
    (IssuanceError, "issuance"),
    (StoreError, "storage"),
)


JOB_PHASES = ("queued", "preparing", "staging", "sign", "anchor", "deliver", "done", "failed")


@dataclass(frozen=True)
class JobView:
    """A consistent copy of a job's state, for a page or its JSON."""

    id: str
    source_name: str
    phase: str  # one of JOB_PHASES
    done: int
    total: int
    batch: int
    batches: int
    finished: bool
    issued: int
    skipped: int
    resumed: int
    rejected: tuple[RejectedRow, ...]
    error_kind: str
    error_detail: str
    started_at: datetime
    repeats: tuple[RepeatedResult, ...] = ()  # identical rows: one certificate each
    ignored_columns: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.finished and not self.error_kind


@dataclass
class _Job:
    id: str
    source_name: str
    rejected: tuple[RejectedRow, ...]
    started_at: datetime
    repeats: tuple[RepeatedResult, ...] = ()
    ignored_columns: tuple[str, ...] = ()
    phase: str = "queued"
    done: int = 0
    total: int = 0
    batch: int = 0
    batches: int = 0
    finished: bool = False
    issued: int = 0
    skipped: int = 0
    resumed: int = 0
    error_kind: str = ""
    error_detail: str = ""

    def view(self) -> JobView:
        phase = self.phase
        if phase == "sign" and self.total and self.done >= self.total:
            phase = "anchor"  # signed and stored: sealing and anchoring report no steps
        return JobView(
            id=self.id,
            source_name=self.source_name,
            phase=phase,
            done=self.done,
            total=self.total,
            batch=self.batch,
            batches=self.batches,
            finished=self.finished,
            issued=self.issued,
            skipped=self.skipped,
            resumed=self.resumed,
            rejected=self.rejected,
            error_kind=self.error_kind,
            error_detail=self.error_detail,
            started_at=self.started_at,
            repeats=self.repeats,
            ignored_columns=self.ignored_columns,
        )


class JobProgress:
    """The pipeline's progress sink for one job (the Progress protocol)."""

    def __init__(self, jobs: ImportJobs, job_id: str) -> None:
        self._jobs, self._job_id = jobs, job_id

    def start(self, phase: str, total: int) -> None:
        self._jobs._update(self._job_id, phase=phase, total=total, done=0)

    def advance(self, phase: str, amount: int = 1) -> None:
        self._jobs._advance(self._job_id, phase, amount)


@dataclass
class ImportJobs:
    """The imports of one web app, in memory; their threads run one after another."""

    issuance: IssuanceFactory = compose.issuance
    _jobs: dict[str, _Job] = field(default_factory=dict)
    _threads: dict[str, threading.Thread] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    # One import at a time: two would race for the anchoring account's nonces.
    _running: threading.Lock = field(default_factory=threading.Lock)

    def start(self, settings: Settings, report: IntakeReport, source: bytes) -> JobView:
        """Issue the report's valid rows in a new thread; returns the job at once."""
        job = _Job(
            id=secrets.token_hex(16),
            source_name=report.source_name,
            rejected=tuple(report.rejected),
            started_at=datetime.now(UTC),
            repeats=tuple(report.repeats),
            ignored_columns=tuple(
                c.header for c in (report.columns.ignored if report.columns else ()) if c.header
            ),
        )
        thread = threading.Thread(
            target=self._run, args=(settings, job.id, report, source), name=f"import-{job.id[:8]}"
        )
        with self._lock:
            self._forget_old()
            self._jobs[job.id] = job
            self._threads[job.id] = thread
        thread.start()
        return job.view()

    def get(self, job_id: str) -> JobView | None:
        with self._lock:
            job = self._jobs.get(job_id)
            return job.view() if job else None

    def join(self, timeout: float | None = None) -> bool:
        """Wait for every job's thread; True when none is left running."""
        with self._lock:
            threads = list(self._threads.values())
        for thread in threads:
            thread.join(timeout)
        return not any(thread.is_alive() for thread in threads)

    def _run(self, settings: Settings, job_id: str, report: IntakeReport, source: bytes) -> None:
        with self._running:
            try:
                self._issue(settings, job_id, report, source)
            except Exception as error:
                self._fail(job_id, error)
            else:
                self._update(job_id, phase="done", finished=True)

    def _issue(self, settings: Settings, job_id: str, report: IntakeReport, source: bytes) -> None:
        self._update(job_id, phase="preparing")
        progress: Progress = JobProgress(self, job_id)
        issuance = self.issuance(settings, progress=progress)
        earlier = unfinished_batches(issuance)  # left by a failed import: finished first
        self._update(job_id, phase="staging", resumed=len(earlier))
        outcome = stage_results(issuance, report, source)
        batches = [*earlier, *outcome.batch_ids]
        self._update(job_id, batches=len(batches), skipped=len(outcome.duplicates))
        for number, batch_id in enumerate(batches, start=1):
            self._update(job_id, batch=number)
            run_batch(issuance, batch_id)
        self._update(job_id, issued=outcome.staged)

    def _fail(self, job_id: str, error: Exception) -> None:
        kind = next((k for t, k in ERROR_KINDS if isinstance(error, t)), "internal")
        if kind == "internal":
            log.error("import %s failed", job_id, exc_info=error)
            detail = ""
        else:
            log.warning("import %s failed: %s: %s", job_id, type(error).__name__, error)
            detail = str(error)
        self._update(job_id, phase="failed", finished=True, error_kind=kind, error_detail=detail)

    def _update(self, job_id: str, **changes: object) -> None:
        with self._lock:
            job = self._jobs.get(job_id)
            for name, value in changes.items() if job is not None else ():
                setattr(job, name, value)

    def _advance(self, job_id: str, phase: str, amount: int) -> None:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is not None and job.phase == phase:
                job.done = min(job.done + amount, job.total) if job.total else job.done + amount

    def _forget_old(self) -> None:
        finished = [j for j in self._jobs.values() if j.finished]
        for job in sorted(finished, key=lambda j: j.started_at)[
            : max(0, len(finished) - KEPT_JOBS)
        ]:
            del self._jobs[job.id]
            self._threads.pop(job.id, None)
