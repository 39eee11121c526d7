"""The development PKI: sound certificates, a protected key, no silent overwrite."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from issuer.dev_pki import DOCUMENT_SIGNING, DevPki, create_dev_pki
from issuer.errors import DevPkiError
from tests.issuer.conftest import PASSPHRASE

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def load(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def test_writes_the_three_files(dev_pki: DevPki) -> None:
    assert {p.name for p in dev_pki.root_cert.parent.iterdir()} >= {
        "root.pem",
        "issuer.pem",
        "issuer.key.pem",
    }
    assert stat.S_IMODE(dev_pki.issuer_key.stat().st_mode) == 0o600
    assert not [p for p in dev_pki.root_cert.parent.iterdir() if p.name.startswith(".")]


def test_key_is_encrypted_with_the_passphrase(dev_pki: DevPki) -> None:
    pem = dev_pki.issuer_key.read_bytes()
    assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    key = load_pem_private_key(pem, password=PASSPHRASE.encode())
    assert isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp256r1"


def test_key_without_passphrase_is_plain(other_pki: DevPki) -> None:
    assert other_pki.issuer_key.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert other_pki.identity.passphrase is None


def test_root_is_a_ten_year_p256_ca(tmp_path: Path) -> None:
    root = load(create_dev_pki(tmp_path, issuer_name="ILL", passphrase=None, now=NOW).root_cert)
    assert root.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert root.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign
    assert isinstance(root.public_key(), ec.EllipticCurvePublicKey)
    assert root.not_valid_after_utc - NOW == timedelta(days=3650)


def test_issuer_certificate_is_a_three_year_document_signing_leaf(tmp_path: Path) -> None:
    pki = create_dev_pki(tmp_path, issuer_name="Institut Linguistique", passphrase=None, now=NOW)
    leaf, root = load(pki.issuer_cert), load(pki.root_cert)
    leaf.verify_directly_issued_by(root)
    usage = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment and not usage.key_cert_sign
    purposes = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(purposes) == [DOCUMENT_SIGNING]
    assert ExtendedKeyUsageOID.SERVER_AUTH not in purposes
    assert not leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    organisation = leaf.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    assert [a.value for a in organisation] == ["Institut Linguistique"]
    public_key = leaf.public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    assert public_key.curve.name == "secp256r1"
    assert leaf.not_valid_after_utc - NOW == timedelta(days=3 * 365)


def test_refuses_to_overwrite(tmp_path: Path) -> None:
    create_dev_pki(tmp_path, issuer_name="ILL", passphrase=None)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    with pytest.raises(DevPkiError, match="refusing to overwrite"):
        create_dev_pki(tmp_path, issuer_name="ILL", passphrase=None)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_force_replaces_every_file(tmp_path: Path) -> None:
    first = create_dev_pki(tmp_path, issuer_name="ILL", passphrase=None)
    old_root = first.root_cert.read_bytes()
    second = create_dev_pki(tmp_path, issuer_name="ILL", passphrase="new", force=True)
    assert second.root_cert.read_bytes() != old_root
    assert second.issuer_key.read_bytes().startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert stat.S_IMODE(second.issuer_key.stat().st_mode) == 0o600


def test_creates_missing_directories(tmp_path: Path) -> None:
    pki = create_dev_pki(tmp_path / "var" / "pki", issuer_name="ILL", passphrase=None)
    assert pki.issuer_cert.is_file()


def run_script(directory: Path, passphrase: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "SCEAU_SIGNING_KEY_PASSPHRASE"}
    if passphrase is not None:
        env["SCEAU_SIGNING_KEY_PASSPHRASE"] = passphrase
    command = [sys.executable, "scripts/make_dev_pki.py", "--dir", str(directory)]
    return subprocess.run(
        [*command, "--issuer-name", "ILL"], cwd=REPO, env=env, capture_output=True, text=True
    )


def test_script_warns_when_the_key_is_not_encrypted(tmp_path: Path) -> None:
    result = run_script(tmp_path, passphrase=None)
    assert result.returncode == 0, result.stderr
    assert "NOT encrypted" in result.stderr and "Development only" in result.stderr
    assert "PRIVATE KEY" not in result.stdout + result.stderr


def test_script_encrypts_with_the_passphrase_and_never_prints_it(tmp_path: Path) -> None:
    result = run_script(tmp_path, passphrase="s3cret-passphrase")
    assert result.returncode == 0, result.stderr
    assert "s3cret-passphrase" not in result.stdout + result.stderr
    assert "PRIVATE KEY" not in result.stdout + result.stderr
    assert (tmp_path / "issuer.key.pem").read_bytes().startswith(b"-----BEGIN ENCRYPTED")


def test_script_refuses_to_overwrite(tmp_path: Path) -> None:
    assert run_script(tmp_path, passphrase=None).returncode == 0
    result = run_script(tmp_path, passphrase=None)
    assert result.returncode == 1
    assert "refusing to overwrite" in result.stderr
