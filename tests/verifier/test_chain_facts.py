"""The receipt's copy of the anchoring (block, time, transaction) must be what the chain says."""

from __future__ import annotations

from datetime import timedelta

import pytest

from contracts.profile import IssuerProfile
from contracts.receipt import Receipt
from tests.conftest import AnvilChain
from tests.verifier.conftest import Issued
from verifier.chain import ChainCache
from verifier.independent import verify_with_receipt
from verifier.report import CheckName, Verdict, VerificationReport

pytestmark = pytest.mark.chain


def claiming(issued: Issued, **fields: object) -> Issued:
    """The same certificate with a receipt that claims other chain facts."""
    receipt = Receipt.model_validate({**issued.receipt.model_dump(), **fields})
    return Issued(pdf=issued.pdf, receipt=receipt)


def verify(
    issued: Issued, chain: AnvilChain, profile: IssuerProfile, cache: ChainCache | None = None
) -> VerificationReport:
    return verify_with_receipt(
        issued.pdf, issued.receipt, rpc_url=chain.rpc_url, profile=profile, cache=cache
    )


def anchoring(report: VerificationReport) -> tuple[str, str]:
    check = report.check(CheckName.ANCHORING)
    assert check is not None
    return check.status.value, check.code


def test_a_wrong_block_number_is_invalid(
    valid_certificate: Issued, anvil_chain: AnvilChain, issuer_profile: IssuerProfile
) -> None:
    lying = claiming(valid_certificate, block_number=valid_certificate.receipt.block_number + 1)

    report = verify(lying, anvil_chain, issuer_profile)

    assert report.verdict is Verdict.INVALID
    assert anchoring(report) == ("invalid", "receipt_block_mismatch")
    check = report.check(CheckName.ANCHORING)
    assert check is not None and check.details["block_number"] == lying.receipt.block_number - 1


def test_a_wrong_anchoring_time_is_invalid(
    valid_certificate: Issued, anvil_chain: AnvilChain, issuer_profile: IssuerProfile
) -> None:
    later = valid_certificate.receipt.anchored_at + timedelta(seconds=1)

    report = verify(claiming(valid_certificate, anchored_at=later), anvil_chain, issuer_profile)

    assert report.verdict is Verdict.INVALID
    assert anchoring(report) == ("invalid", "receipt_time_mismatch")


def test_the_same_time_in_another_offset_is_the_same_instant(
    valid_certificate: Issued, anvil_chain: AnvilChain, issuer_profile: IssuerProfile
) -> None:
    text = valid_certificate.receipt.to_json().decode()
    utc = valid_certificate.receipt.anchored_at
    paris = (utc + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S+01:00")
    moved = text.replace(utc.strftime("%Y-%m-%dT%H:%M:%SZ"), paris)
    assert moved != text
    issued = Issued(pdf=valid_certificate.pdf, receipt=Receipt.from_json(moved))

    assert verify(issued, anvil_chain, issuer_profile).verdict is Verdict.VALID


def test_an_unknown_transaction_is_invalid(
    valid_certificate: Issued, anvil_chain: AnvilChain, issuer_profile: IssuerProfile
) -> None:
    report = verify(
        claiming(valid_certificate, transaction="0x" + "ab" * 32), anvil_chain, issuer_profile
    )

    assert report.verdict is Verdict.INVALID
    assert anchoring(report) == ("invalid", "receipt_transaction_mismatch")
    check = report.check(CheckName.ANCHORING)
    assert check is not None and check.details["why"] == "not_found"


def test_the_transaction_of_another_anchoring_is_invalid_even_once_cached(
    valid_certificate: Issued,
    signed_by_rogue_pki: Issued,
    anvil_chain: AnvilChain,
    issuer_profile: IssuerProfile,
) -> None:
    cache = ChainCache()
    assert verify(valid_certificate, anvil_chain, issuer_profile, cache).verdict is Verdict.VALID
    other = signed_by_rogue_pki.receipt.transaction

    report = verify(
        claiming(valid_certificate, transaction=other), anvil_chain, issuer_profile, cache
    )

    assert report.verdict is Verdict.INVALID
    assert anchoring(report) == ("invalid", "receipt_transaction_mismatch")
    check = report.check(CheckName.ANCHORING)
    assert check is not None and check.details["why"] == "other_block"
    assert verify(valid_certificate, anvil_chain, issuer_profile, cache).verdict is Verdict.VALID


def test_a_receipt_naming_another_contract_is_invalid_and_the_profiles_is_asked(
    valid_certificate: Issued, anvil_chain: AnvilChain, issuer_profile: IssuerProfile
) -> None:
    """The genuine root, but the receipt names another registry: the profile decides."""
    other = "0x" + "12" * 20

    report = verify(claiming(valid_certificate, contract=other), anvil_chain, issuer_profile)

    assert report.verdict is Verdict.INVALID
    assert anchoring(report) == ("valid", "anchored")  # asked of the profile's registry
    identity = report.check(CheckName.ISSUER_IDENTITY)
    assert identity is not None and identity.code == "contract_not_issuer"


def test_the_contract_in_another_case_is_the_same_registry(
    valid_certificate: Issued, anvil_chain: AnvilChain, issuer_profile: IssuerProfile
) -> None:
    lower = claiming(valid_certificate, contract=valid_certificate.receipt.contract.lower())

    assert verify(lower, anvil_chain, issuer_profile).verdict is Verdict.VALID


def test_a_profile_whose_registry_is_not_on_the_node_cannot_decide(
    valid_certificate: Issued, anvil_chain: AnvilChain, issuer_profile: IssuerProfile
) -> None:
    nowhere = issuer_profile.model_copy(update={"contract": "0x" + "34" * 20})

    report = verify(claiming(valid_certificate, contract="0x" + "34" * 20), anvil_chain, nowhere)

    assert report.verdict is Verdict.ERROR
    assert anchoring(report) == ("error", "no_contract")


def test_without_a_profile_a_receipt_naming_no_registry_is_invalid(
    valid_certificate: Issued, anvil_chain: AnvilChain
) -> None:
    lying = claiming(valid_certificate, contract="0x" + "34" * 20)

    report = verify_with_receipt(
        lying.pdf, lying.receipt, rpc_url=anvil_chain.rpc_url, profile=None
    )

    assert report.verdict is Verdict.INVALID
    assert anchoring(report) == ("invalid", "no_contract")
