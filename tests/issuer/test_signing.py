"""PAdES signing: the signed PDF validates under the issuer's root, and only there."""

from __future__ import annotations

import pickle
import shutil
import subprocess
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509 import load_pem_x509_certificate
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import SecretStr, ValidationError
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import PdfSignatureStatus
from pyhanko_certvalidator import ValidationContext
from reportlab.pdfgen.canvas import Canvas

from issuer.dev_pki import DevPki, create_dev_pki
from issuer.errors import SigningError
from issuer.signing import (
    SignatureLevel,
    SigningIdentity,
    load_signer,
    read_certificate_id,
)
from tests.issuer.conftest import PASSPHRASE

CERTIFICATE_ID = "3f2a9c0d5b7e4f11a2c3d4e5f6a7b8c9"


def validate(pdf: bytes, root: Path) -> PdfSignatureStatus:
    """Validate the only signature of ``pdf`` trusting ``root`` alone."""
    reader = PdfFileReader(BytesIO(pdf))
    (signature,) = reader.embedded_signatures
    context = ValidationContext(trust_roots=[load_cert_from_pemder(str(root))])
    return validate_pdf_signature(signature, context)


def flip_one_byte_of_page_content(pdf: bytes) -> bytes:
    """Flip a byte inside the first compressed stream: the file still parses, the digest breaks."""
    position = pdf.index(b"stream\r\n" if b"stream\r\n" in pdf else b"stream\n") + 20
    return pdf[:position] + bytes([pdf[position] ^ 0x01]) + pdf[position + 1 :]


def blank_pdf() -> bytes:
    buffer = BytesIO()
    canvas = Canvas(buffer)
    canvas.drawString(72, 720, "no certificate here")
    canvas.save()
    return buffer.getvalue()


def test_signed_pdf_validates_under_the_issuer_root(signed_pdf: bytes, dev_pki: DevPki) -> None:
    status = validate(signed_pdf, dev_pki.root_cert)
    assert status.intact and status.valid and status.trusted
    assert status.coverage is not None and status.coverage.name == "ENTIRE_FILE"
    assert status.md_algorithm == "sha256"
    assert status.bottom_line


def test_signature_is_pades_with_the_issuer_reason(signed_pdf: bytes) -> None:
    (signature,) = PdfFileReader(BytesIO(signed_pdf)).embedded_signatures
    assert signature.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
    assert "Institut Linguistique de Lyon" in str(signature.sig_object["/Reason"])
    assert signature.field_name == "SceauSignature"
    widget_rect = [float(v) for v in signature.sig_field["/Rect"]]
    assert widget_rect == [0, 0, 0, 0]  # invisible


def test_signature_embeds_the_chain(signed_pdf: bytes, dev_pki: DevPki) -> None:
    (signature,) = PdfFileReader(BytesIO(signed_pdf)).embedded_signatures
    embedded = {choice.chosen.dump() for choice in signature.signed_data["certificates"]}
    for path in (dev_pki.root_cert, dev_pki.issuer_cert):
        assert load_cert_from_pemder(str(path)).dump() in embedded


def test_pdf_one_byte_flipped_fails_validation(signed_pdf: bytes, dev_pki: DevPki) -> None:
    status = validate(flip_one_byte_of_page_content(signed_pdf), dev_pki.root_cert)
    assert not status.intact
    assert not status.bottom_line


def test_signature_of_another_pki_is_not_trusted(
    rendered_pdf: bytes, dev_pki: DevPki, other_pki: DevPki
) -> None:
    forged = load_signer(other_pki.identity).sign(rendered_pdf)
    status = validate(forged, dev_pki.root_cert)
    assert status.intact and status.valid  # well-formed, but...
    assert not status.trusted
    assert not status.bottom_line


def test_pdfsig_reports_the_signature_valid(signed_pdf: bytes, tmp_path: Path) -> None:
    if shutil.which("pdfsig") is None:
        pytest.skip("pdfsig (poppler-utils) is not installed")
    path = tmp_path / "signed.pdf"
    path.write_bytes(signed_pdf)
    result = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, check=False)
    assert "Signature is Valid" in result.stdout
    assert "Total document signed" in result.stdout


def test_wrong_passphrase_is_a_signing_error(dev_pki: DevPki) -> None:
    identity = dev_pki.identity.model_copy(update={"passphrase": SecretStr("not it")})
    with pytest.raises(SigningError, match="wrong passphrase"):
        load_signer(identity)


def test_missing_passphrase_is_a_signing_error(dev_pki: DevPki) -> None:
    identity = dev_pki.identity.model_copy(update={"passphrase": None})
    with pytest.raises(SigningError, match="needs a passphrase"):
        load_signer(identity)


def test_unreadable_key_file_is_a_signing_error(dev_pki: DevPki, tmp_path: Path) -> None:
    identity = dev_pki.identity.model_copy(update={"key_file": tmp_path / "absent.pem"})
    with pytest.raises(SigningError, match="cannot read"):
        load_signer(identity)


