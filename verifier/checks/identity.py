"""Issuer identity: the registry, the signing certificate and the anchoring address are the
ones the issuer publishes in its profile, for the anchoring time.

A key the profile lists but whose every period ended at or before the anchoring time was
retired by then: said apart from a key never published, since it means a rotated-out (maybe
compromised) key was used after its retirement."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from contracts.documents import same_address
from contracts.profile import AnchoringAddress, IssuerProfile, SigningCertificate
from contracts.receipt import Receipt
from verifier.chain import ProfileOnChain
from verifier.report import CheckName, CheckResult, CheckStatus


def check_issuer_identity(
    profile: IssuerProfile | None,
    receipt: Receipt,
    *,
    signer_der: bytes | None,
    anchored_by: str | None,
    anchored_at: datetime | None,
    profile_sha256: bytes | None = None,
    profile_on_chain: ProfileOnChain | None = None,
) -> CheckResult:
    """Compare chain, contract, signer and anchorer with `profile` as of `anchored_at`; and,
    given `profile_sha256`, that profile with the one the registry publishes."""
    if profile is None:
        return _result(CheckStatus.SKIPPED, "no_issuer_profile")
    if receipt.chain_id != profile.chain_id:
        return _result(CheckStatus.INVALID, "chain_not_issuer", chain_id=receipt.chain_id)
    if not profile.is_contract(receipt.chain_id, receipt.contract):
        return _result(CheckStatus.INVALID, "contract_not_issuer", contract=receipt.contract)
    if signer_der is None:
        return _result(CheckStatus.INVALID, "no_signing_certificate")
    if anchored_by is None or anchored_at is None:
        return _result(CheckStatus.ERROR, "anchoring_unknown")
    at = anchored_at.isoformat()
    if not profile.signing_certificate_at(signer_der, anchored_at):
        return _signer_not_published(profile, signer_der, anchored_at)
    if not profile.anchoring_address_at(anchored_by, anchored_at):
        return _anchorer_not_published(profile, anchored_by, anchored_at)
    if profile_sha256 is not None:
        problem = _profile_not_current(profile_sha256, profile_on_chain)
        if problem is not None:
            return problem
    return _result(
        CheckStatus.VALID,
        "issuer_matches",
        issuer=profile.name,
        public_base_url=profile.public_base_url,
        anchored_at=at,
    )


def _signer_not_published(
    profile: IssuerProfile, signer_der: bytes, anchored_at: datetime
) -> CheckResult:
    at = anchored_at.isoformat()
    periods = [c for c in profile.signing_certificates if c.der() == signer_der]
    retired_at = _retired_before(periods, anchored_at)
    if retired_at is not None:
        return _result(
            CheckStatus.INVALID,
            "signing_certificate_retired",
            retired_at=retired_at,
            anchored_at=at,
        )
    return _result(CheckStatus.INVALID, "signing_certificate_not_published", anchored_at=at)


def _anchorer_not_published(
    profile: IssuerProfile, anchored_by: str, anchored_at: datetime
) -> CheckResult:
    at = anchored_at.isoformat()
    periods = [a for a in profile.anchoring_addresses if same_address(a.address, anchored_by)]
    retired_at = _retired_before(periods, anchored_at)
    if retired_at is not None:
        return _result(
            CheckStatus.INVALID,
            "anchoring_address_retired",
            anchored_by=anchored_by,
            retired_at=retired_at,
            anchored_at=at,
        )
    return _result(
        CheckStatus.INVALID,
        "anchoring_address_not_published",
        anchored_by=anchored_by,
        anchored_at=at,
    )


def _profile_not_current(sha256: bytes, on_chain: ProfileOnChain | None) -> CheckResult | None:
    """The registry vouches for this very profile (docs/profile.md, section 4), or says why not."""
    if on_chain is None:
        return _result(CheckStatus.ERROR, "anchoring_unknown")
    if on_chain.failure is not None:
        return _result(CheckStatus.ERROR, on_chain.failure.code, detail=on_chain.failure.reason)
    if on_chain.published is None:
        return _result(CheckStatus.ERROR, "profile_not_anchored", profile_sha256=sha256.hex())
    if on_chain.published.sha256 != sha256:
        return _result(
            CheckStatus.INVALID,
            "profile_not_current",
            profile_sha256=sha256.hex(),
            current_sha256=on_chain.published.sha256.hex(),
            published_at=on_chain.published.published_at.isoformat(),
        )
    return None


def _retired_before(
    periods: Sequence[SigningCertificate | AnchoringAddress], anchored_at: datetime
) -> str | None:
    """When the key was retired, if every period of it had ended by `anchored_at`."""
    ends = [p.valid_until for p in periods]
    if not ends or any(end is None or end > anchored_at for end in ends):
        return None
    return max(end for end in ends if end is not None).isoformat()


def _result(status: CheckStatus, code: str, **details: str | int) -> CheckResult:
    return CheckResult.of(CheckName.ISSUER_IDENTITY, status, code, **details)
