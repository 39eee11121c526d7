"""verify_with_receipt on real artifacts: one verdict per defect, against the session anvil."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from contracts.profile import IssuerProfile
from tests.conftest import AnvilChain
from tests.ports import free_port
from tests.verifier.conftest import Issued, with_chain_id
from verifier.independent import verify_with_receipt
from verifier.report import CheckName, CheckStatus, Verdict, VerificationReport

pytestmark = pytest.mark.chain


def verify(
    issued: Issued,
    chain: AnvilChain,
    profile: IssuerProfile | None,
    **options: object,
) -> VerificationReport:
    rpc_url = str(options.pop("rpc_url", chain.rpc_url))
    return verify_with_receipt(
        issued.pdf,
        issued.receipt,
        rpc_url=rpc_url,
        profile=profile,
        **options,  # type: ignore[arg-type]
    )


def statuses(report: VerificationReport) -> dict[str, tuple[str, str]]:
    return {c.name.value: (c.status.value, c.code) for c in report.checks}


def test_valid_certificate_is_valid(
    valid_certificate: Issued, anvil_chain: AnvilChain, issuer_profile: IssuerProfile
) -> None:
    report = verify(valid_certificate, anvil_chain, issuer_profile)

    assert report.verdict is Verdict.VALID, statuses(report)
    assert all(c.status is CheckStatus.VALID for c in report.checks)
    assert report.anchored_at is not None and report.revoked_at is None
    anchoring = report.check(CheckName.ANCHORING)
    assert anchoring is not None
    assert anchoring.details["anchored_by"] == anvil_chain.issuer.address
    assert anchoring.details["block_number"] == valid_certificate.receipt.block_number
    signature = report.check(CheckName.SIGNATURE)
    assert signature is not None
    assert signature.details["judged_at_source"] == "chain_anchoring_time"
    assert signature.details["judged_at"] == report.anchored_at


def test_valid_certificate_stays_valid_years_later(
    valid_certificate: Issued, anvil_chain: AnvilChain, issuer_profile: IssuerProfile
) -> None:
    later = datetime(2036, 1, 1, tzinfo=UTC)  # after the dev signing certificate expires

    report = verify(valid_certificate, anvil_chain, issuer_profile, now=later)

    assert report.verdict is Verdict.VALID
    assert report.checked_at == later


def test_pdf_one_byte_flipped_is_invalid(
    pdf_one_byte_flipped: Issued, anvil_chain: AnvilChain, issuer_profile: IssuerProfile
) -> None:
    report = verify(pdf_one_byte_flipped, anvil_chain, issuer_profile)

    assert report.verdict is Verdict.INVALID
    assert statuses(report)["integrity"] == ("invalid", "pdf_hash_mismatch")
    assert statuses(report)["signature"] == ("invalid", "signature_broken")


def test_signed_by_rogue_pki_is_invalid(
    signed_by_rogue_pki: Issued, anvil_chain: AnvilChain, issuer_profile: IssuerProfile
) -> None:
    report = verify(signed_by_rogue_pki, anvil_chain, issuer_profile)

    assert report.verdict is Verdict.INVALID
    assert statuses(report)["integrity"] == ("valid", "pdf_matches")
    assert statuses(report)["anchoring"] == ("valid", "anchored")
    assert statuses(report)["signature"] == ("invalid", "signature_untrusted")
    assert statuses(report)["issuer_identity"] == (
        "invalid",
        "signing_certificate_not_published",
    )


def test_anchored_by_unlisted_issuer_is_invalid(
    anchored_by_unlisted_issuer: Issued, anvil_chain: AnvilChain, issuer_profile: IssuerProfile
) -> None:
    report = verify(anchored_by_unlisted_issuer, anvil_chain, issuer_profile)

    assert report.verdict is Verdict.INVALID
    assert statuses(report)["anchoring"] == ("valid", "anchored")  # it did hold ISSUER_ROLE
    assert statuses(report)["signature"] == ("valid", "signature_valid")
    assert statuses(report)["issuer_identity"] == ("invalid", "anchoring_address_not_published")


def test_anchored_on_rogue_registry_is_invalid(
    anchored_on_rogue_registry: Issued, anvil_chain: AnvilChain, issuer_profile: IssuerProfile
) -> None:
    report = verify(anchored_on_rogue_registry, anvil_chain, issuer_profile)

    assert report.verdict is Verdict.INVALID
    # The chain is asked about the profile's registry, never the one the receipt names.
    assert statuses(report)["anchoring"] == ("invalid", "not_anchored")
    assert statuses(report)["issuer_identity"] == ("invalid", "contract_not_issuer")


def test_leaf_revoked_is_revoked_with_date_and_reason(
    leaf_revoked: Issued, anvil_chain: AnvilChain, issuer_profile: IssuerProfile
) -> None:
    report = verify(leaf_revoked, anvil_chain, issuer_profile)

    assert report.verdict is Verdict.REVOKED
    assert statuses(report)["revocation"] == ("invalid", "revoked")
    assert report.revocation_reason == "fraud"
    assert report.revoked_at is not None
    assert datetime.fromisoformat(report.revoked_at) >= leaf_revoked.receipt.anchored_at
    revocation = report.check(CheckName.REVOCATION)
    assert revocation is not None
    assert revocation.details["revoker"] == anvil_chain.revoker.address
    assert "fraud" in revocation.message_en


def test_root_never_anchored_is_invalid(
    root_never_anchored: Issued, anvil_chain: AnvilChain, issuer_profile: IssuerProfile
) -> None:
    report = verify(root_never_anchored, anvil_chain, issuer_profile)

    assert report.verdict is Verdict.INVALID
    assert statuses(report)["anchoring"] == ("invalid", "not_anchored")
    assert statuses(report)["issuer_identity"] == ("error", "anchoring_unknown")


def test_chain_unreachable_is_error_not_invalid(
    valid_certificate: Issued, anvil_chain: AnvilChain, issuer_profile: IssuerProfile
) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    started = time.monotonic()

    report = verify(valid_certificate, anvil_chain, issuer_profile, rpc_url=closed, timeout=2.0)

    assert time.monotonic() - started < 30  # a hang guard, not a speed test
    assert report.verdict is Verdict.ERROR
    assert statuses(report)["anchoring"] == ("error", "chain_unreachable")
    assert statuses(report)["revocation"] == ("error", "chain_unreachable")
    assert statuses(report)["integrity"] == ("valid", "pdf_matches")
    signature = report.check(CheckName.SIGNATURE)
    assert signature is not None and signature.status is CheckStatus.VALID
    assert signature.details["judged_at_source"] == "receipt_anchoring_time_unverified"


def test_receipt_for_another_chain_without_profile_is_error(
    valid_certificate: Issued, anvil_chain: AnvilChain, issuer_pki_root: bytes
) -> None:
    """The node serves another chain than the receipt's: this node cannot decide, so ERROR."""
    other = Issued(valid_certificate.pdf, with_chain_id(valid_certificate.receipt, 999_999))

    report = verify(other, anvil_chain, None, trust_roots=[issuer_pki_root])

    assert report.verdict is Verdict.ERROR
    anchoring = report.check(CheckName.ANCHORING)
    assert anchoring is not None
    assert (anchoring.status, anchoring.code) == (CheckStatus.ERROR, "wrong_chain")
    assert anchoring.details["expected_chain_id"] == 999_999
    assert anchoring.details["actual_chain_id"] == anvil_chain.chain_id


