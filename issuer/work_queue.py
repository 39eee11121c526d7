"""Issuing workers: take certificates to sign and batches to seal, anchor and deliver from the
database, so several processes (on one machine or several) share one results file.

Work is claimed in leased pieces (offchain_store.work_claims): a worker killed mid-way leaves
leases that run out, and its pieces are taken again. Every step stays idempotent (a certificate
is stored once, a batch is anchored by one transaction), so a piece done twice does no harm.
A database that goes away (a PostgreSQL restart) is waited for, with backoff, not a crash.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from issuer.anchoring import anchor_batch, seal_batch
from issuer.batches import BatchProgress, batch_progress
from issuer.dispatch import deliver_batch
from issuer.pipeline import Issuance, unfinished_batches
from issuer.storing import (
    SigningPool,
    retry_delays,
    sign_and_store_certificates,
)
from offchain_store.blobs import FilesystemBlobStore
from offchain_store.records import CertificateRecord
from offchain_store.schema import DRIVER_UNREACHABLE, DatabaseUnreachable
from offchain_store.work_claims import (
    DEFAULT_LEASE_SECONDS,
    ClaimKind,
    WorkClaims,
    single_worker_lock,
)

logger = logging.getLogger(__name__)

# How long a worker waits, in all, for an unreachable database before it gives up.
DATABASE_RETRY_SECONDS = 3600.0

Say = Callable[[str], None]  # where the worker tells what it did (a console, a log)
T = TypeVar("T")


@dataclass(frozen=True, kw_only=True)
class WorkerOptions:
    """How a worker runs: until stopped, or `once` (until nothing is left, for tests and cron)."""

    once: bool = False
    lease_seconds: float = DEFAULT_LEASE_SECONDS
    poll_seconds: float = 2.0
    claim_size: int | None = None  # certificates per claim; None: 32 per signing process


@dataclass
class WorkerSummary:
    """What one worker run did."""

    stored: int = 0  # certificates this worker signed and stored
    delivered_batches: list[str] = field(default_factory=list)

    def count_stored(self) -> None:
        self.stored += 1


def run_worker(
    issuance: Issuance,
    *,
    options: WorkerOptions,
    stop: threading.Event,
    say: Say = logger.info,
) -> WorkerSummary:
    """Work until `stop` is set (or, with `once`, until no batch is left unfinished).

    On SQLite raises WorkerLockHeld when another worker already runs on the database.
    """
    claims = WorkClaims(
        engine=issuance.engine, issuer_id=issuance.issuer_id, lease_seconds=options.lease_seconds
    )
    summary = WorkerSummary()
    if isinstance(issuance.blobs, FilesystemBlobStore):
        # Writes cut short by a killed process leave temporary files; an hour old, none is
        # still being written.
        swept = issuance.blobs.sweep_temp_files()
        if swept:
            say(f"removed {swept} temporary file(s) left in the blob store by a stopped process")
    with single_worker_lock(issuance.engine):
        if issuance.engine.dialect.name == "sqlite":
            claims.forget_every_claim()  # one worker at a time: these are a dead one's
        with _heartbeat(claims, every=options.lease_seconds / 3), SigningPool(issuance) as pool:
            try:
                _loop(issuance, claims, pool, options, stop, say, summary)
            finally:
                _release_quietly(claims)
    return summary


def _loop(
    issuance: Issuance,
    claims: WorkClaims,
    pool: SigningPool,
    options: WorkerOptions,
    stop: threading.Event,
    say: Say,
    summary: WorkerSummary,
) -> None:
    claim_size = options.claim_size or max(16, 32 * issuance.workers)
    announced: set[str] = set()
    outage = retry_delays(DATABASE_RETRY_SECONDS)
    while not stop.is_set():
        try:
            did = _work_once(issuance, claims, pool, claim_size, say, summary, announced)
            if not did and options.once and not unfinished_batches(issuance):
                return
        except Exception as error:  # only a database outage is waited for; the rest raises
            if not database_outage(error):
                raise
            _wait_for_database(error, next(outage, None), stop, say)
            continue
        outage = retry_delays(DATABASE_RETRY_SECONDS)  # reachable again: a fresh budget
        if not did:
            stop.wait(options.poll_seconds)


def _work_once(
    issuance: Issuance,
    claims: WorkClaims,
    pool: SigningPool,
    claim_size: int,
    say: Say,
    summary: WorkerSummary,
    announced: set[str],
) -> bool:
    """Do one claimed piece of work; False when nothing could be claimed."""
    cert_ids = claims.claim_certificates(claim_size)
    if cert_ids:
        batch_id = _batch_of(issuance, cert_ids[0])
        if batch_id not in announced:
            announced.add(batch_id)
            progress = _progress(issuance, batch_id)
            issuance.progress.start("sign", progress.certificates - progress.signed)
        sign_and_store_certificates(issuance, cert_ids, pool=pool, on_stored=summary.count_stored)
        claims.release(ClaimKind.CERTIFICATE, cert_ids)
        say(progress_line(_progress(issuance, batch_id)))
        return True
    ready = claims.claim_batch()
    if ready is None:
        return False
    seal_batch(issuance, ready)
    anchor_batch(issuance, ready)
    deliver_batch(issuance, ready)
    claims.release(ClaimKind.BATCH, [ready])
    summary.delivered_batches.append(ready)
    say(progress_line(_progress(issuance, ready)))
    return True


def progress_line(progress: BatchProgress) -> str:
    """One line for an admin, e.g. "batch 1f…: anchoring, 120/120 signed, 0/120 delivered"."""
    total = progress.certificates
    return (
        f"batch {progress.batch_id}: {progress.state.value}, {progress.signed}/{total} signed, "
        f"{progress.delivered}/{total} delivered"
    )


def _progress(issuance: Issuance, batch_id: str) -> BatchProgress:
    found = batch_progress(issuance.engine, batch_id)
    assert found is not None  # a batch with claimed work is never deleted
    return found


def _batch_of(issuance: Issuance, cert_id: str) -> str:
    with Session(issuance.engine) as session:
        record = session.get(CertificateRecord, cert_id)
        assert record is not None  # claimed rows are never deleted before they are stored
        return record.batch_id


def when_database_answers(step: Callable[[], T], *, stop: threading.Event, say: Say) -> T:
    """Run `step`, waiting (with backoff) while the database is unreachable: a worker that
    starts while PostgreSQL restarts waits for it rather than exit."""
    outage = retry_delays(DATABASE_RETRY_SECONDS)
    while True:
        try:
            return step()
        except Exception as error:
            if not database_outage(error) or stop.is_set():
                raise
            _wait_for_database(error, next(outage, None), stop, say)


def database_outage(error: BaseException) -> bool:
    """Whether `error` says the database could not be reached (down, restarting, cut off)."""
    if isinstance(error, (DatabaseUnreachable, *DRIVER_UNREACHABLE)):
        return True
    return isinstance(error, DBAPIError) and error.connection_invalidated


def _wait_for_database(
    error: Exception, delay: float | None, stop: threading.Event, say: Say
) -> None:
    """Say that the database is unreachable and wait; past the budget, give up."""
    if delay is None:
        raise error
    said = str(getattr(error, "orig", None) or error).strip().splitlines()
    reason = said[0] if said else type(error).__name__
    say(f"database unreachable ({reason}); retrying in {delay:.0f} s, no work is lost")
    stop.wait(delay)


@contextmanager
def _heartbeat(claims: WorkClaims, *, every: float) -> Iterator[None]:
    """Renew this worker's leases from a thread while it works (so long steps keep them)."""
    done = threading.Event()

    def beat() -> None:
        while not done.wait(every):
            try:
                claims.renew()
            except DBAPIError as error:  # the main loop reports and waits for the database
                logger.debug("lease renewal failed: %s", type(error).__name__)

    thread = threading.Thread(target=beat, name="sceau-worker-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


def _release_quietly(claims: WorkClaims) -> None:
    """Give back what this worker still holds; if the database is down, the leases expire."""
    try:
        claims.release_all()
    except DBAPIError:
        logger.warning("could not release this worker's claims; they expire by themselves")
