"""PAdES B-T, B-LT and B-LTA against the real certomancer PKI (TSA, OCSP, CRLs over HTTP),
checked from the outside: pyHanko's validators and poppler's pdfsig."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from io import BytesIO
from pathlib import Path

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation.ades import ades_lta_validation
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.sign.validation.policy_decl import (
    PdfSignatureValidationSpec,
    RevinfoOnlineFetchingRule,
    RevocationInfoGatheringSpec,
    SignatureValidationSpec,
)
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator.context import CertValidationPolicySpec
from pyhanko_certvalidator.ltv.types import ValidationTimingInfo
from pyhanko_certvalidator.policy_decl import REQUIRE_REVINFO, CertRevTrustPolicy
from pyhanko_certvalidator.registry import SimpleTrustManager

from issuer.signing import SignatureLevel, SigningError, SigningIdentity, load_signer
from tests.pki.certomancer_pki import ServedPki


def sign(identity: SigningIdentity, pdf: bytes) -> bytes:
    return load_signer(identity).sign(pdf)


def signature_timestamp_present(pdf: bytes) -> bool:
    signature = PdfFileReader(BytesIO(pdf)).embedded_regular_signatures[0]
    unsigned = signature.signer_info["unsigned_attrs"]
    types = [a["type"].native for a in unsigned] if unsigned.native else []
    return "signature_time_stamp_token" in types


def dss_present(pdf: bytes) -> bool:
    return "/DSS" in PdfFileReader(BytesIO(pdf)).root


def document_timestamps(pdf: bytes) -> int:
    return len(PdfFileReader(BytesIO(pdf)).embedded_timestamp_signatures)


@pytest.fixture(scope="module")
def lta_pdf(certomancer_pki: ServedPki, rendered_pdf: bytes) -> bytes:
    return sign(certomancer_pki.identity(SignatureLevel.B_LTA), rendered_pdf)


def test_a_tsa_makes_b_lta_the_default(certomancer_pki: ServedPki) -> None:
    identity = certomancer_pki.identity(None)
    assert identity.effective_level is SignatureLevel.B_LTA
    assert load_signer(identity).level is SignatureLevel.B_LTA


def test_without_a_tsa_the_default_stays_b_b(certomancer_pki: ServedPki) -> None:
    identity = certomancer_pki.identity(None, tsa_url=None)
    assert identity.effective_level is SignatureLevel.B_B


def test_a_timestamped_level_without_a_tsa_is_refused(certomancer_pki: ServedPki) -> None:
    with pytest.raises(ValueError, match="needs a time-stamping authority"):
        certomancer_pki.identity(SignatureLevel.B_T, tsa_url=None)


@pytest.mark.parametrize(
    ("level", "timestamp", "dss", "doc_timestamps"),
    [
        (SignatureLevel.B_B, False, False, 0),
        (SignatureLevel.B_T, True, False, 0),
        (SignatureLevel.B_LT, True, True, 0),
        (SignatureLevel.B_LTA, True, True, 1),
    ],
)
def test_each_level_carries_what_it_promises(
    certomancer_pki: ServedPki,
    rendered_pdf: bytes,
    level: SignatureLevel,
    timestamp: bool,
    dss: bool,
    doc_timestamps: int,
) -> None:
    pdf = sign(certomancer_pki.identity(level), rendered_pdf)
    assert signature_timestamp_present(pdf) is timestamp
    assert dss_present(pdf) is dss
    assert document_timestamps(pdf) == doc_timestamps


def test_the_dss_holds_the_chains_revocation_data(lta_pdf: bytes) -> None:
    dss = DocumentSecurityStore.read_dss(PdfFileReader(BytesIO(lta_pdf)))
    assert dss.ocsps, "the signing certificate's OCSP response"
    assert dss.crls, "the intermediate's CRL from the root"


def test_a_revoked_signing_certificate_signs_nothing_at_b_lt(
    certomancer_pki: ServedPki, rendered_pdf: bytes
) -> None:
    identity = certomancer_pki.identity(SignatureLevel.B_LTA, revoked=True)
    with pytest.raises(SigningError, match="revoked"):
        sign(identity, rendered_pdf)


def test_pyhanko_ades_lta_validation_passes(lta_pdf: bytes, certomancer_pki: ServedPki) -> None:
    """pyHanko 0.38 names the validation process (LTA), not a baseline level: we check that the
    LTA process passes, on a chain of document timestamps, with a validated signature timestamp."""
    root = asn1_x509.Certificate.load(_der(certomancer_pki.files.root_cert.read_bytes()))
    policy = CertValidationPolicySpec(
        trust_manager=SimpleTrustManager.build(trust_roots=[root]),
        revinfo_policy=CertRevTrustPolicy(REQUIRE_REVINFO),
    )
    spec = PdfSignatureValidationSpec(
        SignatureValidationSpec(
            cert_validation_policy=policy,
            revinfo_gathering_policy=RevocationInfoGatheringSpec(
                online_fetching_rule=RevinfoOnlineFetchingRule.LOCAL_ONLY
            ),
        )
    )
    signature = PdfFileReader(BytesIO(lta_pdf)).embedded_regular_signatures[0]
    result = asyncio.run(
        ades_lta_validation(signature, spec, timing_info=ValidationTimingInfo.now())
    )
    assert result.ades_subindic.status.name == "PASSED", result.ades_subindic
    assert result.oldest_evidence_record_timestamp is not None  # the document timestamp
    assert result.signature_timestamp_status is not None
    assert result.signature_timestamp_status.ades_subindic.status.name == "PASSED"
    assert result.api_status.coverage is SignatureCoverageLevel.ENTIRE_REVISION


def _der(pem: bytes) -> bytes:
    return x509.load_pem_x509_certificate(pem).public_bytes(Encoding.DER)


@pytest.mark.skipif(shutil.which("pdfsig") is None, reason="poppler's pdfsig is not installed")
def test_pdfsig_shows_a_valid_signature_and_a_timestamp(lta_pdf: bytes, tmp_path: Path) -> None:
    path = tmp_path / "certificate.pdf"
    path.write_bytes(lta_pdf)
    # -no-ocsp: pdfsig must not go online; without an NSS database it cannot trust our root.
    run = subprocess.run(
        ["pdfsig", "-no-ocsp", str(path)], capture_output=True, text=True, timeout=60, check=False
    )
    assert run.returncode == 0, run.stderr
    signatures = run.stdout.split("Signature #")[1:]
    assert len(signatures) == 2, run.stdout
    signature, timestamp = signatures
    assert "Signature Field Name: SceauSignature" in signature
    assert "Signature Type: ETSI.CAdES.detached" in signature
    assert "Signature Validation: Signature is Valid." in signature
    # pdfsig 22 lists the document timestamp (ETSI.RFC3161) and who made it, without checking it.
    assert "Signer Certificate Common Name: Sceau Test Time-Stamping Authority" in timestamp
