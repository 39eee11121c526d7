"""Signature: the PAdES signature is intact, covers the whole file and chains to a trusted root.

The signing certificate is judged as of the earlier of the anchoring time and the signature
timestamp, with the revocation data the PDF carries in its DSS (PAdES B-LT and up) and nothing
fetched: a certificate whose signing certificate expired or was rotated later stays valid, one
signed after its signing certificate was revoked does not.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO

from asn1crypto import x509 as asn1_x509
from pydantic import JsonValue
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.sign.validation.errors import NoDSSFoundError
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.status import PdfSignatureStatus, SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from verifier.report import CheckName, CheckResult, CheckStatus

_log = logging.getLogger(__name__)

TIMESTAMP_SOURCE = "signature_timestamp"


@dataclass(frozen=True)
class SignatureFinding:
    """One validation of a PDF: the signature check's result and the DER of the certificate
    that made its only signature (None if it has no single signature), from one parse."""

    result: CheckResult
    signer_der: bytes | None


def embedded_signer_certificate(pdf: bytes) -> bytes | None:
    """DER of the certificate that made the PDF's only signature, or None if there is none."""
    try:
        return _signer_der(_signatures(PdfFileReader(BytesIO(pdf), strict=False)))
    except Exception:  # any file may be dropped here: unreadable simply means "no signer"
        return None


def check_signature(
    pdf: bytes, *, trust_roots: Sequence[bytes], moment: datetime, moment_source: str
) -> CheckResult:
    """Validate the PDF's single PAdES signature against `trust_roots` (DER).

    `moment` is the anchoring time; the signing certificate is judged as of it, or as of the
    signature timestamp when that is earlier, with the revocation data the PDF carries.
    """
    return validate_signature(
        pdf, trust_roots=trust_roots, moment=moment, moment_source=moment_source
    ).result


def validate_signature(
    pdf: bytes, *, trust_roots: Sequence[bytes], moment: datetime, moment_source: str
) -> SignatureFinding:
    """`check_signature` and `embedded_signer_certificate` of `pdf`, parsing it once."""
    try:
        reader = PdfFileReader(BytesIO(pdf), strict=False)
        signatures = _signatures(reader)
    except Exception as exc:  # a PDF pyHanko cannot parse is a bad certificate, not a crash
        when = _when(moment, moment_source, None)
        return SignatureFinding(
            _result(CheckStatus.INVALID, "pdf_unreadable", error=str(exc), **when), None
        )
    try:
        signer = _signer_der(signatures)
    except Exception:  # a malformed signer certificate: no signer (the check says why)
        signer = None
    return SignatureFinding(
        _check_parsed(reader, signatures, trust_roots, moment, moment_source), signer
    )


def _signer_der(signatures: Sequence[EmbeddedPdfSignature]) -> bytes | None:
    if len(signatures) != 1:
        return None
    cert = signatures[0].signer_cert
    return bytes(cert.dump()) if cert is not None else None


def _check_parsed(
    reader: PdfFileReader,
    signatures: Sequence[EmbeddedPdfSignature],
    trust_roots: Sequence[bytes],
    moment: datetime,
    moment_source: str,
) -> CheckResult:
    when = _when(moment, moment_source, None)
    if not signatures:
        return _result(CheckStatus.INVALID, "no_signature", **when)
    if len(signatures) > 1:
        return _result(CheckStatus.INVALID, "several_signatures", count=len(signatures), **when)
    if not trust_roots:
        return _result(CheckStatus.SKIPPED, "no_trust_roots", **when)
    try:
        stamped_at = signature_timestamp_time(signatures[0])
        when = _when(moment, moment_source, stamped_at)
        judged_at = datetime.fromisoformat(str(when["judged_at"]))
        context = _validation_context(reader, trust_roots, judged_at)
        status = _validate(signatures[0], context)
        if not _timestamp_holds(status):
            # A token that does not verify is ignored: judged as if absent, at `moment`.
            when = {**_when(moment, moment_source, None), **_stamp_facts(stamped_at)}
            if judged_at != moment:
                status = _validate(signatures[0], _validation_context(reader, trust_roots, moment))
    except RuntimeError as exc:  # our own failure to run the check: cannot decide
        return _result(CheckStatus.ERROR, "signature_unchecked", error=str(exc), **when)
    except Exception as exc:  # malformed CMS or certificates: the signature does not hold
        return _result(CheckStatus.INVALID, "signature_broken", error=str(exc), **when)
    return _judge(status, when, pades_level(reader, signatures[0]))


def _signatures(reader: PdfFileReader) -> list[EmbeddedPdfSignature]:
    # Document timestamps (B-LTA) are not signatures of the certificate: only /Sig counts.
    return list(reader.embedded_regular_signatures)


