"""The independent entry point: a PDF and its receipt, checked against the chain alone.

Nothing here talks to a Sceau server: the only outside party is the JSON-RPC node at `rpc_url`.
Trust comes from the issuer profile, never from the receipt: the chain is asked about the
profile's registry, and a receipt naming another one is INVALID (docs/receipt.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from contracts.profile import IssuerProfile, PublishedProfile
from contracts.receipt import Receipt
from verifier.chain import (
    DEFAULT_TIMEOUT,
    ChainCache,
    ChainFailure,
    ChainReading,
    Registry,
    read_chain,
)
from verifier.checks.anchoring import check_anchoring
from verifier.checks.identity import check_issuer_identity
from verifier.checks.inclusion import check_inclusion
from verifier.checks.integrity import check_integrity
from verifier.checks.revocation import check_revocation
from verifier.checks.signature import check_signature, embedded_signer_certificate
from verifier.errors import VerificationError
from verifier.report import CheckName, VerificationReport, build_report

REQUIRED_CHECKS = (
    CheckName.INTEGRITY,
    CheckName.INCLUSION,
    CheckName.ANCHORING,
    CheckName.REVOCATION,
    CheckName.SIGNATURE,
    CheckName.ISSUER_IDENTITY,
)


def verify_with_receipt(
    pdf: bytes,
    receipt: Receipt,
    *,
    rpc_url: str,
    profile: IssuerProfile | PublishedProfile | None,
    trust_roots: Sequence[bytes] = (),
    now: datetime | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    cache: ChainCache | None = None,
) -> VerificationReport:
    """Check `pdf` against `receipt` and the chain; trust roots (PEM or DER) add to the profile's.

    A profile given with its bytes (`PublishedProfile`, as a stranger receives it) must be the
    registry's current one (docs/profile.md, section 4); a parsed `IssuerProfile` is the
    caller's own configuration (the issuer's server), trusted as it is. Without a profile the
    issuer identity is skipped, so the verdict cannot be VALID.
    """
    issuer: IssuerProfile | None = (
        profile.profile if isinstance(profile, PublishedProfile) else profile
    )
    profile_sha256 = profile.sha256 if isinstance(profile, PublishedProfile) else None
    roots = (*(issuer.trust_roots_der() if issuer else ()), *(_der(r) for r in trust_roots))
    registry = Registry(issuer.chain_id, issuer.contract) if issuer else None
    reading = read_chain(
        rpc_url,
        receipt,
        registry=registry,
        profile_sha256=profile_sha256,
        timeout=timeout,
        cache=cache,
    )
    anchor = reading.status.anchor if isinstance(reading, ChainReading) else None
    moment, source = _judging_time(receipt, reading)
    signer = embedded_signer_certificate(pdf)
    checks = (
        check_integrity(pdf, receipt),
        check_inclusion(receipt),
        check_anchoring(receipt, reading),
        check_revocation(reading),
        check_signature(pdf, trust_roots=roots, moment=moment, moment_source=source),
        check_issuer_identity(
            issuer,
            receipt,
            signer_der=signer,
            anchored_by=anchor.issuer if anchor else None,
            anchored_at=anchor.anchored_at if anchor else None,
            profile_sha256=profile_sha256,
            profile_on_chain=reading.profile if isinstance(reading, ChainReading) else None,
        ),
    )
    return build_report(
        certificate_id=receipt.certificate_id,
        checks=checks,
        required=REQUIRED_CHECKS,
        checked_at=now or datetime.now(UTC),
    )


def _judging_time(receipt: Receipt, reading: ChainReading | ChainFailure) -> tuple[datetime, str]:
    """The anchoring block's time from the chain; else the receipt's claim, marked unverified."""
    if isinstance(reading, ChainReading) and reading.status.anchor is not None:
        return reading.status.anchor.anchored_at, "chain_anchoring_time"
    return receipt.anchored_at, "receipt_anchoring_time_unverified"


def _der(certificate: bytes) -> bytes:
    """A trust root given as PEM or DER, in DER; VerificationError if it is neither."""
    try:
        if certificate.lstrip().startswith(b"-----BEGIN"):
            return x509.load_pem_x509_certificate(certificate).public_bytes(Encoding.DER)
        return x509.load_der_x509_certificate(certificate).public_bytes(Encoding.DER)
    except ValueError:
        raise VerificationError("a trust root is neither a PEM nor a DER certificate") from None
