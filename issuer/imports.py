"""Issuing a results file, and import jobs whose progress lives in the database.

Any process reads a job (`import_job`); the process running it beats it while it works, so a
job whose process died shows as interrupted once its beat is older than `JOB_LEASE`, and its
batches are finished by `sceau resume` or a worker, never left "running" forever.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from issuer.intake import IntakeReport, RejectedRow, RepeatedResult
from issuer.pipeline import Issuance, StageOutcome, stage_results, unfinished_batches
from issuer.work_queue import WorkerOptions, run_worker
from offchain_store.import_jobs import (
    ImportJobRecord,
    add_job,
    change_job,
    forget_finished_jobs,
    job_record,
    recent_job_records,
    utc,
)
from offchain_store.work_claims import WorkerLockHeld

JOB_PHASES = (
    "queued",
    "preparing",
    "staging",
    "sign",
    "anchor",
    "deliver",
    "done",
    "enqueued",  # left to the worker already running (SQLite allows one)
    "failed",
    "interrupted",
)
JOB_BEAT_SECONDS = 10.0  # how often a running job says it is alive
JOB_LEASE = timedelta(seconds=90)  # silent this long: its process is taken as dead
log = logging.getLogger("issuer.imports")
KEPT_JOBS = 100  # finished jobs beyond this many are forgotten, oldest first
FLUSH_SECONDS = 0.5  # progress is written at most this often
Clock = Callable[[], datetime]


@dataclass(frozen=True)
class ImportJob:
    """A job as read from the database, for a page or its JSON."""

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


@dataclass(frozen=True)
class IssueOutcome:
    """What issuing a results file did."""

    resumed: int  # unfinished batches of earlier runs, finished with it
    batches: int  # batches staged from this file
    issued: int  # certificates staged from this file
    skipped: int  # rows issued by an earlier import
    left_to_worker: bool = False  # a worker already running (SQLite: the only one) issues them


def issue_results(
    issuance: Issuance,
    report: IntakeReport,
    source: bytes,
    *,
    on_staged: Callable[[StageOutcome], None] = lambda _staged: None,
) -> IssueOutcome:
    """Stage the report's valid rows (results issued before are skipped), then issue every
    unfinished batch beside any running workers; the `sceau issue` and admin-page flow."""
    earlier = unfinished_batches(issuance)
    staged = stage_results(issuance, report, source)
    on_staged(staged)
    outcome = IssueOutcome(
        resumed=len(earlier),
        batches=len(staged.batch_ids),
        issued=staged.staged,
        skipped=len(staged.duplicates),
    )
    try:
        run_worker(issuance, options=WorkerOptions(once=True), stop=threading.Event())
    except WorkerLockHeld:
        return dataclasses.replace(outcome, left_to_worker=True)
    return outcome


def open_job(engine: Engine, report: IntakeReport, *, issuer_id: str, now: datetime) -> ImportJob:
    """Record a new job for this report (queued), forgetting the oldest finished ones."""
    findings = {
        "rejected": [[r.line, r.result_id, list(r.reasons)] for r in report.rejected],
        "repeats": [[r.result_id, list(r.lines)] for r in report.repeats],
        "ignored_columns": [
            c.header for c in (report.columns.ignored if report.columns else ()) if c.header
        ],
    }
    record = ImportJobRecord(
        id=secrets.token_hex(16),
        issuer_id=issuer_id,
        source_name=report.source_name,
        findings=json.dumps(findings, ensure_ascii=False),
        started_at=now,
        beat_at=now,
    )
    forget_finished_jobs(engine, issuer_id=issuer_id, keep=KEPT_JOBS)
    add_job(engine, record)
    return _job(record, now)


def advance_job(engine: Engine, job_id: str, *, now: datetime, **progress: int | str) -> None:
    """Record how far a running job got (phase, done, total, batch...); it is alive."""
    change_job(engine, job_id, {**progress, "beat_at": now})


def finish_job(engine: Engine, job_id: str, outcome: IssueOutcome, *, now: datetime) -> None:
    change_job(
        engine,
        job_id,
        {
            "phase": "enqueued" if outcome.left_to_worker else "done",
            "finished": True,
            "issued": outcome.issued,
            "skipped": outcome.skipped,
            "resumed": outcome.resumed,
            "batch": outcome.resumed + outcome.batches,
            "batches": outcome.resumed + outcome.batches,
            "beat_at": now,
            "finished_at": now,
        },
    )


def fail_job(engine: Engine, job_id: str, *, kind: str, detail: str, now: datetime) -> None:
    """The job stopped on an error of this kind; `detail` is a plain-language message."""
    change_job(
        engine,
        job_id,
        {
            "phase": "failed",
            "finished": True,
            "error_kind": kind,
            "error_detail": detail,
            "beat_at": now,
            "finished_at": now,
        },
    )


def import_job(engine: Engine, job_id: str, *, now: datetime) -> ImportJob | None:
    """A job as any process sees it (interrupted when its process went silent)."""
    record = job_record(engine, job_id) if _is_id(job_id) else None
    return _job(record, now) if record is not None else None


def import_jobs(
    engine: Engine, *, issuer_id: str, now: datetime, limit: int = 20
) -> list[ImportJob]:
    """The latest jobs, newest first."""
    return [_job(r, now) for r in recent_job_records(engine, issuer_id=issuer_id, limit=limit)]


def _job(record: ImportJobRecord, now: datetime) -> ImportJob:
    findings: dict[str, Any] = json.loads(record.findings or "{}")
    phase, finished = record.phase, record.finished
    if not finished and utc(record.beat_at) < now - JOB_LEASE:
        phase, finished = "interrupted", True
    elif phase == "sign" and record.total and record.done >= record.total:
        phase = "anchor"  # signed and stored: sealing and anchoring report no steps
    return ImportJob(
        id=record.id,
        source_name=record.source_name,
        phase=phase,
        done=record.done,
        total=record.total,
        batch=record.batch,
        batches=record.batches,
        finished=finished,
        issued=record.issued,
        skipped=record.skipped,
        resumed=record.resumed,
        rejected=tuple(
            RejectedRow(line=line, result_id=rid, reasons=tuple(reasons))
            for line, rid, reasons in findings.get("rejected", ())
        ),
        error_kind="interrupted" if phase == "interrupted" else record.error_kind,
        error_detail=record.error_detail,
        started_at=utc(record.started_at),
        repeats=tuple(
            RepeatedResult(result_id=rid, lines=tuple(lines))
            for rid, lines in findings.get("repeats", ())
        ),
        ignored_columns=tuple(findings.get("ignored_columns", ())),
    )


def _is_id(value: str) -> bool:
    return len(value) == 32 and all(c in "0123456789abcdef" for c in value)


@dataclass
class JobProgress:
    """The pipeline's progress sink for one job (the Progress protocol), kept in memory.

    The pipeline reports from inside its own transactions: a write here would wait for them
    (SQLite has one writer), so `beating` writes the counts from its own thread instead."""

    _phase: str = ""
    _done: int = 0
    _total: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self, phase: str, total: int) -> None:
        with self._lock:
            self._phase, self._total, self._done = phase, total, 0

    def advance(self, phase: str, amount: int = 1) -> None:
        with self._lock:
            if phase == self._phase:
                done = self._done + amount
                self._done = min(done, self._total) if self._total else done

    def counts(self) -> dict[str, int | str]:
        with self._lock:
            if not self._phase:
                return {}
            return {"phase": self._phase, "done": self._done, "total": self._total}


@contextmanager
def beating(engine: Engine, job_id: str, progress: JobProgress, *, clock: Clock) -> Iterator[None]:
    """While the block runs, write the job's progress when it moves and beat it regularly,
    so that other processes see it alive (long chain waits report no progress)."""
    stop = threading.Event()

    def write(counts: dict[str, int | str]) -> None:
        try:
            change_job(engine, job_id, {**counts, "beat_at": clock()})
        except SQLAlchemyError as error:  # the next beat tries again; the job goes on
            log.warning("import %s: progress not recorded (%s)", job_id, type(error).__name__)

    def beat() -> None:
        written: dict[str, int | str] = {}
        beaten = time.monotonic()
        while not stop.wait(FLUSH_SECONDS):
            counts = progress.counts()
            if counts != written or time.monotonic() - beaten >= JOB_BEAT_SECONDS:
                write(counts)
                written, beaten = counts, time.monotonic()
        if progress.counts() != written:
            write(progress.counts())

    thread = threading.Thread(target=beat, name=f"beat-{job_id[:8]}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
