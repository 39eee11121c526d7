"""Share and decryption results, for the share-link entry point (built by the service)."""

from __future__ import annotations

from datetime import datetime

from verifier.report import CheckName, CheckResult, CheckStatus


def share_open(expires_at: datetime | None = None) -> CheckResult:
    """The share exists, has not expired and was not ended."""
    details = {"expires_at": expires_at.isoformat()} if expires_at is not None else {}
    return CheckResult.of(CheckName.SHARE, CheckStatus.VALID, "share_open", **details)


def share_unknown() -> CheckResult:
    """No such share."""
    return CheckResult.of(CheckName.SHARE, CheckStatus.INVALID, "share_unknown")


def share_expired(at: datetime) -> CheckResult:
    """The share expired at `at`."""
    return CheckResult.of(
        CheckName.SHARE, CheckStatus.INVALID, "share_expired", expired_at=at.isoformat()
    )


def share_ended() -> CheckResult:
    """The candidate ended the share."""
    return CheckResult.of(CheckName.SHARE, CheckStatus.INVALID, "share_ended")


def decryption_ok() -> CheckResult:
    """The link key opened the ciphertext (AEAD tag verified)."""
    return CheckResult.of(CheckName.DECRYPTION, CheckStatus.VALID, "decrypted")


def content_shredded() -> CheckResult:
    """The ciphertext was destroyed (revocation or erasure): nothing to decrypt."""
    return CheckResult.of(CheckName.DECRYPTION, CheckStatus.SKIPPED, "content_shredded")


def share_exhausted() -> CheckResult:
    """The share reached its maximum number of opens."""
    return CheckResult.of(CheckName.SHARE, CheckStatus.INVALID, "share_exhausted")
