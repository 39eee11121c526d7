"""Imports started from the admin pages: one background thread each, run one at a time here.

The job and its progress live in the database (`issuer.imports`), so any server process
answers its page; this process only keeps the threads it started, to run and to join them.
Each job issues on the app's own engine and, given the app's `AppState.issuance`, on its one
unlock of the keystore and its one chain client.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.engine import Engine

from contracts.errors import RegistryError
from issuer.delivery import DeliveryError
from issuer.errors import IssuanceError, SigningError
from issuer.imports import (
    JOB_PHASES,
    ImportJob,
    IssueOutcome,
    JobProgress,
    advance_job,
    beating,
    fail_job,
    finish_job,
    import_job,
    issue_results,
    open_job,
)
from issuer.intake import IntakeReport
from issuer.pipeline import Issuance, Progress, StageOutcome
from offchain_store.errors import StoreError
from sceau import compose
from sceau.settings import ConfigurationError, Settings

__all__ = ["ERROR_KINDS", "JOB_PHASES", "ImportJobs", "JobView"]

log = logging.getLogger("sceau.web.imports")

IssuanceFactory = Callable[[Progress], Issuance]  # the process's issuance, with this progress
JobView = ImportJob  # the name the pages knew

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


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class ImportJobs:
    """Runs this process's imports in threads; their state is read back from the database."""

    # The app's (`AppState.issuance`); None: one built for each job on the app's engine.
    issuance: IssuanceFactory | None = None
    _threads: dict[str, threading.Thread] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    # One import at a time in this process: two would race for the anchoring account's nonces.
    _running: threading.Lock = field(default_factory=threading.Lock)

    def start(
        self, settings: Settings, engine: Engine, report: IntakeReport, source: bytes
    ) -> ImportJob:
        """Record the job, then issue the report's valid rows in a new thread."""
        job = open_job(engine, report, issuer_id=settings.issuer_id, now=_now())
        thread = threading.Thread(
            target=self._run,
            args=(settings, engine, job.id, report, source),
            name=f"import-{job.id[:8]}",
        )
        with self._lock:
            self._threads = {k: t for k, t in self._threads.items() if t.is_alive()}
            self._threads[job.id] = thread
        thread.start()
        return job

    def get(self, engine: Engine, job_id: str) -> ImportJob | None:
        """A job started by any process on this database."""
        return import_job(engine, job_id, now=_now())

    def join(self, timeout: float | None = None) -> bool:
        """Wait for this process's job threads; True when none is left running."""
        with self._lock:
            threads = list(self._threads.values())
        for thread in threads:
            thread.join(timeout)
        return not any(thread.is_alive() for thread in threads)

    def _run(
        self, settings: Settings, engine: Engine, job_id: str, report: IntakeReport, source: bytes
    ) -> None:
        progress = JobProgress()
        try:
            with beating(engine, job_id, progress, clock=_now), self._running:
                outcome = self._issue(settings, engine, job_id, progress, report, source)
        except Exception as error:
            self._fail(engine, job_id, error)
        else:
            finish_job(engine, job_id, outcome, now=_now())

    def _issue(
        self,
        settings: Settings,
        engine: Engine,
        job_id: str,
        progress: JobProgress,
        report: IntakeReport,
        source: bytes,
    ) -> IssueOutcome:
        advance_job(engine, job_id, now=_now(), phase="preparing")
        issuance = (
            self.issuance(progress)
            if self.issuance is not None
            else compose.issuance(settings, progress=progress, engine=engine)
        )
        advance_job(engine, job_id, now=_now(), phase="staging")

        def on_staged(staged: StageOutcome) -> None:
            batches = len(staged.batch_ids)
            advance_job(engine, job_id, now=_now(), batch=min(1, batches), batches=batches)

        return issue_results(issuance, report, source, on_staged=on_staged)

    def _fail(self, engine: Engine, job_id: str, error: Exception) -> None:
        kind = next((k for t, k in ERROR_KINDS if isinstance(error, t)), "internal")
        if kind == "internal":
            log.error("import %s failed", job_id, exc_info=error)
            detail = ""
        else:
            log.warning("import %s failed: %s: %s", job_id, type(error).__name__, error)
            detail = str(error)
        fail_job(engine, job_id, kind=kind, detail=detail, now=_now())
