"""Issuer identity: the registry, the signing certificate and the anchoring address are the
ones the issuer publishes in its profile, for the anchoring time."""

from __future__ import annotations

from datetime import datetime

from contracts.profile import IssuerProfile
from contracts.receipt import Receipt
from verifier.report import CheckName, CheckResult, CheckStatus


def check_issuer_identity(
    profile: IssuerProfile | None,
    receipt: Receipt,
    *,
    signer_der: bytes | None,
    anchored_by: str | None,
    anchored_at: datetime | None,
) -> CheckResult:
    """Compare chain, contract, signer and anchorer with `profile` as of `anchored_at`."""
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
        return _result(CheckStatus.INVALID, "signing_certificate_not_published", anchored_at=at)
    if not profile.anchoring_address_at(anchored_by, anchored_at):
        return _result(
            CheckStatus.INVALID,
            "anchoring_address_not_published",
            anchored_by=anchored_by,
            anchored_at=at,
        )
    return _result(
        CheckStatus.VALID,
        "issuer_matches",
        issuer=profile.name,
        public_base_url=profile.public_base_url,
        anchored_at=at,
    )


def _result(status: CheckStatus, code: str, **details: str | int) -> CheckResult:
    return CheckResult.of(CheckName.ISSUER_IDENTITY, status, code, **details)
