"""Single checks: the signature judged as of a moment, the issuer role as of the anchoring block."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from contracts.client import AnchorRecord, CertificateStatus, Role
from contracts.profile import AnchoringAddress, IssuerProfile
from issuer.dev_pki import DevPki
from tests.conftest import AnvilChain
from tests.verifier.conftest import Issued, funded_account, issue
from verifier.chain import ChainReading
from verifier.checks.anchoring import check_anchoring
from verifier.checks.share import share_ended, share_expired
from verifier.checks.signature import check_signature
from verifier.independent import verify_with_receipt
from verifier.report import CheckStatus, Verdict


def root_der(pki: DevPki) -> bytes:
    cert = x509.load_pem_x509_certificate(pki.root_cert.read_bytes())
    return cert.public_bytes(Encoding.DER)


@pytest.mark.chain
def test_signature_is_judged_as_of_the_given_moment(
    valid_certificate: Issued, issuer_pki: DevPki
) -> None:
    anchored = valid_certificate.receipt.anchored_at
    expired = anchored + timedelta(days=4 * 365)  # the dev signing certificate lasts 3 years

    then = check_signature(
        valid_certificate.pdf,
        trust_roots=[root_der(issuer_pki)],
        moment=anchored,
        moment_source="t",
    )
    later = check_signature(
        valid_certificate.pdf, trust_roots=[root_der(issuer_pki)], moment=expired, moment_source="t"
    )

    assert (then.status, then.code) == (CheckStatus.VALID, "signature_valid")
    assert (later.status, later.code) == (CheckStatus.INVALID, "signature_untrusted")
    assert later.details["judged_at"] == expired.isoformat()


def test_a_file_that_is_no_pdf_is_unreadable() -> None:
    check = check_signature(
        b"not a pdf", trust_roots=[], moment=datetime.now(UTC), moment_source="t"
    )
    assert (check.status, check.code) == (CheckStatus.INVALID, "pdf_unreadable")


def test_an_anchorer_without_the_issuer_role_is_invalid(valid_certificate: Issued) -> None:
    receipt = valid_certificate.receipt
    anchor = AnchorRecord(receipt.anchored_at, receipt.block_number, "0x" + "33" * 20)
    status = CertificateStatus(
        leaf=bytes.fromhex(receipt.leaf[2:]),
        root=bytes.fromhex(receipt.root[2:]),
        anchor=anchor,
        revocation=None,
    )

    denied = check_anchoring(receipt, ChainReading(status, issuer_role_at_anchor=False))
    unknown = check_anchoring(receipt, ChainReading(status, issuer_role_at_anchor=None))

    assert (denied.status, denied.code) == (CheckStatus.INVALID, "anchorer_not_issuer")
    assert (unknown.status, unknown.code) == (CheckStatus.ERROR, "role_history_unavailable")


@pytest.mark.chain
def test_issuer_role_revoked_after_anchoring_keeps_the_certificate_valid(
    issuer_pki: DevPki, anvil_chain: AnvilChain, issuer_profile: IssuerProfile
) -> None:
    retired = funded_account(anvil_chain)
    admin = anvil_chain.client(anvil_chain.admin)
    admin.grant_role(Role.ISSUER, retired.address)
    issued = issue(issuer_pki, anvil_chain.client(retired))
    admin.revoke_role(Role.ISSUER, retired.address)
    since = issued.receipt.anchored_at - timedelta(days=1)
    profile = issuer_profile.model_copy(
        update={
            "anchoring_addresses": (AnchoringAddress(address=retired.address, valid_from=since),)
        }
    )

    report = verify_with_receipt(
        issued.pdf, issued.receipt, rpc_url=anvil_chain.rpc_url, profile=profile
    )

    assert report.verdict is Verdict.VALID, [(c.name, c.code) for c in report.checks]


def test_share_results_carry_both_languages() -> None:
    at = datetime(2027, 3, 1, tzinfo=UTC)
    assert "2027-03-01" in share_expired(at).message_fr
    assert share_ended().status is CheckStatus.INVALID
