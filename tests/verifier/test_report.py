"""The verdict rules on synthetic check results, and the report's JSON round trip."""

from __future__ import annotations

import string
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from verifier.messages import MESSAGES
from verifier.report import (
    CheckName,
    CheckResult,
    CheckStatus,
    InvalidReport,
    Verdict,
    VerificationReport,
    build_report,
    decide,
)

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
CODE_FOR = {
    (CheckName.REVOCATION, CheckStatus.INVALID): "revoked",
}


def result(name: CheckName, status: CheckStatus) -> CheckResult:
    code = CODE_FOR.get((name, status), "chain_error")
    return CheckResult.of(name, status, code)


checks_strategy = st.dictionaries(
    st.sampled_from(list(CheckName)), st.sampled_from(list(CheckStatus))
).map(lambda found: tuple(result(n, s) for n, s in found.items()))
required_strategy = st.sets(st.sampled_from(list(CheckName)))


def expected(checks: tuple[CheckResult, ...], required: set[CheckName]) -> Verdict:
    """The design's precedence, written independently of `decide`."""
    status = {c.name: c.status for c in checks}
    if any(s is CheckStatus.INVALID for n, s in status.items() if n is not CheckName.REVOCATION):
        return Verdict.INVALID
    if status.get(CheckName.REVOCATION) is CheckStatus.INVALID:
        return Verdict.REVOKED
    if CheckStatus.ERROR in status.values():
        return Verdict.ERROR
    if not required or any(status.get(n) is not CheckStatus.VALID for n in required):
        return Verdict.ERROR
    return Verdict.VALID


@given(checks_strategy, required_strategy)
def test_verdict_follows_the_precedence(
    checks: tuple[CheckResult, ...], required: set[CheckName]
) -> None:
    assert decide(checks, required) is expected(checks, required)


@given(checks_strategy, required_strategy)
def test_valid_only_when_every_required_check_is_valid(
    checks: tuple[CheckResult, ...], required: set[CheckName]
) -> None:
    if decide(checks, required) is Verdict.VALID:
        valid = {c.name for c in checks if c.status is CheckStatus.VALID}
        assert required and required <= valid


@given(required_strategy)
def test_all_skipped_is_never_valid(required: set[CheckName]) -> None:
    checks = tuple(result(n, CheckStatus.SKIPPED) for n in CheckName)
    assert decide(checks, required) is Verdict.ERROR


def test_empty_report_is_never_valid() -> None:
    assert decide((), ()) is Verdict.ERROR
    assert decide((), list(CheckName)) is Verdict.ERROR
    valid = tuple(result(n, CheckStatus.VALID) for n in CheckName)
    assert decide(valid, ()) is Verdict.ERROR  # nothing required: nothing was decided


@pytest.mark.parametrize(
    ("statuses", "verdict"),
    [
        ({"integrity": "invalid", "revocation": "invalid"}, Verdict.INVALID),
        ({"revocation": "invalid", "anchoring": "error"}, Verdict.REVOKED),
        ({"revocation": "invalid", "signature": "skipped"}, Verdict.REVOKED),
        ({"anchoring": "error"}, Verdict.ERROR),
        ({"issuer_identity": "skipped"}, Verdict.ERROR),
        ({}, Verdict.VALID),
    ],
)
def test_precedence_examples(statuses: dict[str, str], verdict: Verdict) -> None:
    required = [CheckName.INTEGRITY, CheckName.ANCHORING, CheckName.REVOCATION]
    required += [CheckName.SIGNATURE, CheckName.ISSUER_IDENTITY]
    checks = [result(n, CheckStatus(statuses.get(n.value, "valid"))) for n in required]
    assert decide(checks, required) is verdict


def test_report_round_trips_and_keeps_its_revocation() -> None:
    revoked = CheckResult.of(
        CheckName.REVOCATION,
        CheckStatus.INVALID,
        "revoked",
        revoked_at="2027-01-02T03:04:05+00:00",
        reason="holder_request",
    )
    report = build_report(
        certificate_id="ab" * 16,
        checks=[revoked, result(CheckName.INTEGRITY, CheckStatus.VALID)],
        required=[CheckName.INTEGRITY, CheckName.REVOCATION],
        checked_at=NOW,
    )

    again = VerificationReport.from_json(report.to_json())

    assert again == report
    assert again.verdict is Verdict.REVOKED
    assert again.revoked_at == "2027-01-02T03:04:05+00:00"
    assert again.revocation_reason == "holder_request"
    assert [c.name for c in again.checks] == [CheckName.INTEGRITY, CheckName.REVOCATION]


def test_a_report_claiming_another_verdict_is_refused() -> None:
    report = build_report(
        certificate_id=None,
        checks=[result(CheckName.ANCHORING, CheckStatus.ERROR)],
        required=[CheckName.ANCHORING],
        checked_at=NOW,
    )
    forged = report.to_json().replace(b'"verdict": "ERROR"', b'"verdict": "VALID"')

    with pytest.raises(InvalidReport, match="verdict"):
        VerificationReport.from_json(forged)


def test_a_report_with_two_results_for_one_check_is_refused() -> None:
    with pytest.raises(ValueError, match="one result per check"):
        VerificationReport(
            certificate_id=None,
            checks=(
                result(CheckName.ANCHORING, CheckStatus.VALID),
                result(CheckName.ANCHORING, CheckStatus.INVALID),
            ),
            required=(CheckName.ANCHORING,),
            checked_at=NOW,
        )


def test_unknown_codes_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown check code"):
        CheckResult(
            name=CheckName.SHARE,
            status=CheckStatus.VALID,
            code="looks_fine",
            message_fr="",
            message_en="",
        )


def test_every_message_has_both_languages_and_the_same_placeholders() -> None:
    formatter = string.Formatter()
    for code, message in MESSAGES.items():
        assert message.fr and message.en, code
        fields_fr = {f for _, f, _, _ in formatter.parse(message.fr) if f}
        fields_en = {f for _, f, _, _ in formatter.parse(message.en) if f}
        assert fields_fr == fields_en, code


def test_missing_details_leave_a_placeholder_not_a_crash() -> None:
    check = CheckResult.of(CheckName.REVOCATION, CheckStatus.INVALID, "revoked")
    assert check.message_en == "Certificate revoked on ? (reason: ?)."
