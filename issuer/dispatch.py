"""Deliver anchored certificates: the signed PDF, the receipt and the private link, by e-mail;
for a candidate without an e-mail address, a printable letter in the batch's delivery pack."""

from __future__ import annotations

import json
import os
import tempfile
from collections import deque
from collections.abc import Iterator, Mapping
from concurrent.futures import (
    FIRST_EXCEPTION,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    wait,
)
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from contracts.profile import PROFILE_PATH
from contracts.receipt import Receipt, ReceiptIssuer
from issuer.anchoring import utc
from issuer.content import IssuerBranding
from issuer.delivery import FlatMessage, Language, candidate_language
from issuer.delivery_pack import DeliveryPacks, write_pack
from issuer.delivery_work import DeliveryWork, PreparedDelivery, open_sealed, prepare
from issuer.errors import IssuanceError
from issuer.pipeline import Issuance, staged_json, staged_link_key
from issuer.status_list import StatusListPolicy, receipt_status
from issuer.worker_lifetime import die_with_parent
from offchain_store.blobs import BlobStore
from offchain_store.crypto import LinkKey
from offchain_store.erasure import forget_erased_rows
from offchain_store.records import (
    BatchRecord,
    BatchState,
    CertificateRecord,
    CertificateState,
    KeyWrapRecord,
    WrapKind,
    utcnow,
)
from offchain_store.statuses import StatusSlotRecord

# Certificates delivered per commit. A crash re-sends at most this many messages (the same
# Message-ID and outbox file each time): delivery stays at least once, never lost.
DELIVER_GROUP = 16
# Messages built ahead per worker: each holds a PDF, so memory stays flat on large batches.
AHEAD_PER_WORKER = 4


def deliver_batch(issuance: Issuance, batch_id: str) -> int:
    """Deliver every anchored, undelivered certificate of the batch; returns how many.

    Candidates with an e-mail address get their message; the others a letter, gathered in the
    batch's delivery pack for an admin to hand over. With several workers, the messages are
    built in worker processes while this one sends and records them.
    """
    with Session(issuance.engine, expire_on_commit=False) as session:
        batch = session.get(BatchRecord, batch_id)
        if batch is None or batch.state not in (BatchState.ANCHORED, BatchState.DELIVERED):
            return 0
        query = select(CertificateRecord).where(
            CertificateRecord.batch_id == batch_id,
            CertificateRecord.state == CertificateState.ANCHORED,
        )
        # Held here, the batch's records, their status slots and their candidates' key wraps
        # are read in three queries and found in the session after (not one query each).
        held = session.exec(query).all()
        waiting = [cert.id for cert in held]
        held_slots = _batch_slots(session, batch_id)  # noqa: F841  # held, as said above
        wraps = _candidate_wraps(session, batch_id)
        issuance.progress.start("deliver", len(waiting))
        # Receipts are written and messages sent on threads, as many as the mailer's
        # connections (each waits on a flush to disk or on the relay); a group is recorded
        # and committed once all of its messages went.
        with ThreadPoolExecutor(issuance.mailer.connections, thread_name_prefix="send") as senders:
            sent: list[_Sending] = []
            try:
                for prepared, flat in _built(issuance, session, waiting, wraps):
                    future = senders.submit(send_delivery, issuance, prepared, flat)
                    sent.append(_Sending(prepared, flat, future))
                    if len(sent) >= DELIVER_GROUP:
                        group, sent = sent, []
                        _record_sent(issuance, session, group)
            finally:
                try:
                    # A certificate's records change only once its message is sent: what was
                    # delivered before a failure (the SMTP server down) is recorded as such.
                    _record_sent(issuance, session, sent)
                finally:
                    issuance.mailer.close()  # the batch's connections to the relay end here
    write_pack(delivery_packs(issuance), batch_id)  # removed again when no letter waits
    with Session(issuance.engine) as session:
        batch = session.get(BatchRecord, batch_id)
        assert batch is not None
        batch.state = BatchState.DELIVERED
        session.commit()
    if waiting:
        forget_erased_rows(issuance.engine)  # the wiped link keys leave no stale copy on disk
    return len(waiting)


@dataclass(frozen=True)
class _Sending:
    prepared: PreparedDelivery
    flat: FlatMessage | None
    future: Future[None]


def _record_sent(issuance: Issuance, session: Session, sent: list[_Sending]) -> None:
    """Once each of these has been sent (or failed), record those sent, and commit; then
    raise the first failure, if any. After a failure, those not yet started are not tried (a
    server that is down is not asked again for each message)."""
    _, not_done = wait([item.future for item in sent], return_when=FIRST_EXCEPTION)
    for future in not_done:
        future.cancel()
    wait(not_done)
    failure: BaseException | None = None
    for item in sent:
        if item.future.cancelled():
            continue
        issuance.fault("after_mail")  # sent, not yet recorded
        error = item.future.exception()
        if error is None:
            record_delivery(issuance, session, item.prepared, item.flat)
        elif failure is None:
            failure = error
    session.commit()
    if failure is not None:
        raise failure
    for _ in sent:
        issuance.fault("after_deliver")
        issuance.progress.advance("deliver")