def test_key_of_another_certificate_is_a_signing_error(dev_pki: DevPki, other_pki: DevPki) -> None:
    identity = other_pki.identity.model_copy(update={"cert_file": dev_pki.issuer_cert})
    with pytest.raises(SigningError, match="does not match"):
        load_signer(identity)


def test_expired_certificate_is_a_signing_error(tmp_path: Path) -> None:
    old = create_dev_pki(
        tmp_path, issuer_name="Old", passphrase=None, now=datetime(2015, 1, 1, tzinfo=UTC)
    )
    with pytest.raises(SigningError, match="expired"):
        load_signer(old.identity)


def test_garbage_pdf_is_a_signing_error(dev_pki: DevPki) -> None:
    with pytest.raises(SigningError, match="could not be signed"):
        load_signer(dev_pki.identity).sign(b"this is not a PDF")


def test_a_timestamped_level_without_a_tsa_is_refused(dev_pki: DevPki) -> None:
    identity = dev_pki.identity.model_copy(update={"level": SignatureLevel.B_T})
    with pytest.raises(SigningError, match="needs a time-stamping authority"):
        load_signer(identity)


def test_pkcs12_identity_signs(rendered_pdf: bytes, dev_pki: DevPki, tmp_path: Path) -> None:
    key = serialization.load_pem_private_key(
        dev_pki.issuer_key.read_bytes(), password=PASSPHRASE.encode()
    )
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    cert = load_pem_x509_certificate(dev_pki.issuer_cert.read_bytes())
    root = load_pem_x509_certificate(dev_pki.root_cert.read_bytes())
    bundle = pkcs12.serialize_key_and_certificates(
        b"issuer",
        key,
        cert,
        [root],
        serialization.BestAvailableEncryption(b"p12 pass"),
    )
    (tmp_path / "issuer.p12").write_bytes(bundle)
    identity = SigningIdentity(
        pkcs12_file=tmp_path / "issuer.p12", passphrase=SecretStr("p12 pass")
    )
    assert validate(load_signer(identity).sign(rendered_pdf), dev_pki.root_cert).bottom_line


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({}, id="no_key_source"),
        pytest.param({"key_file": Path("k.pem")}, id="key_without_certificate"),
        pytest.param(
            {"key_file": Path("k"), "cert_file": Path("c"), "pkcs12_file": Path("p")}, id="both"
        ),
    ],
)
def test_identity_needs_exactly_one_key_source(fields: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        SigningIdentity(**fields)


def test_identity_pickles_for_worker_processes(dev_pki: DevPki) -> None:
    assert pickle.loads(pickle.dumps(dev_pki.identity)) == dev_pki.identity
    assert PASSPHRASE not in repr(dev_pki.identity)


def test_signer_is_loaded_once_per_process(dev_pki: DevPki) -> None:
    assert load_signer(dev_pki.identity) is load_signer(dev_pki.identity)


def _sign_in_worker(identity: SigningIdentity, pdf: bytes) -> bytes:
    return load_signer(identity).sign(pdf)


def test_worker_process_rebuilds_the_signer(rendered_pdf: bytes, dev_pki: DevPki) -> None:
    with ProcessPoolExecutor(max_workers=1) as pool:
        signed = pool.submit(_sign_in_worker, dev_pki.identity, rendered_pdf).result()
    assert validate(signed, dev_pki.root_cert).bottom_line


def test_certificate_id_round_trips(rendered_pdf: bytes, signed_pdf: bytes) -> None:
    assert read_certificate_id(rendered_pdf) == CERTIFICATE_ID
    assert read_certificate_id(signed_pdf) == CERTIFICATE_ID


@pytest.mark.parametrize(
    "garbage",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"not a pdf at all", id="text"),
        pytest.param(b"%PDF-1.7\n%%EOF\n", id="header_only"),
        pytest.param(blank_pdf(), id="pdf_without_certificate_id"),
    ],
)
def test_certificate_id_of_garbage_is_none(garbage: bytes) -> None:
    assert read_certificate_id(garbage) is None


def test_certificate_id_of_truncated_pdf_is_none(signed_pdf: bytes) -> None:
    assert read_certificate_id(signed_pdf[: len(signed_pdf) // 2]) is None


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=2048))
def test_certificate_id_never_crashes_on_random_bytes(data: bytes) -> None:
    assert read_certificate_id(b"%PDF-1.4\n" + data) in (None, CERTIFICATE_ID)


@settings(max_examples=100, deadline=None)
@given(position=st.integers(min_value=0), value=st.integers(min_value=0, max_value=255))
def test_certificate_id_never_crashes_on_corrupted_pdf(position: int, value: int) -> None:
    pdf = _SIGNED_SAMPLE
    position %= len(pdf)
    corrupted = pdf[:position] + bytes([value]) + pdf[position + 1 :]
    result = read_certificate_id(corrupted)
    assert result is None or len(result) == 32


_SIGNED_SAMPLE = blank_pdf()