def test_receipt_for_another_chain_than_the_issuers_is_invalid(
    valid_certificate: Issued, anvil_chain: AnvilChain, issuer_profile: IssuerProfile
) -> None:
    """With the profile we know the issuer never anchors on that chain: INVALID."""
    other = Issued(valid_certificate.pdf, with_chain_id(valid_certificate.receipt, 999_999))

    report = verify(other, anvil_chain, issuer_profile)

    assert report.verdict is Verdict.INVALID
    # The node serves the profile's chain: the root is found there, the receipt's claim is false.
    assert statuses(report)["anchoring"] == ("valid", "anchored")
    assert statuses(report)["issuer_identity"] == ("invalid", "chain_not_issuer")


def test_without_profile_is_error_but_trust_root_still_checks_signature(
    valid_certificate: Issued, anvil_chain: AnvilChain, issuer_pki_root: bytes
) -> None:
    report = verify(valid_certificate, anvil_chain, None, trust_roots=[issuer_pki_root])

    assert report.verdict is Verdict.ERROR
    assert statuses(report)["issuer_identity"] == ("skipped", "no_issuer_profile")
    assert statuses(report)["signature"] == ("valid", "signature_valid")


def test_without_profile_or_trust_root_nothing_is_trusted(
    valid_certificate: Issued, anvil_chain: AnvilChain
) -> None:
    report = verify(valid_certificate, anvil_chain, None)

    assert report.verdict is Verdict.ERROR
    assert statuses(report)["signature"] == ("skipped", "no_trust_roots")


def test_report_round_trips_through_json(
    leaf_revoked: Issued, anvil_chain: AnvilChain, issuer_profile: IssuerProfile
) -> None:
    report = verify(leaf_revoked, anvil_chain, issuer_profile)

    assert VerificationReport.from_json(report.to_json()) == report


def test_bytes_appended_to_the_pdf_are_invalid(
    valid_certificate: Issued, anvil_chain: AnvilChain, issuer_profile: IssuerProfile
) -> None:
    appended = Issued(valid_certificate.pdf + b"\n%%EOF\n", valid_certificate.receipt)

    report = verify(appended, anvil_chain, issuer_profile)

    assert report.verdict is Verdict.INVALID
    assert statuses(report)["integrity"] == ("invalid", "pdf_hash_mismatch")
