"""A presentation's report tells the dates and reasons a PDF's report tells."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from verifier.presentation_report import (
    PresentationCheck,
    PresentationCheckName,
    PresentationReport,
)
from verifier.report import SUSPENDED_CODE, CheckStatus

AT = "2026-12-01T10:00:00+00:00"


def report_with(code: str, **details: Any) -> PresentationReport:
    revocation = PresentationCheck.of(
        PresentationCheckName.REVOCATION, CheckStatus.INVALID, code, **details
    )
    return PresentationReport(checks=(revocation,), checked_at=datetime.now(UTC))


def test_a_revoked_credential_s_report_says_when_and_why() -> None:
    report = report_with("revoked", revoked_at=AT, reason="fraud")
    answer = report.model_dump(mode="json")
    assert answer["verdict"] == "REVOKED"
    assert (answer["revoked_at"], answer["revocation_reason"]) == (AT, "fraud")
    assert answer["suspended_at"] is None and answer["suspension_reason"] is None


def test_a_suspended_credential_s_report_says_since_when_and_why() -> None:
    report = report_with(SUSPENDED_CODE, suspended_at=AT, reason="inquiry")
    answer = report.model_dump(mode="json")
    assert answer["verdict"] == "SUSPENDED"
    assert (answer["suspended_at"], answer["suspension_reason"]) == (AT, "inquiry")
    assert answer["revoked_at"] is None and answer["revocation_reason"] is None


def test_the_anchoring_time_comes_only_from_a_valid_anchoring_check() -> None:
    anchored = PresentationCheck.of(
        PresentationCheckName.ANCHORING,
        CheckStatus.VALID,
        "anchored",
        anchored_at=AT,
        block_number=5,
        anchored_by="0x" + "ab" * 20,
    )
    report = PresentationReport(checks=(anchored,), checked_at=datetime.now(UTC))
    assert report.anchored_at == AT
    failed = anchored.model_copy(update={"status": CheckStatus.INVALID})
    assert PresentationReport(checks=(failed,), checked_at=datetime.now(UTC)).anchored_at is None
