"""The dropped-PDF entry point: find the certificate by the PDF's hash, then check it."""

from __future__ import annotations

import hashlib
import io
from datetime import datetime

from pyhanko.pdf_utils.reader import PdfFileReader
from sqlmodel import Session, select

from contracts.receipt import Receipt
from offchain_store.records import CertificateRecord, CertificateState
from verifier.independent import REQUIRED_CHECKS, verify_with_receipt
from verifier.report import CheckName, CheckResult, CheckStatus, VerificationReport, build_report
from verifier.share_link import VerificationContext, tombstone_report

CERTIFICATE_ID_KEY = "/SceauCertificateId"


def find_by_pdf_hash(context: VerificationContext, pdf_sha256: str) -> CertificateRecord | None:
    """The delivered certificate whose signed PDF has this SHA-256 (hex)."""
    with Session(context.engine) as session:
        query = select(CertificateRecord).where(CertificateRecord.pdf_sha256 == pdf_sha256)
        record = session.exec(query).first()
        if record is not None:
            session.expunge(record)
    return record


def verify_uploaded(
    context: VerificationContext, pdf: bytes, *, now: datetime
) -> VerificationReport:
    """Check a dropped PDF: known hash → full check; a shredded one's id → REVOKED."""
    record = find_by_pdf_hash(context, hashlib.sha256(pdf).hexdigest())
    if record is not None and record.receipt:
        receipt = Receipt.from_json(record.receipt)
        return verify_with_receipt(
            pdf,
            receipt,
            rpc_url=context.rpc_url,
            profile=context.profile,
            now=now,
            timeout=context.timeout,
            cache=context.cache,
        )
    claimed = certificate_id_in(pdf)
    if claimed is not None:
        with Session(context.engine) as session:
            tomb = session.get(CertificateRecord, claimed)
        if tomb is not None and tomb.state == CertificateState.REVOKED:
            return tombstone_report(context, claimed, (), now)
    unknown = CheckResult.of(CheckName.INTEGRITY, CheckStatus.INVALID, "unknown_document")
    return build_report(
        certificate_id=None, checks=(unknown,), required=REQUIRED_CHECKS, checked_at=now
    )


def certificate_id_in(pdf: bytes) -> str | None:
    """The certificate id a PDF claims in its metadata (None for anything unreadable)."""
    try:
        info = PdfFileReader(io.BytesIO(pdf), strict=False).trailer_view.get("/Info")
        value = str(info.get_object().get(CERTIFICATE_ID_KEY)) if info is not None else ""
    except Exception:  # any malformed PDF simply claims nothing
        return None
    return value if len(value) == 32 and all(c in "0123456789abcdef" for c in value) else None
