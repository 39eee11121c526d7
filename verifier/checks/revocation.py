"""Revocation: the leaf is not revoked, read fresh from the chain on every verification."""

from __future__ import annotations

from verifier.chain import ChainFailure, ChainReading
from verifier.report import CheckName, CheckResult, CheckStatus


def check_revocation(reading: ChainReading | ChainFailure) -> CheckResult:
    """Not revoked: valid; revoked: invalid with the date and reason; no answer: error."""
    if isinstance(reading, ChainFailure):
        details = {**reading.details, "detail": reading.reason}
        return CheckResult.of(CheckName.REVOCATION, CheckStatus.ERROR, reading.code, **details)
    revocation = reading.status.revocation
    if revocation is None:
        return CheckResult.of(CheckName.REVOCATION, CheckStatus.VALID, "not_revoked")
    return CheckResult.of(
        CheckName.REVOCATION,
        CheckStatus.INVALID,
        "revoked",
        revoked_at=revocation.revoked_at.isoformat(),
        reason=revocation.reason.name.lower(),
        reason_code=int(revocation.reason),
        revoker=revocation.revoker,
    )
