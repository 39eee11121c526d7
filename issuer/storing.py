"""Render, sign (in a process pool: signing is the bottleneck), encrypt and store certificates.

When the time-stamping authority or a revocation service is down, the batch waits and retries
with growing delays; past the budget it stops, resumable, rather than store a weaker PDF.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, insert
from sqlmodel import Session, col, select

from contracts.keccak import bulk_keccak256
from contracts.merkle import leaf_hash
from issuer.errors import IssuanceError
from issuer.pipeline import Issuance, staged_json
from issuer.signing_server import start_signing_server
from issuer.signing_worker import init_pool_worker, init_worker, render_and_sign
from issuer.trust_services import SigningServiceUnavailable
from offchain_store.blobs import BlobStore, WriteBehind
from offchain_store.crypto import (
    encrypt_document,
    new_data_key,
    new_link_key,
    seal_data_key_for_recovery,
    wrap_data_key,
)
from offchain_store.records import CertificateRecord, CertificateState, KeyWrapRecord, WrapKind
from offchain_store.wallet_offers import keep_wallet_claims

# How long a batch waits, in all, for a time-stamping authority or OCSP/CRL server to come back.
SIGNING_RETRY_SECONDS = 900.0
FIRST_RETRY_DELAY_SECONDS = 2.0
LONGEST_RETRY_DELAY_SECONDS = 60.0
# Certificates stored per commit: a crash signs at most this many again.
STORE_GROUP = 16


def sign_and_store_batch(
    issuance: Issuance,
    batch_id: str,
    *,
    retry_seconds: float = SIGNING_RETRY_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Sign and store every certificate of the batch still waiting; returns how many.

    Raises SigningServiceUnavailable if a signing service stays down longer than
    `retry_seconds`; what was stored stays stored and `resume` finishes the batch.
    """
    with SigningPool(issuance) as pool:
        return _sign_and_store_all(
            issuance,
            lambda: _pending(issuance, CertificateRecord.batch_id == batch_id),
            pool=pool,
            retry_seconds=retry_seconds,
            sleep=sleep,
            announce=True,
        )


