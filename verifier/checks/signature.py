"""Signature: the PAdES signature is intact, covers the whole file and chains to a trusted root.

The signing certificate is judged as of a given moment (the anchoring time), so a certificate
whose signing certificate expired or was rotated later stays valid.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from io import BytesIO

from asn1crypto import x509 as asn1_x509
from pydantic import JsonValue
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.status import PdfSignatureStatus, SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from verifier.report import CheckName, CheckResult, CheckStatus

_log = logging.getLogger(__name__)


def embedded_signer_certificate(pdf: bytes) -> bytes | None:
    """DER of the certificate that made the PDF's only signature, or None if there is none."""
    try:
        signatures = _signatures(pdf)
    except Exception:  # any file may be dropped here: unreadable simply means "no signer"
        return None
    if len(signatures) != 1:
        return None
    cert = signatures[0].signer_cert
    return bytes(cert.dump()) if cert is not None else None


def check_signature(
    pdf: bytes, *, trust_roots: Sequence[bytes], moment: datetime, moment_source: str
) -> CheckResult:
    """Validate the PDF's single PAdES signature against `trust_roots` (DER) as of `moment`."""
    when: dict[str, JsonValue] = {
        "judged_at": moment.isoformat(),
        "judged_at_source": moment_source,
    }
    try:
        signatures = _signatures(pdf)
    except Exception as exc:  # a PDF pyHanko cannot parse is a bad certificate, not a crash
        return _result(CheckStatus.INVALID, "pdf_unreadable", error=str(exc), **when)
    if not signatures:
        return _result(CheckStatus.INVALID, "no_signature", **when)
    if len(signatures) > 1:
        return _result(CheckStatus.INVALID, "several_signatures", count=len(signatures), **when)
    if not trust_roots:
        return _result(CheckStatus.SKIPPED, "no_trust_roots", **when)
    try:
        status = _validate(signatures[0], trust_roots, moment)
    except RuntimeError as exc:  # our own failure to run the check: cannot decide
        return _result(CheckStatus.ERROR, "signature_unchecked", error=str(exc), **when)
    except Exception as exc:  # malformed CMS or certificates: the signature does not hold
        return _result(CheckStatus.INVALID, "signature_broken", error=str(exc), **when)
    return _judge(status, when)


def _signatures(pdf: bytes) -> list[EmbeddedPdfSignature]:
    reader = PdfFileReader(BytesIO(pdf), strict=False)
    return list(reader.embedded_signatures)


def _validate(
    signature: EmbeddedPdfSignature, trust_roots: Sequence[bytes], moment: datetime
) -> PdfSignatureStatus:
    roots = [asn1_x509.Certificate.load(der) for der in trust_roots]
    # No fetching: the verifier asks nothing but the chain. Dev certificates carry no CRL/OCSP.
    context = ValidationContext(trust_roots=roots, moment=moment, allow_fetching=False)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return validate_pdf_signature(signature, context)
    # pyHanko runs its own event loop: inside a running one (an async server), use a thread.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(validate_pdf_signature, signature, context).result()


def _judge(status: PdfSignatureStatus, when: dict[str, JsonValue]) -> CheckResult:
    signer = status.signing_cert
    facts: dict[str, JsonValue] = {
        **when,
        "signer_subject": signer.subject.human_friendly,
        "signer_sha256": hashlib.sha256(signer.dump()).hexdigest(),
        "coverage": status.coverage.name.lower() if status.coverage else "unclear",
    }
    if not (status.intact and status.valid):
        return _result(CheckStatus.INVALID, "signature_broken", **facts)
    if status.coverage is not SignatureCoverageLevel.ENTIRE_FILE:
        return _result(CheckStatus.INVALID, "signature_partial", **facts)
    if not status.trusted or not status.bottom_line:
        _log.debug("signature not trusted: %s", status.trust_problem_indic)
        return _result(CheckStatus.INVALID, "signature_untrusted", **facts)
    return _result(CheckStatus.VALID, "signature_valid", **facts)


def _result(status: CheckStatus, code: str, **details: JsonValue) -> CheckResult:
    return CheckResult.of(CheckName.SIGNATURE, status, code, **details)
