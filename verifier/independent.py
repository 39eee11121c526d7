"""The independent entry point: a PDF and its receipt, checked against the chain alone.

Nothing here talks to a Sceau server: the only outside party is the JSON-RPC node at `rpc_url`.
Trust comes from the issuer profile, never from the receipt: the chain is asked about the
profile's registry, and a receipt naming another one is INVALID (docs/receipt.md).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import lru_cache

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
from verifier.checks.signature import SignatureFinding, validate_signature
from verifier.errors import VerificationError
from verifier.report import CheckName, VerificationReport, build_report
from verifier.validation_cache import ValidationCache, ValidationKey

CHAIN_ANCHORING_TIME = "chain_anchoring_time"

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
    validations: ValidationCache | None = None,
) -> VerificationReport:
    """Check `pdf` against `receipt` and the chain; trust roots (PEM or DER) add to the profile's.

    A profile given with its bytes (`PublishedProfile`, as a stranger receives it) must be the
    registry's current one (docs/profile.md, section 4); a parsed `IssuerProfile` is the
    caller's own configuration (the issuer's server), trusted as it is. Without a profile the
    issuer identity is skipped, so the verdict cannot be VALID. The signature is validated once
    per PDF, profile and anchoring time: `validations` (by default the cache's) keeps it.
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
    key = ValidationKey.of(
        pdf,
        profile_sha256=profile_sha256 or (_profile_digest(issuer) if issuer else None),
        trust_roots=roots,
        moment=moment,
        moment_source=source,
    )
    kept = validations if validations is not None else (cache.validations if cache else None)
    finding = _signature_finding(pdf, key, roots, kept)
    checks = (
        check_integrity(pdf, receipt),
        check_inclusion(receipt),
        check_anchoring(receipt, reading),
        check_revocation(reading),
        finding.result,
        check_issuer_identity(
            issuer,
            receipt,
            signer_der=finding.signer_der,
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


def prefill_validation(
    validations: ValidationCache,
    pdf: bytes,
    *,
    profile: IssuerProfile,
    anchored_at: datetime,
    trust_roots: Sequence[bytes] = (),
) -> None:
    """Validate `pdf` as an opening of it under `profile` will, once its root is anchored at
    `anchored_at` (the anchoring block's time), and keep the finding in `validations`."""
    roots = (*profile.trust_roots_der(), *(_der(r) for r in trust_roots))
    key = ValidationKey.of(
        pdf,
        profile_sha256=_profile_digest(profile),
        trust_roots=roots,
        moment=anchored_at,
        moment_source=CHAIN_ANCHORING_TIME,
    )
    _signature_finding(pdf, key, roots, validations)


def _signature_finding(
    pdf: bytes, key: ValidationKey, roots: Sequence[bytes], kept: ValidationCache | None
) -> SignatureFinding:
    def validate() -> SignatureFinding:
        return validate_signature(
            pdf, trust_roots=roots, moment=key.moment, moment_source=key.moment_source
        )

    return kept.finding(key, validate) if kept is not None else validate()


@lru_cache(maxsize=16)
def _profile_digest(profile: IssuerProfile) -> bytes:
    """SHA-256 of the profile's canonical JSON (a frozen profile: computed once per process)."""
    return hashlib.sha256(profile.to_json()).digest()


def _judging_time(receipt: Receipt, reading: ChainReading | ChainFailure) -> tuple[datetime, str]:
    """The anchoring block's time from the chain; else the receipt's claim, marked unverified."""
    if isinstance(reading, ChainReading) and reading.status.anchor is not None:
        return reading.status.anchor.anchored_at, CHAIN_ANCHORING_TIME
    return receipt.anchored_at, "receipt_anchoring_time_unverified"


def _der(certificate: bytes) -> bytes:
    """A trust root given as PEM or DER, in DER; VerificationError if it is neither."""
    try:
        if certificate.lstrip().startswith(b"-----BEGIN"):
            return x509.load_pem_x509_certificate(certificate).public_bytes(Encoding.DER)
        return x509.load_der_x509_certificate(certificate).public_bytes(Encoding.DER)
    except ValueError:
        raise VerificationError("a trust root is neither a PEM nor a DER certificate") from None