def sign_and_store_certificates(
    issuance: Issuance,
    cert_ids: list[str],
    *,
    pool: SigningPool,
    on_stored: Callable[[], None] = lambda: None,
    retry_seconds: float = SIGNING_RETRY_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Sign and store those of these (claimed) certificates still waiting; returns how many
    this call stored (a certificate another worker stored first is left as it is).

    `on_stored` is called at each commit that stored one, so a count survives a failure."""
    return _sign_and_store_all(
        issuance,
        lambda: _pending(issuance, col(CertificateRecord.id).in_(cert_ids)),
        pool=pool,
        retry_seconds=retry_seconds,
        sleep=sleep,
        announce=False,  # the worker announces the batch's whole count once
        on_stored=on_stored,
    )


def _sign_and_store_all(
    issuance: Issuance,
    pending_now: Callable[[], list[tuple[str, str]]],
    *,
    pool: SigningPool,
    retry_seconds: float,
    sleep: Callable[[float], None],
    announce: bool,
    on_stored: Callable[[], None] = lambda: None,
) -> int:
    delays = retry_delays(retry_seconds)
    stored, started = 0, not announce
    while pending := pending_now():
        if not started:
            issuance.progress.start("sign", len(pending))
            started = True
        # One commit per group of STORE_GROUP signed PDFs (fewer at the end, or before a
        # wait for a signing service): a crash loses at most the uncommitted group, signed
        # again by the next run.
        ours, outage = _store_as_signed(issuance, pool.sign(pending), on_stored)
        stored += ours  # what was signed before an outage stays stored
        if outage is not None:
            _wait_for_service(issuance, outage, next(delays, None), retry_seconds, sleep)
    return stored


def _store_as_signed(
    issuance: Issuance, signed: Iterator[Signed], on_stored: Callable[[], None]
) -> tuple[int, SigningServiceUnavailable | None]:
    """Store the PDFs as they come, a group per commit; returns how many this call stored,
    and the outage of a signing service that stopped it early, if one did.

    The encrypted PDFs are written on I/O threads while the next ones are signed; a commit
    first waits for its group's writes: no record says "stored" before its blob."""
    stored = 0
    group: list[Signed] = []
    with (
        Session(issuance.engine, expire_on_commit=False) as session,
        WriteBehind(issuance.blobs) as blobs,
    ):

        def commit(group: list[Signed]) -> int:
            ours = store_signed_group(issuance, group, session=session, blobs=blobs)
            blobs.settle()
            session.commit()
            for _ in group:
                issuance.fault("after_store")
                issuance.progress.advance("sign")
            return _counted(ours, on_stored)

        try:
            for item in signed:
                issuance.fault("after_sign")
                group.append(item)
                if len(group) >= STORE_GROUP:
                    stored += commit(group)
                    group = []
        except SigningServiceUnavailable as error:
            return stored + commit(group), error
        return stored + commit(group), None


def _counted(stored: int, on_stored: Callable[[], None]) -> int:
    for _ in range(stored):
        on_stored()
    return stored


def _pending(issuance: Issuance, which: Any) -> list[tuple[str, str]]:
    with Session(issuance.engine) as session:
        query = select(CertificateRecord).where(
            which, CertificateRecord.state == CertificateState.IMPORTED
        )
        return [(c.id, staged_json(issuance, c)) for c in session.exec(query).all()]


def _wait_for_service(
    issuance: Issuance,
    error: SigningServiceUnavailable,
    delay: float | None,
    budget: float,
    sleep: Callable[[float], None],
) -> None:
    """Say what the batch waits for, and wait; past the budget, give up (resumable)."""
    if delay is None:
        raise SigningServiceUnavailable(
            f"{error}; still down after {budget:.0f} s of retries. Nothing weaker was signed: "
            "run `sceau resume` once the service is back"
        ) from error
    issuance.progress.start(f"waiting: {error}; retrying in {delay:.0f} s", 0)
    sleep(delay)


def retry_delays(
    total: float,
    *,
    first: float = FIRST_RETRY_DELAY_SECONDS,
    longest: float = LONGEST_RETRY_DELAY_SECONDS,
) -> Iterator[float]:
    """Exponential backoff: first, 2 × first, ... capped at `longest`, adding up to `total`."""
    waited, delay = 0.0, first
    while waited < total:
        step = min(delay, longest, total - waited)
        yield step
        waited += step
        delay *= 2


Signed = tuple[str, bytes]  # certificate id, signed PDF


class SigningPool:
    """The render-and-sign processes (one per core given), kept for as long as it is open."""

    def __init__(self, issuance: Issuance) -> None:
        self._issuance = issuance
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> SigningPool:
        issuance = self._issuance
        if issuance.workers <= 1:
            init_worker(issuance.signing, issuance.branding, issuance.design)
        else:
            self._pool = ProcessPoolExecutor(
                max_workers=issuance.workers,
                mp_context=start_signing_server(),
                initializer=init_pool_worker,
                initargs=(issuance.signing, issuance.branding, issuance.design),
            )
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def sign(self, pending: list[tuple[str, str]]) -> Iterator[Signed]:
        """Each certificate rendered and signed, as soon as it is ready."""
        if self._pool is None:
            for cert_id, content in pending:
                yield render_and_sign(cert_id, content)
            return
        yield from _bounded_map(self._pool, pending, window=4 * self._issuance.workers)


def _bounded_map(
    pool: ProcessPoolExecutor, pending: list[tuple[str, str]], *, window: int
) -> Iterator[Signed]:
    """Keep at most `window` PDFs in flight so memory stays flat on large batches."""
    todo = iter(pending)
    running: set[Future[tuple[str, bytes]]] = set()
    try:
        for cert_id, content in todo:
            running.add(pool.submit(render_and_sign, cert_id, content))
            if len(running) >= window:
                done, running = wait(running, return_when=FIRST_COMPLETED)
                yield from (future.result() for future in done)
        while running:
            done, running = wait(running, return_when=FIRST_COMPLETED)
            yield from (future.result() for future in done)
    finally:
        for future in running:  # a failure (e.g. the TSA is down): do not sign the rest in vain
            future.cancel()


def store_signed_pdf(
    issuance: Issuance,
    cert_id: str,
    pdf: bytes,
    *,
    session: Session | None = None,
) -> bool:
    """Encrypt under a fresh data key, store it, and wrap the key for the candidate and recovery.

    Returns False, storing nothing, when the certificate was stored already (another worker
    signed it first): a certificate is stored once. With a `session`, the records are changed
    in it and the caller commits.
    """
    if session is None:
        with Session(issuance.engine) as own:
            done = store_signed_pdf(issuance, cert_id, pdf, session=own)
            own.commit()
        return done
    return store_signed_group(issuance, [(cert_id, pdf)], session=session) == 1


def store_signed_group(
    issuance: Issuance,
    signed: list[tuple[str, bytes]],
    *,
    session: Session,
    blobs: BlobStore | None = None,
) -> int:
    """:func:`store_signed_pdf` for several certificates at once, in a few statements; the
    caller commits. Returns how many it stored (those stored already are left as they are)."""
    if not signed:
        return 0
    blobs = blobs or issuance.blobs
    bulk_keccak256()  # loaded once, C Keccak hashes each leaf (the pure Python one takes 1 ms)
    # The row locks (taken in id order, so two signers never wait on each other in a circle)
    # make a second signer wait here, then find the certificates stored.
    query = (
        select(CertificateRecord)
        .where(col(CertificateRecord.id).in_([cert_id for cert_id, _ in signed]))
        .order_by(col(CertificateRecord.id))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    records = {record.id: record for record in session.exec(query).all()}
    wraps: list[dict[str, Any]] = []
    stored_ids: list[str] = []
    now = datetime.now(UTC)
    for cert_id, pdf in signed:
        record = records.get(cert_id)
        if record is None:
            raise IssuanceError(f"no certificate {cert_id} to store")
        if record.state != CertificateState.IMPORTED:
            continue
        cert_bytes = bytes.fromhex(cert_id)
        data_key, link_key = new_data_key(), new_link_key()
        blobs.put(cert_id, encrypt_document(pdf, data_key, associated_data=cert_bytes))
        # What the certificate says, for its wallet credential: under the same data key, so
        # the same links open it and the same shredding destroys it.
        keep_wallet_claims(blobs, cert_id, staged_json(issuance, record).encode(), data_key)
        salt = secrets.token_bytes(32)
        digest = hashlib.sha256(pdf).digest()
        for kind, wrapped in (
            (WrapKind.CANDIDATE, wrap_data_key(data_key, link_key, associated_data=cert_bytes)),
            (WrapKind.RECOVERY, seal_data_key_for_recovery(data_key, issuance.recovery_public_key)),
        ):
            wraps.append(
                {"certificate_id": cert_id, "kind": kind, "wrapped": wrapped, "created_at": now}
            )
        record.pdf_sha256 = digest.hex()
        record.salt = "0x" + salt.hex()
        record.leaf = "0x" + leaf_hash(cert_bytes, salt, digest).hex()
        record.pending_link_key = issuance.staging.seal(
            link_key.to_token(), record_id=cert_id, field="link"
        )
        record.state = CertificateState.STORED
        record.stored_at = now
        stored_ids.append(cert_id)
    if not stored_ids:
        return 0
    # Wraps left by an earlier, interrupted attempt give way to this one's.
    session.execute(delete(KeyWrapRecord).where(col(KeyWrapRecord.certificate_id).in_(stored_ids)))
    session.execute(insert(KeyWrapRecord), wraps)
    return len(stored_ids)
