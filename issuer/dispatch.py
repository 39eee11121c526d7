"""Deliver anchored certificates: the signed PDF, the receipt and the private link, by e-mail."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from sqlmodel import Session, select

from contracts.profile import PROFILE_PATH
from contracts.receipt import Receipt, ReceiptIssuer
from issuer.anchoring import utc
from issuer.content import IssuerBranding
from issuer.delivery import build_delivery_email
from issuer.errors import IssuanceError
from issuer.pipeline import Issuance, staged_json, staged_link_key
from offchain_store.blobs import BlobStore
from offchain_store.crypto import LinkKey, decrypt_document, unwrap_data_key
from offchain_store.records import (
    BatchRecord,
    BatchState,
    CertificateRecord,
    CertificateState,
    KeyWrapRecord,
    WrapKind,
    utcnow,
)


def deliver_batch(issuance: Issuance, batch_id: str) -> int:
    """Send every anchored, undelivered certificate of the batch; returns how many."""
    with Session(issuance.engine) as session:
        batch = session.get(BatchRecord, batch_id)
        if batch is None or batch.state not in (BatchState.ANCHORED, BatchState.DELIVERED):
            return 0
        query = select(CertificateRecord.id).where(
            CertificateRecord.batch_id == batch_id,
            CertificateRecord.state == CertificateState.ANCHORED,
        )
        waiting = list(session.exec(query).all())
    issuance.progress.start("deliver", len(waiting))
    for cert_id in waiting:
        deliver_certificate(issuance, cert_id)
        issuance.fault("after_deliver")
        issuance.progress.advance("deliver")
    with Session(issuance.engine) as session:
        batch = session.get(BatchRecord, batch_id)
        assert batch is not None
        batch.state = BatchState.DELIVERED
        session.commit()
    return len(waiting)


def deliver_certificate(issuance: Issuance, cert_id: str) -> None:
    """Send one certificate to its candidate and forget the candidate's link key."""
    with Session(issuance.engine) as session:
        cert = session.get(CertificateRecord, cert_id)
        if cert is None or cert.pending_link_key is None or cert.candidate_email is None:
            raise IssuanceError(f"certificate {cert_id} cannot be delivered: no pending link")
        batch = session.get(BatchRecord, cert.batch_id)
        assert batch is not None
        link_key = staged_link_key(issuance, cert)
        pdf = open_with_link_key(issuance.blobs, session, cert_id, link_key)
        receipt = build_receipt(cert, batch, issuance.branding)
        write_receipt(issuance.receipts_dir, receipt)
        message = build_delivery_email(
            to=cert.candidate_email,
            candidate_name=_candidate_name(issuance, cert),
            certificate_id=cert_id,
            private_link=private_link(issuance.branding, cert_id, link_key),
            pdf=pdf,
            receipt_json=receipt.to_json(),
            issuer_name=issuance.branding.name,
            sender=issuance.sender,
            language="en" if cert.language == "en" else "fr",
        )
        issuance.mailer.send(message)
        cert.state = CertificateState.DELIVERED
        cert.receipt = receipt.to_json().decode()
        cert.pending_link_key = None
        cert.staged_content = None
        cert.delivered_at = utcnow()
        session.commit()


def open_with_link_key(
    blobs: BlobStore, session: Session, cert_id: str, link_key: LinkKey
) -> bytes:
    """Decrypt a stored certificate with the candidate's link key."""
    query = select(KeyWrapRecord).where(
        KeyWrapRecord.certificate_id == cert_id, KeyWrapRecord.kind == WrapKind.CANDIDATE
    )
    wrap = session.exec(query).first()
    if wrap is None:
        raise IssuanceError(f"certificate {cert_id} has no candidate key wrap")
    cert_bytes = bytes.fromhex(cert_id)
    data_key = unwrap_data_key(wrap.wrapped, link_key, associated_data=cert_bytes)
    return decrypt_document(blobs.get(cert_id), data_key, associated_data=cert_bytes)


def build_receipt(cert: CertificateRecord, batch: BatchRecord, branding: IssuerBranding) -> Receipt:
    """The public receipt of an anchored certificate."""
    if batch.anchored_at is None or batch.block_number is None or batch.chain_id is None:
        raise IssuanceError(f"batch {batch.id} is not anchored yet")
    return Receipt(
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


def write_receipt(directory: Path, receipt: Receipt) -> Path:
    """Write the receipt atomically as {id}.json."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{receipt.certificate_id}.json"
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".receipt-")
    with os.fdopen(fd, "wb") as handle:
        handle.write(receipt.to_json())
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, target)
    return target


def private_link(branding: IssuerBranding, cert_id: str, link_key: LinkKey) -> str:
    """The candidate's link; its key is in the fragment, which browsers never send."""
    return f"{branding.public_base_url.rstrip('/')}/me/{cert_id}#{link_key.to_token()}"


def _candidate_name(issuance: Issuance, cert: CertificateRecord) -> str:
    if cert.staged_content is None:
        return ""
    return str(json.loads(staged_json(issuance, cert)).get("candidate_name", ""))
