"""Verification judges time by the chain: the signing certificate is judged as of the earlier of
the anchoring block's time and the signature timestamp, with the revocation data the PDF carries
(the real certomancer PKI: OCSP, CRLs and a TSA over HTTP), and nothing fetched."""

from __future__ import annotations

import secrets
import time
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from contracts.profile import AnchoringAddress, IssuerProfile, SigningCertificate
from issuer.content import CefrLevel, CertificateContent
from issuer.render import render_certificate
from issuer.signing import SignatureLevel, SigningIdentity, load_signer
from tests.conftest import AnvilChain
from tests.pki.certomancer_pki import ServedPki, with_revocation_data
from tests.verifier.conftest import (
    BASE_URL,
    BRANDING,
    ISSUER_NAME,
    SINCE,
    Issued,
    anchor_certificate,
)
from verifier.independent import verify_with_receipt
from verifier.report import CheckName, CheckResult, CheckStatus, Verdict, VerificationReport

pytestmark = pytest.mark.chain


def render(certificate_id: str) -> bytes:
    content = CertificateContent(
        certificate_id=certificate_id,
        result_id=f"R-{certificate_id[:8]}",
        candidate_name="Ørjan Åsmund",
        date_of_birth=date(1995, 7, 2),
        candidate_number="LYO-2026-00077",
        exam="Diplôme de compétence en langue (DCL) — Anglais",
        language="Anglais / English",
        level=CefrLevel.C1,
        score=Decimal("88"),
        score_max=Decimal("100"),
        skills=(),
        session_date=date(2026, 10, 14),
        centre="Centre d'examen de Lyon Part-Dieu",
        issued_on=date(2026, 11, 20),
    )
    return render_certificate(content, branding=BRANDING)


def issue_with(
    identity: SigningIdentity, chain: AnvilChain, *, served: ServedPki | None = None
) -> Issued:
    """Sign at `identity`'s level (adding the DSS of `served` afterwards if given), anchor it."""
    certificate_id = secrets.token_hex(16)
    pdf = load_signer(identity).sign(render(certificate_id))
    if served is not None:
        pdf = with_revocation_data(pdf, served, revoked=True)
    # Block times are whole seconds: anchor in a later second than the timestamp, as a real
    # batch does (otherwise the block may look a fraction of a second older than the signature).
    time.sleep(1.1)
    receipt = anchor_certificate(pdf, certificate_id, chain.client(chain.issuer))
    return Issued(pdf=pdf, receipt=receipt)


@pytest.fixture(scope="module")
def pki_profile(certomancer_pki: ServedPki, anvil_chain: AnvilChain) -> IssuerProfile:
    """The issuer's profile on the certomancer PKI; both signing certificates are listed, so only
    the signature check can tell the revoked one apart."""
    files = certomancer_pki.files
    return IssuerProfile(
        name=ISSUER_NAME,
        public_base_url=BASE_URL,
        chain_id=anvil_chain.chain_id,
        contract=anvil_chain.contract_address,
        anchoring_addresses=(
            AnchoringAddress(address=anvil_chain.issuer.address, valid_from=SINCE),
        ),
        signing_certificates=(
            SigningCertificate(pem=files.signer_cert.read_text(), valid_from=SINCE),
            SigningCertificate(pem=files.revoked_signer_cert.read_text(), valid_from=SINCE),
        ),
        trust_roots=(files.root_cert.read_text(),),
    )


@pytest.fixture(scope="module")
def lta_certificate(certomancer_pki: ServedPki, anvil_chain: AnvilChain) -> Issued:
    """PAdES B-LTA (the default with a TSA), anchored by the issuer."""
    return issue_with(certomancer_pki.identity(None), anvil_chain)


def verify(
    issued: Issued, chain: AnvilChain, profile: IssuerProfile, **options: object
) -> VerificationReport:
    return verify_with_receipt(
        issued.pdf,
        issued.receipt,
        rpc_url=chain.rpc_url,
        profile=profile,
        **options,  # type: ignore[arg-type]
    )


def signature_check(report: VerificationReport) -> CheckResult:
    check = report.check(CheckName.SIGNATURE)
    assert check is not None
    return check


def test_b_lta_certificate_is_valid_judged_at_its_timestamp(
    lta_certificate: Issued, anvil_chain: AnvilChain, pki_profile: IssuerProfile
) -> None:
    report = verify(lta_certificate, anvil_chain, pki_profile)

    signature = signature_check(report)
    assert report.verdict is Verdict.VALID, [(c.name, c.code, c.details) for c in report.checks]
    assert signature.details["pades_level"] == "B-LTA"
    assert signature.details["judged_at_source"] == "signature_timestamp"
    assert signature.details["judged_at"] == signature.details["signature_timestamp"]
    assert signature.details["anchoring_time"] == report.anchored_at
    stamped = datetime.fromisoformat(str(signature.details["signature_timestamp"]))
    assert stamped <= datetime.fromisoformat(str(report.anchored_at))


def test_b_lta_certificate_stays_valid_after_the_signing_certificate_expired(
    lta_certificate: Issued,
    anvil_chain: AnvilChain,
    pki_profile: IssuerProfile,
    certomancer_pki: ServedPki,
) -> None:
    later = certomancer_pki.signer_not_after + timedelta(days=400)

    report = verify(lta_certificate, anvil_chain, pki_profile, now=later)

    assert report.verdict is Verdict.VALID
    assert report.checked_at == later
    judged_at = datetime.fromisoformat(str(signature_check(report).details["judged_at"]))
    assert judged_at < certomancer_pki.signer_not_after


def test_signed_after_the_signing_certificate_was_revoked_is_invalid(
    certomancer_pki: ServedPki, anvil_chain: AnvilChain, pki_profile: IssuerProfile
) -> None:
    # B-T: pyHanko will not sign at B-LT with a revoked certificate; the DSS comes after.
    identity = certomancer_pki.identity(SignatureLevel.B_T, revoked=True)
    issued = issue_with(identity, anvil_chain, served=certomancer_pki)

    report = verify(issued, anvil_chain, pki_profile)

    signature = signature_check(report)
    assert report.verdict is Verdict.INVALID
    assert (signature.status, signature.code) == (
        CheckStatus.INVALID,
        "signing_certificate_revoked",
    )
    assert datetime.fromisoformat(str(signature.details["judged_at"])) > certomancer_pki.revoked_at
    assert "revoked" in signature.message_en and "révoqué" in signature.message_fr
    identity_check = report.check(CheckName.ISSUER_IDENTITY)
    assert identity_check is not None and identity_check.status is CheckStatus.VALID


def test_without_embedded_revocation_data_nothing_is_fetched_and_trust_fails(
    certomancer_pki: ServedPki, anvil_chain: AnvilChain, pki_profile: IssuerProfile
) -> None:
    """B-T names an OCSP responder but carries no answer: the verifier asks no one."""
    issued = issue_with(certomancer_pki.identity(SignatureLevel.B_T), anvil_chain)

    report = verify(issued, anvil_chain, pki_profile)

    signature = signature_check(report)
    assert (signature.status, signature.code) == (CheckStatus.INVALID, "signature_untrusted")
    assert signature.details["pades_level"] == "B-T"
