"""A signature timestamp moves the judging time earlier only when its token is verified
(docs/receipt.md, section 5): a token from a time-stamping authority that does not chain to the
profile's trust roots is ignored, so one dated before the signing certificate was revoked does
not rescue it, and one on a good signature changes nothing."""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime, timedelta
from io import BytesIO

import pytest
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers, timestamps

from contracts.profile import IssuerProfile
from tests.conftest import AnvilChain
from tests.pki.certomancer_pki import ServedPki, with_revocation_data
from tests.verifier.conftest import Issued, anchor_certificate
from tests.verifier.test_time import pki_profile, render, signature_check, verify
from verifier.report import CheckStatus, Verdict

pytestmark = pytest.mark.chain

__all__ = ["pki_profile"]  # the fixture, shared with test_time


def rogue_timestamper(at: datetime) -> timestamps.DummyTimeStamper:
    """A time-stamping authority of the forger's own, answering with the time it is told."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Rogue TSA")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(at - timedelta(days=3650))
        .not_valid_after(at + timedelta(days=3650))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_der = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return timestamps.DummyTimeStamper(
        tsa_cert=asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER)),
        tsa_key=asn1_keys.PrivateKeyInfo.load(key_der),
        fixed_dt=at,
    )


def sign_with_forged_timestamp(
    served: ServedPki, certificate_id: str, *, revoked: bool, stamped_at: datetime
) -> bytes:
    files = served.files
    cert_file = files.revoked_signer_cert if revoked else files.signer_cert
    key_file = files.revoked_signer_key if revoked else files.signer_key
    signer = signers.SimpleSigner.load(
        str(key_file), str(cert_file), ca_chain_files=(str(files.interm_cert),)
    )
    assert signer is not None
    pdf_signer = signers.PdfSigner(
        signers.PdfSignatureMetadata(
            field_name="Signature", subfilter=fields.SigSeedSubFilter.PADES
        ),
        signer=signer,
        timestamper=rogue_timestamper(stamped_at),
    )
    output = BytesIO()
    pdf_signer.sign_pdf(IncrementalPdfFileWriter(BytesIO(render(certificate_id))), output=output)
    return with_revocation_data(output.getvalue(), served, revoked=revoked)


def issue(pdf: bytes, certificate_id: str, chain: AnvilChain) -> Issued:
    time.sleep(1.1)  # a later block second than the signature
    return Issued(
        pdf=pdf, receipt=anchor_certificate(pdf, certificate_id, chain.client(chain.issuer))
    )


@pytest.mark.parametrize(
    ("revoked", "verdict", "code"),
    [
        (True, Verdict.INVALID, "signing_certificate_revoked"),
        (False, Verdict.VALID, "signature_valid"),
    ],
    ids=["revoked_signer", "valid_signer"],
)
def test_an_untrusted_timestamp_token_is_ignored_and_moves_no_time(
    revoked: bool,
    verdict: Verdict,
    code: str,
    certomancer_pki: ServedPki,
    anvil_chain: AnvilChain,
    pki_profile: IssuerProfile,
) -> None:
    # Dated before the revocation: trusted, this token would make the revoked signer pass.
    stamped_at = certomancer_pki.revoked_at - timedelta(minutes=5)
    certificate_id = secrets.token_hex(16)
    pdf = sign_with_forged_timestamp(
        certomancer_pki, certificate_id, revoked=revoked, stamped_at=stamped_at
    )
    issued = issue(pdf, certificate_id, anvil_chain)

    report = verify(issued, anvil_chain, pki_profile)

    signature = signature_check(report)
    assert report.verdict is verdict, [(c.name, c.code, c.details) for c in report.checks]
    status = CheckStatus.INVALID if revoked else CheckStatus.VALID
    assert (signature.status, signature.code) == (status, code)
    assert signature.details["signature_timestamp_trusted"] is False
    assert signature.details["signature_timestamp"] == stamped_at.astimezone(UTC).isoformat()
    assert signature.details["judged_at"] == report.anchored_at
    assert datetime.fromisoformat(str(signature.details["judged_at"])) > stamped_at
