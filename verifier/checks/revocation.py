"""Revocation and suspension: the leaf's status, read fresh from the chain on every verification.

Revoked is final (REVOKED); suspended may be lifted (SUSPENDED, with since when and why); the
registry never holds a leaf as both, revocation overriding a suspension.
"""

from __future__ import annotations

from verifier.chain import ChainFailure, ChainReading
from verifier.report import SUSPENDED_CODE, CheckName, CheckResult, CheckStatus


def check_revocation(reading: ChainReading | ChainFailure) -> CheckResult:
    """Neither revoked nor suspended: valid; revoked or suspended: invalid with the date and
    reason (code `revoked` or `suspended`); no answer: error."""
    if isinstance(reading, ChainFailure):
        details = {**reading.details, "detail": reading.reason}
        return CheckResult.of(CheckName.REVOCATION, CheckStatus.ERROR, reading.code, **details)
    revocation = reading.status.revocation
    suspension = reading.status.suspension
    if revocation is not None:
        return CheckResult.of(
            CheckName.REVOCATION,
            CheckStatus.INVALID,
            "revoked",
            revoked_at=revocation.revoked_at.isoformat(),
            reason=revocation.reason.name.lower(),
            reason_code=int(revocation.reason),
            revoker=revocation.revoker,
        )
    if suspension is not None:
        return CheckResult.of(
            CheckName.REVOCATION,
            CheckStatus.INVALID,
            SUSPENDED_CODE,
            suspended_at=suspension.suspended_at.isoformat(),
            reason=suspension.reason.name.lower(),
            reason_code=int(suspension.reason),
        )
    return CheckResult.of(CheckName.REVOCATION, CheckStatus.VALID, "not_revoked")