def _batch_slots(session: Session, batch_id: str) -> list[StatusSlotRecord]:
    query = (
        select(StatusSlotRecord)
        .join(CertificateRecord, col(CertificateRecord.id) == StatusSlotRecord.certificate_id)
        .where(CertificateRecord.batch_id == batch_id)
    )
    return list(session.exec(query).all())


def _candidate_wraps(session: Session, batch_id: str) -> dict[str, bytes]:
    query = (
        select(KeyWrapRecord.certificate_id, KeyWrapRecord.wrapped)
        .join(CertificateRecord, col(CertificateRecord.id) == KeyWrapRecord.certificate_id)
        .where(
            CertificateRecord.batch_id == batch_id,
            CertificateRecord.state == CertificateState.ANCHORED,
            KeyWrapRecord.kind == WrapKind.CANDIDATE,
        )
    )
    return {cert_id: wrapped for cert_id, wrapped in session.exec(query).all()}


def _built(
    issuance: Issuance, session: Session, waiting: list[str], wraps: dict[str, bytes]
) -> Iterator[tuple[PreparedDelivery, FlatMessage | None]]:
    """Each certificate prepared, with its message built, in order."""
    if issuance.workers <= 1 or len(waiting) <= DELIVER_GROUP:
        for cert_id in waiting:
            yield prepare(gather_delivery(issuance, session, cert_id, wraps=wraps))
        return
    from issuer.signing_server import start_signing_server  # the one the signing used

    ahead: deque[Future[tuple[PreparedDelivery, FlatMessage | None]]] = deque()
    with ProcessPoolExecutor(
        max_workers=issuance.workers,
        mp_context=start_signing_server(),
        initializer=die_with_parent,
    ) as pool:
        try:
            for cert_id in waiting:
                work = gather_delivery(issuance, session, cert_id, wraps=wraps)
                ahead.append(pool.submit(prepare, work))
                if len(ahead) >= AHEAD_PER_WORKER * issuance.workers:
                    yield ahead.popleft().result()
            while ahead:
                yield ahead.popleft().result()
        finally:
            for future in ahead:  # a failure: do not build the rest in vain
                future.cancel()


def deliver_certificate(
    issuance: Issuance, cert_id: str, *, session: Session | None = None
) -> None:
    """Send one certificate to its candidate and forget the candidate's link key.

    Without an e-mail address, the certificate goes into its batch's delivery pack instead:
    the sealed link key is kept (the pack is built from it) until the hand-over is confirmed.
    With a `session`, the records change in it and the caller commits (see DELIVER_GROUP).
    """
    if session is None:
        with Session(issuance.engine) as own:
            deliver_certificate(issuance, cert_id, session=own)
            own.commit()
        return
    prepared, flat = prepare(gather_delivery(issuance, session, cert_id))
    send_delivery(issuance, prepared, flat)
    record_delivery(issuance, session, prepared, flat)


def gather_delivery(
    issuance: Issuance, session: Session, cert_id: str, *, wraps: Mapping[str, bytes] = {}
) -> DeliveryWork:
    """Read what the certificate's delivery needs (`wraps`: candidates' key wraps read ahead,
    by certificate id; the others are queried)."""
    cert = session.get(CertificateRecord, cert_id)
    if cert is None or cert.pending_link_key is None:
        raise IssuanceError(f"certificate {cert_id} cannot be delivered: no pending link")
    batch = session.get(BatchRecord, cert.batch_id)
    assert batch is not None
    link_key = staged_link_key(issuance, cert)
    wrapped = wraps.get(cert_id) or _candidate_wrap(session, cert_id)
    email = None
    if cert.candidate_email:
        email = {
            "to": cert.candidate_email,
            "candidate_name": _candidate_name(issuance, cert),
            "certificate_id": cert_id,
            "private_link": private_link(issuance.branding, cert_id, link_key),
            "issuer_name": issuance.branding.name,
            "sender": issuance.sender,
            "language": message_language(issuance, cert),
        }
    return DeliveryWork(
        cert_id=cert_id,
        link_token=link_key.to_token(),
        wrapped=wrapped,
        sealed_pdf=issuance.blobs.get(cert_id),
        receipt=receipt_fields(cert, batch, issuance.branding, session=session),
        email=email,
    )


def send_delivery(issuance: Issuance, prepared: PreparedDelivery, flat: FlatMessage | None) -> None:
    """Write the certificate's receipt, then send its built message (none for a letter).
    Changes no record (see :func:`record_delivery`); safe on several threads at once."""
    write_receipt_bytes(issuance.receipts_dir, prepared.cert_id, prepared.receipt_json)
    if flat is not None:
        issuance.mailer.send_flat(flat)


