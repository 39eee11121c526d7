"""PAdES signing of rendered certificates with the issuer's X.509 key (pyHanko)."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from io import BytesIO
from pathlib import Path
from typing import Self

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.hazmat.primitives.serialization import pkcs12
from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from pyhanko.keys.internal import (
    translate_pyca_cryptography_cert_to_asn1,
    translate_pyca_cryptography_key_to_asn1,
)
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko_certvalidator.registry import SimpleCertificateStore

from issuer.errors import SigningError
from issuer.trust_services import TrustServices, trust_services

CERTIFICATE_ID_INFO_KEY = "/SceauCertificateId"
SIGNATURE_FIELD_NAME = "SceauSignature"
_CERTIFICATE_ID = re.compile(r"^[0-9a-f]{32}$")

SigningKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
# Room for the CMS around the certificates: signed attributes, signer info, the signature itself.
CMS_OVERHEAD_BYTES = 2048


class SignatureLevel(StrEnum):
    """PAdES baseline levels (ETSI EN 319 142-1).

    B-T adds a signature timestamp, B-LT the chain's OCSP responses and CRLs in the document
    security store, B-LTA a document timestamp over all of it.
    """

    B_B = "B-B"
    B_T = "B-T"
    B_LT = "B-LT"
    B_LTA = "B-LTA"


class SigningIdentity(BaseModel):
    """Where the issuer's signing key lives: key + certificate PEMs, or one PKCS#12 file.

    Only paths and settings, so it pickles to process-pool workers, which rebuild the signer.
    """

    model_config = ConfigDict(frozen=True)

    key_file: Path | None = None
    cert_file: Path | None = None
    chain_files: tuple[Path, ...] = ()
    pkcs12_file: Path | None = None
    passphrase: SecretStr | None = None
    reason: str = Field(default="Certificat délivré / Certificate issued", max_length=200)
    location: str | None = Field(default=None, max_length=200)
    # None: B-LTA when a time-stamping authority is set, else B-B.
    level: SignatureLevel | None = None
    tsa_url: str | None = Field(default=None, pattern=r"^https?://")
    tsa_timeout_seconds: float = Field(default=10.0, gt=0)

    @model_validator(mode="after")
    def _one_key_source(self) -> Self:
        pem = self.key_file is not None and self.cert_file is not None
        partial_pem = (self.key_file is None) != (self.cert_file is None)
        if partial_pem or pem == (self.pkcs12_file is not None):
            raise ValueError("give either key_file and cert_file, or pkcs12_file")
        return self

    @model_validator(mode="after")
    def _timestamps_need_a_tsa(self) -> Self:
        if self.effective_level is not SignatureLevel.B_B and self.tsa_url is None:
            raise ValueError(f"PAdES {self.effective_level} needs a time-stamping authority URL")
        return self

    @property
    def effective_level(self) -> SignatureLevel:
        """The level signatures are made at: the configured one, else B-LTA with a TSA."""
        if self.level is not None:
            return self.level
        return SignatureLevel.B_B if self.tsa_url is None else SignatureLevel.B_LTA


class CertificateSigner:
    """Signs rendered certificate PDFs; build it with :func:`load_signer`."""

    def __init__(
        self,
        *,
        signer: signers.SimpleSigner,
        not_after: datetime,
        reserved_bytes: int | None = None,
        reason: str,
        location: str | None,
        level: SignatureLevel = SignatureLevel.B_B,
        services: TrustServices | None = None,
    ) -> None:
        self._not_after = not_after
        if signer.signing_cert is None:
            raise SigningError("the signing key has no certificate")
        if level is not SignatureLevel.B_B and services is None:
            raise SigningError(f"PAdES {level} needs a time-stamping authority (tsa_url)")
        self.certificate_der: bytes = signer.signing_cert.dump()
        self.level = level
        self._signer = signer
        self._reserved_bytes = reserved_bytes  # None: pyHanko estimates with a dry-run signature
        self._reason, self._location = reason, location
        self._services = services if level is not SignatureLevel.B_B else None
        # One TSA client for the signer's life: it caches the size estimate of a timestamp token.
        self._timestamper = self._services.timestamper() if self._services else None
        self._fixed_signer = None if _fetches_revocation(level) else self._pdf_signer()

    def sign(self, pdf: bytes) -> bytes:
        """Return ``pdf`` signed at the configured PAdES level; these bytes are final.

        Raises SigningServiceUnavailable when the TSA or a revocation service does not answer.
        """
        if datetime.now(UTC) >= self._not_after:
            raise SigningError(f"the signing certificate expired on {self._not_after:%Y-%m-%d}")
        pdf_signer = self._fixed_signer or self._pdf_signer()
        try:
            writer = IncrementalPdfFileWriter(BytesIO(pdf), strict=False)
            output = BytesIO()
            pdf_signer.sign_pdf(writer, output=output, bytes_reserved=self._reserved_bytes)
        except (PdfError, ValueError, OSError) as error:
            explained = self._services.explain(error) if self._services else None
            if explained is not None:
                raise explained from error
            raise SigningError(f"the PDF could not be signed: {error}") from error
        return output.getvalue()

    def _pdf_signer(self) -> signers.PdfSigner:
        # B-LT and up: a fresh validation context per document, so revocation data is current.
        context = self._services.fetching_context() if self._services else None
        metadata = signers.PdfSignatureMetadata(
            field_name=SIGNATURE_FIELD_NAME,
            md_algorithm="sha256",
            subfilter=fields.SigSeedSubFilter.PADES,
            reason=self._reason,
            location=self._location,
            embed_validation_info=_fetches_revocation(self.level),
            validation_context=context if _fetches_revocation(self.level) else None,
            use_pades_lta=self.level is SignatureLevel.B_LTA,
        )
        return signers.PdfSigner(
            metadata,
            signer=self._signer,
            timestamper=self._timestamper,
            new_field_spec=fields.SigFieldSpec(sig_field_name=SIGNATURE_FIELD_NAME),
        )


def _fetches_revocation(level: SignatureLevel) -> bool:
    return level in (SignatureLevel.B_LT, SignatureLevel.B_LTA)


def load_signer(identity: SigningIdentity) -> CertificateSigner:
    """Load the key material once per process and return a ready signer."""
    return _load_signer_cached(identity)


@functools.lru_cache(maxsize=8)
def _load_signer_cached(identity: SigningIdentity) -> CertificateSigner:
    material = read_signing_material(identity)
    key, cert, chain = material.key, material.certificate, list(material.chain)
    _check_certificate(cert, key, at=datetime.now(UTC))
    store = SimpleCertificateStore()  # type: ignore[no-untyped-call]  # untyped upstream
    store.register_multiple(translate_pyca_cryptography_cert_to_asn1(c) for c in chain)
    simple_signer = signers.SimpleSigner(
        signing_cert=translate_pyca_cryptography_cert_to_asn1(cert),
        signing_key=translate_pyca_cryptography_key_to_asn1(key),
        cert_registry=store,
    )
    level = identity.effective_level
    return CertificateSigner(
        signer=simple_signer,
        not_after=cert.not_valid_after_utc,
        reserved_bytes=_reserved_bytes(level, [cert, *chain]),
        reason=identity.reason,
        location=identity.location,
        level=level,
        services=_services(identity, level, [cert, *chain]),
    )


def _services(
    identity: SigningIdentity, level: SignatureLevel, certs: list[x509.Certificate]
) -> TrustServices | None:
    if level is SignatureLevel.B_B:
        return None  # a configured TSA goes unused: B-B carries no timestamp
    if identity.tsa_url is None:
        raise SigningError(f"PAdES {level} needs a time-stamping authority (tsa_url)")
    return trust_services(
        identity.tsa_url, timeout_seconds=identity.tsa_timeout_seconds, chain=certs
    )


def _reserved_bytes(level: SignatureLevel, certs: list[x509.Certificate]) -> int | None:
    """Size the signature container up front for B-B: it spares pyHanko a dry-run signature."""
    if level is not SignatureLevel.B_B:
        return None  # timestamps and revocation data vary in size: let pyHanko estimate
    embedded = sum(len(c.public_bytes(serialization.Encoding.DER)) for c in certs)
    return 2 * (embedded + CMS_OVERHEAD_BYTES)  # the container is written in hexadecimal


@dataclass(frozen=True)
class SigningMaterial:
    """The issuer's private key, its certificate and the chain above it, as read from files."""

    key: SigningKey
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]  # intermediates, then the root(s), as configured

    def __repr__(self) -> str:
        return "SigningMaterial(<issuer signing key>)"  # the key never in a log or traceback