def _when(moment: datetime, source: str, stamped_at: datetime | None) -> dict[str, JsonValue]:
    """Which time the certificate is judged at, and why: the earlier of anchoring and timestamp."""
    when: dict[str, JsonValue] = {"anchoring_time": moment.isoformat()}
    if stamped_at is not None:
        when["signature_timestamp"] = stamped_at.isoformat()
    if stamped_at is not None and stamped_at < moment:
        return {**when, "judged_at": stamped_at.isoformat(), "judged_at_source": TIMESTAMP_SOURCE}
    return {**when, "judged_at": moment.isoformat(), "judged_at_source": source}


def signature_timestamp_time(signature: EmbeddedPdfSignature) -> datetime | None:
    """The time in the signature's RFC 3161 timestamp token (validated later), or None."""
    unsigned = signature.signer_info["unsigned_attrs"]
    if not unsigned.native:
        return None
    for attribute in unsigned:
        if attribute["type"].native == "signature_time_stamp_token":
            token = attribute["values"][0]["content"]
            gen_time: datetime = token["encap_content_info"]["content"].parsed["gen_time"].native
            return gen_time
    return None


def pades_level(reader: PdfFileReader, signature: EmbeddedPdfSignature) -> str:
    """The PAdES baseline level the file's structure shows (not a judgement of its validity)."""
    if signature_timestamp_time(signature) is None:
        return "B-B"
    if "/DSS" not in reader.root:
        return "B-T"
    return "B-LTA" if reader.embedded_timestamp_signatures else "B-LT"


def _validation_context(
    reader: PdfFileReader, trust_roots: Sequence[bytes], moment: datetime
) -> ValidationContext:
    """Trust only the roots and what the PDF carries (its DSS): no fetching, ever."""
    settings: dict[str, object] = {
        "trust_roots": [asn1_x509.Certificate.load(der) for der in trust_roots],
        "moment": moment,
        "allow_fetching": False,
        # A certificate that names an OCSP responder or a CRL needs that data in the PDF.
        "revocation_mode": "hard-fail",
        "crls": [],
        "ocsps": [],
    }
    try:
        return DocumentSecurityStore.read_dss(reader).as_validation_context(settings)
    except NoDSSFoundError:
        return ValidationContext(**settings)  # type: ignore[arg-type]


def _validate(signature: EmbeddedPdfSignature, context: ValidationContext) -> PdfSignatureStatus:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return validate_pdf_signature(signature, context)
    # pyHanko runs its own event loop: inside a running one (an async server), use a thread.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(validate_pdf_signature, signature, context).result()


def _judge(status: PdfSignatureStatus, when: dict[str, JsonValue], level: str) -> CheckResult:
    signer = status.signing_cert
    facts: dict[str, JsonValue] = {
        **when,
        "signer_subject": signer.subject.human_friendly,
        "signer_sha256": hashlib.sha256(signer.dump()).hexdigest(),
        "coverage": status.coverage.name.lower() if status.coverage else "unclear",
        "pades_level": level,
    }
    if not (status.intact and status.valid):
        return _result(CheckStatus.INVALID, "signature_broken", **facts)
    ignored = facts.get("signature_timestamp_trusted") is False
    if not _covers_everything_signed(status):
        return _result(CheckStatus.INVALID, "signature_partial", **facts)
    if status.revoked:
        return _result(CheckStatus.INVALID, "signing_certificate_revoked", **facts)
    if not status.trusted or not (status.bottom_line or (ignored and _holds_without_token(status))):
        problem = status.trust_problem_indic
        facts["trust_problem"] = str(problem.standard_name) if problem is not None else None
        _log.debug("signature not trusted: %s", problem)
        return _result(CheckStatus.INVALID, "signature_untrusted", **facts)
    return _result(CheckStatus.VALID, "signature_valid", **facts)


def _timestamp_holds(status: PdfSignatureStatus) -> bool:
    """No signature timestamp, or one whose token is intact (its imprint is the hash of the
    signature value), validly signed and issued by a TSA chaining to the trust roots."""
    token = status.timestamp_validity
    return token is None or bool(token.intact and token.valid and token.trusted)


def _holds_without_token(status: PdfSignatureStatus) -> bool:
    """pyHanko's bottom line with the signature timestamp left out (the token was ignored)."""
    return bool(
        status.intact
        and status.valid
        and status.trusted
        and status.seed_value_ok
        and (status.docmdp_ok or status.modification_level is None)
    )


def _stamp_facts(stamped_at: datetime | None) -> dict[str, JsonValue]:
    """What the report says of a token that was not used."""
    assert stamped_at is not None
    return {"signature_timestamp": stamped_at.isoformat(), "signature_timestamp_trusted": False}


def _covers_everything_signed(status: PdfSignatureStatus) -> bool:
    """The whole file, or the whole revision followed only by revocation data and timestamps."""
    if status.coverage is SignatureCoverageLevel.ENTIRE_FILE:
        return True
    return (
        status.coverage is SignatureCoverageLevel.ENTIRE_REVISION
        and status.modification_level is ModificationLevel.LTA_UPDATES
    )


def _result(status: CheckStatus, code: str, **details: JsonValue) -> CheckResult:
    return CheckResult.of(CheckName.SIGNATURE, status, code, **details)