def record_delivery(
    issuance: Issuance, session: Session, prepared: PreparedDelivery, flat: FlatMessage | None
) -> None:
    """Record the certificate as delivered, once :func:`send_delivery` has sent it."""
    cert = session.get(CertificateRecord, prepared.cert_id)
    assert cert is not None
    if flat is not None:
        cert.pending_link_key = None
        cert.staged_content = None
    cert.state = CertificateState.DELIVERED
    cert.receipt = prepared.receipt_json.decode()
    cert.delivered_at = utcnow()


def message_language(issuance: Issuance, cert: CertificateRecord) -> Language:
    """The language of the candidate's e-mail or letter: the result's, else the issuer's."""
    return candidate_language(cert.language, _issuer_language(issuance))


def _issuer_language(issuance: Issuance) -> str:
    # Issuance.language comes from settings.issuer_language once the composition passes it.
    return issuance.language


def delivery_packs(issuance: Issuance) -> DeliveryPacks:
    """The delivery packs of this issuer's batches."""
    # Issuance.letters_dir comes from settings.letters_dir once the composition passes it;
    # until then the letters sit beside the receipts, in the same data folder.
    letters_dir = issuance.letters_dir or issuance.receipts_dir.parent / "letters"
    return DeliveryPacks(
        engine=issuance.engine,
        staging=issuance.staging,
        branding=issuance.branding,
        letters_dir=Path(letters_dir),
        issuer_language=_issuer_language(issuance),
    )


def open_with_link_key(
    blobs: BlobStore, session: Session, cert_id: str, link_key: LinkKey
) -> bytes:
    """Decrypt a stored certificate with the candidate's link key."""
    return open_sealed(cert_id, blobs.get(cert_id), _candidate_wrap(session, cert_id), link_key)


def _candidate_wrap(session: Session, cert_id: str) -> bytes:
    query = select(KeyWrapRecord.wrapped).where(
        KeyWrapRecord.certificate_id == cert_id, KeyWrapRecord.kind == WrapKind.CANDIDATE
    )
    wrapped = session.exec(query).first()
    if wrapped is None:
        raise IssuanceError(f"certificate {cert_id} has no candidate key wrap")
    return wrapped


def build_receipt(
    cert: CertificateRecord,
    batch: BatchRecord,
    branding: IssuerBranding,
    *,
    session: Session | None = None,
) -> Receipt:
    """The public receipt of an anchored certificate; with a `session`, it also says where the
    status list is and which entry is the certificate's (the slot drawn at sealing)."""
    return Receipt(**receipt_fields(cert, batch, branding, session=session))


def receipt_fields(
    cert: CertificateRecord,
    batch: BatchRecord,
    branding: IssuerBranding,
    *,
    session: Session | None = None,
) -> dict[str, Any]:
    """:func:`build_receipt`'s fields, not yet checked (a Receipt checks them as it is made)."""
    if batch.anchored_at is None or batch.block_number is None or batch.chain_id is None:
        raise IssuanceError(f"batch {batch.id} is not anchored yet")
    status = None
    if session is not None:
        policy = StatusListPolicy(public_base_url=branding.public_base_url)
        status = receipt_status(session, policy, issuer_id=cert.issuer_id, certificate_id=cert.id)
    return dict(
        status=status,
        certificate_id=cert.id,
        salt=cert.salt or "",
        pdf_sha256=cert.pdf_sha256 or "",
        leaf=cert.leaf or "",
        proof=tuple(json.loads(cert.proof or "[]")),
        root=batch.root or "",
        chain_id=batch.chain_id,
        contract=batch.contract_address or "",
        transaction=batch.tx_hash or "",
        block_number=batch.block_number,
        anchored_at=utc(batch.anchored_at),
        issuer=ReceiptIssuer(
            name=branding.name,
            profile_url=branding.public_base_url.rstrip("/") + PROFILE_PATH,
        ),
    )


def write_receipt_bytes(directory: Path, certificate_id: str, receipt_json: bytes) -> Path:
    """Write a receipt's JSON atomically as {id}.json (0600, in a 0700 folder)."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    target = directory / f"{certificate_id}.json"
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".receipt-")
    with os.fdopen(fd, "wb") as handle:
        handle.write(receipt_json)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, target)
    return target


def erase_receipt(directory: Path, certificate_id: str) -> bool:
    """Unlink a certificate's receipt file (and fsync its folder); returns whether there was one."""
    path = directory / f"{certificate_id}.json"
    if path.parent != directory or not certificate_id.isalnum():
        raise IssuanceError("a certificate id is 32 hex digits")
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    return True


def private_link(branding: IssuerBranding, cert_id: str, link_key: LinkKey) -> str:
    """The candidate's link; its key is in the fragment, which browsers never send."""
    return f"{branding.public_base_url.rstrip('/')}/me/{cert_id}#{link_key.to_token()}"


def _candidate_name(issuance: Issuance, cert: CertificateRecord) -> str:
    if cert.staged_content is None:
        return ""
    return str(json.loads(staged_json(issuance, cert)).get("candidate_name", ""))