def read_signing_material(identity: SigningIdentity) -> SigningMaterial:
    """Read the signing key, certificate and chain (PEM files or PKCS#12); raises SigningError.

    Every signer of the issuer (PDF, status list, wallet credential) starts from this; it does
    not judge the certificate against the clock (`load_signer` does, for the PDFs).
    """
    password = _password(identity)
    chain = [c for path in identity.chain_files for c in _read_certificates(path)]
    if identity.pkcs12_file is not None:
        key, cert, bundled = _read_pkcs12(identity.pkcs12_file, password)
        return SigningMaterial(key, cert, (*bundled, *chain))
    assert identity.key_file is not None and identity.cert_file is not None  # model validator
    key = _read_private_key(identity.key_file, password)
    certs = _read_certificates(identity.cert_file)
    return SigningMaterial(key, certs[0], (*certs[1:], *chain))


def _password(identity: SigningIdentity) -> bytes | None:
    if identity.passphrase is None:
        return None
    return identity.passphrase.get_secret_value().encode()


def _read_bytes(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise SigningError(f"cannot read the {what} {path}: {error.strerror}") from error


def _read_private_key(path: Path, password: bytes | None) -> SigningKey:
    data = _read_bytes(path, "signing key file")
    try:
        key = serialization.load_pem_private_key(data, password=password)
    except TypeError as error:  # cryptography says whether a passphrase was missing or extra
        hint = "needs a passphrase" if password is None else "is not encrypted: drop the passphrase"
        raise SigningError(f"the signing key {path} {hint}") from error
    except ValueError as error:
        raise SigningError(
            f"cannot open the signing key {path}: wrong passphrase, or not a PEM private key"
        ) from error
    return _supported_key(key, path)


def _supported_key(key: object, path: Path) -> SigningKey:
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise SigningError(f"the signing key {path} is neither an ECDSA nor an RSA key")
    return key


def _read_certificates(path: Path) -> list[x509.Certificate]:
    data = _read_bytes(path, "certificate file")
    try:
        certs = x509.load_pem_x509_certificates(data)
    except ValueError as error:
        raise SigningError(f"{path} does not hold a PEM certificate") from error
    return certs


def _read_pkcs12(
    path: Path, password: bytes | None
) -> tuple[SigningKey, x509.Certificate, list[x509.Certificate]]:
    data = _read_bytes(path, "PKCS#12 file")
    try:
        key, cert, others = pkcs12.load_key_and_certificates(data, password)
    except (TypeError, ValueError) as error:
        raise SigningError(
            f"cannot open the PKCS#12 file {path}: wrong passphrase, or not a PKCS#12 file"
        ) from error
    if key is None or cert is None:
        raise SigningError(f"the PKCS#12 file {path} lacks a private key or its certificate")
    return _supported_key(key, path), cert, list(others)


def _check_certificate(cert: x509.Certificate, key: SigningKey, *, at: datetime) -> None:
    """Refuse a certificate that does not match the key, is not valid now, or cannot sign."""
    if _spki(cert.public_key()) != _spki(key.public_key()):
        raise SigningError("the signing certificate does not match the private key")
    if at < cert.not_valid_before_utc:
        start = cert.not_valid_before_utc
        raise SigningError(f"the signing certificate is not valid before {start:%Y-%m-%d}")
    if at >= cert.not_valid_after_utc:
        end = cert.not_valid_after_utc
        raise SigningError(f"the signing certificate expired on {end:%Y-%m-%d}")
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return
    if not (usage.digital_signature or usage.content_commitment):
        raise SigningError("the signing certificate's key usage does not allow signatures")


def _spki(public_key: CertificatePublicKeyTypes) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def read_certificate_id(pdf: bytes) -> str | None:
    """Return the certificate id stored in a (signed) PDF's document info, or None."""
    try:
        value = _info_entry(pdf, CERTIFICATE_ID_INFO_KEY)
    except Exception:  # any file may be dropped here: unreadable simply means "no id"
        return None
    if isinstance(value, str) and _CERTIFICATE_ID.fullmatch(value):
        return value
    return None


def _info_entry(pdf: bytes, key: str) -> str | None:
    reader = PdfFileReader(BytesIO(pdf), strict=False)
    info = reader.trailer_view["/Info"]  # indexing dereferences; a missing key raises
    if not isinstance(info, generic.DictionaryObject):
        return None
    value = info.get(key)
    return str(value) if isinstance(value, generic.TextStringObject) else None
