"""A throw-away PKI for development and tests: a root CA and one document-signing certificate."""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID, ObjectIdentifier
from pydantic import SecretStr

from issuer.errors import DevPkiError
from issuer.signing import SigningIdentity

ROOT_CERT_NAME = "root.pem"
ISSUER_CERT_NAME = "issuer.pem"
ISSUER_KEY_NAME = "issuer.key.pem"

# RFC 9336 id-kp-documentSigning: the purpose a document-signing certificate should state.
DOCUMENT_SIGNING = ObjectIdentifier("1.3.6.1.5.5.7.3.36")
ROOT_VALIDITY = timedelta(days=3650)
ISSUER_VALIDITY = timedelta(days=3 * 365)
CLOCK_SKEW = timedelta(hours=1)


@dataclass(frozen=True)
class DevPki:
    """Paths of a development PKI and the identity that signs with it."""

    root_cert: Path
    issuer_cert: Path
    issuer_key: Path
    identity: SigningIdentity


def create_dev_pki(
    directory: Path,
    *,
    issuer_name: str,
    passphrase: str | None,
    force: bool = False,
    now: datetime | None = None,
) -> DevPki:
    """Create root.pem, issuer.pem and issuer.key.pem (0600) in ``directory``; never overwrite
    unless ``force``."""
    now = now or datetime.now(UTC)
    passphrase = passphrase or None  # an empty passphrase would encrypt with nothing
    paths = [directory / name for name in (ROOT_CERT_NAME, ISSUER_CERT_NAME, ISSUER_KEY_NAME)]
    if not force:
        _refuse_existing(paths)
    root_key = ec.generate_private_key(ec.SECP256R1())
    issuer_key = ec.generate_private_key(ec.SECP256R1())
    root = _root_certificate(root_key, issuer_name=issuer_name, now=now)
    leaf = _issuer_certificate(issuer_key, root, root_key, issuer_name=issuer_name, now=now)
    _create_directory(directory)
    _write_atomic(paths[0], _pem(root), mode=0o644, overwrite=force)
    _write_atomic(paths[1], _pem(leaf), mode=0o644, overwrite=force)
    _write_atomic(paths[2], _key_pem(issuer_key, passphrase), mode=0o600, overwrite=force)
    return DevPki(
        root_cert=paths[0],
        issuer_cert=paths[1],
        issuer_key=paths[2],
        identity=_identity(paths, issuer_name=issuer_name, passphrase=passphrase),
    )


def _identity(paths: list[Path], *, issuer_name: str, passphrase: str | None) -> SigningIdentity:
    return SigningIdentity(
        key_file=paths[2],
        cert_file=paths[1],
        chain_files=(paths[0],),
        passphrase=SecretStr(passphrase) if passphrase is not None else None,
        reason=f"Certificat délivré par {issuer_name} / Certificate issued by {issuer_name}",
    )


def _refuse_existing(paths: list[Path]) -> None:
    existing = [str(path) for path in paths if path.exists()]
    if existing:
        raise DevPkiError(f"refusing to overwrite {', '.join(existing)} (use force)")


def _create_directory(directory: Path) -> None:
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DevPkiError(f"cannot create {directory}: {error.strerror}") from error


def _name(issuer_name: str, common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, issuer_name),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _root_certificate(
    key: ec.EllipticCurvePrivateKey, *, issuer_name: str, now: datetime
) -> x509.Certificate:
    name = _name(issuer_name, f"{issuer_name} development root CA")
    usage = _key_usage(digital_signature=False, content_commitment=False, cert_sign=True)
    return (
        _builder(name, name, key.public_key(), now=now, validity=ROOT_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )


def _issuer_certificate(
    key: ec.EllipticCurvePrivateKey,
    root: x509.Certificate,
    root_key: ec.EllipticCurvePrivateKey,
    *,
    issuer_name: str,
    now: datetime,
) -> x509.Certificate:
    name = _name(issuer_name, f"{issuer_name} document signing")
    usage = _key_usage(digital_signature=True, content_commitment=True, cert_sign=False)
    authority_key = x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key())
    return (
        _builder(name, root.subject, key.public_key(), now=now, validity=ISSUER_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.ExtendedKeyUsage([DOCUMENT_SIGNING]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(authority_key, critical=False)
        .sign(root_key, hashes.SHA256())
    )


def _builder(
    subject: x509.Name,
    issuer: x509.Name,
    public_key: ec.EllipticCurvePublicKey,
    *,
    now: datetime,
    validity: timedelta,
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - CLOCK_SKEW)
        .not_valid_after(now + validity)
    )


def _key_usage(
    *, digital_signature: bool, content_commitment: bool, cert_sign: bool
) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=content_commitment,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: ec.EllipticCurvePrivateKey, passphrase: str | None) -> bytes:
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase.encode())
        if passphrase
        else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )


def _write_atomic(path: Path, data: bytes, *, mode: int, overwrite: bool) -> None:
    """Write through a temporary file in the same directory, then rename (or link) into place."""
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "wb") as file:
            os.fchmod(file.fileno(), mode)
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        _move_into_place(Path(temporary), path, overwrite=overwrite)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)


def _move_into_place(temporary: Path, path: Path, *, overwrite: bool) -> None:
    if overwrite:
        os.replace(temporary, path)
        return
    try:
        os.link(temporary, path)  # fails if path exists, unlike rename: no silent clobbering
    except FileExistsError as error:
        raise DevPkiError(f"refusing to overwrite {path} (use force)") from error
