"""Encryption of certificates and their data keys (PyNaCl: XChaCha20-Poly1305, SealedBox).

Layout of every AEAD output: one version byte, a random 24-byte nonce, then the
ciphertext with its 16-byte tag. The associated data is bound to a domain label, so
a document ciphertext can never be taken for a key wrap, nor one certificate's blob
for another's.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import os
import re
import secrets
from pathlib import Path
from typing import Any, Final, Self

import nacl.exceptions
import nacl.pwhash.argon2id as argon2id
import nacl.secret
import nacl.utils
from nacl.bindings import (
    crypto_aead_xchacha20poly1305_ietf_decrypt,
    crypto_aead_xchacha20poly1305_ietf_encrypt,
)
from nacl.public import PrivateKey, PublicKey, SealedBox

from offchain_store.errors import DecryptionFailed, KeyFileError, MalformedToken

KEY_SIZE: Final = 32
NONCE_SIZE: Final = 24
TAG_SIZE: Final = 16
FORMAT_VERSION: Final = b"\x01"

_DOCUMENT_DOMAIN: Final = b"sceau/document/v1|"
_WRAP_DOMAIN: Final = b"sceau/wrap/v1|"
_TOKEN_PATTERN: Final = re.compile(r"[A-Za-z0-9_-]{43}")

_PRIVATE_FORMAT: Final = "sceau-recovery-private-key"
_PUBLIC_FORMAT: Final = "sceau-recovery-public-key"
DEFAULT_KDF_LIMITS: Final = (argon2id.OPSLIMIT_MODERATE, argon2id.MEMLIMIT_MODERATE)


class _SecretKey:
    """32 secret bytes that never show in a repr, a str or a log line."""

    __slots__ = ("_raw",)
    _raw: bytes

    def __init__(self, raw: bytes) -> None:
        if not isinstance(raw, bytes) or len(raw) != KEY_SIZE:
            raise ValueError(f"{type(self).__name__} needs exactly {KEY_SIZE} bytes.")
        object.__setattr__(self, "_raw", raw)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable.")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable.")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(<secret>)"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, _SecretKey)
        return hmac.compare_digest(self._raw, other._raw)

    __hash__ = None  # type: ignore[assignment]  # secrets are not dictionary keys

    def __reduce__(self) -> Any:
        raise TypeError(f"{type(self).__name__} cannot be pickled.")

    def secret_bytes(self) -> bytes:
        """The raw key bytes; only for the cryptographic calls that need them."""
        return self._raw


class DataKey(_SecretKey):
    """The per-certificate key that encrypts one signed PDF; stored only wrapped or sealed."""

    __slots__ = ()


class LinkKey(_SecretKey):
    """A key carried in a link's URL fragment; it wraps the certificate's data key."""

    __slots__ = ()

    def to_token(self) -> str:
        """Unpadded base64url (43 characters), for the `#...` part of a link."""
        return base64.urlsafe_b64encode(self._raw).rstrip(b"=").decode("ascii")

    @classmethod
    def from_token(cls, token: str) -> Self:
        """Parse a token made by `to_token`; raise MalformedToken on anything else."""
        if not isinstance(token, str) or not _TOKEN_PATTERN.fullmatch(token):
            raise MalformedToken()
        try:
            raw = base64.urlsafe_b64decode(token + "=")
        except (binascii.Error, ValueError):
            raise MalformedToken() from None
        key = cls(raw)
        if not hmac.compare_digest(key.to_token(), token):  # refuse non-canonical last char
            raise MalformedToken()
        return key


def new_data_key() -> DataKey:
    """A fresh random 256-bit data key."""
    return DataKey(secrets.token_bytes(KEY_SIZE))


def new_link_key() -> LinkKey:
    """A fresh random 256-bit link key."""
    return LinkKey(secrets.token_bytes(KEY_SIZE))


def _seal(plaintext: bytes, key: bytes, aad: bytes) -> bytes:
    nonce = nacl.utils.random(NONCE_SIZE)
    body = crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, FORMAT_VERSION + aad, nonce, key)
    return FORMAT_VERSION + nonce + body


def _open(ciphertext: bytes, key: bytes, aad: bytes, what: str) -> bytes:
    header = len(FORMAT_VERSION) + NONCE_SIZE
    if len(ciphertext) < header + TAG_SIZE or ciphertext[:1] != FORMAT_VERSION:
        raise DecryptionFailed(what)
    nonce, body = ciphertext[1:header], ciphertext[header:]
    try:
        return crypto_aead_xchacha20poly1305_ietf_decrypt(body, FORMAT_VERSION + aad, nonce, key)
    except nacl.exceptions.CryptoError:
        raise DecryptionFailed(what) from None


def encrypt_document(plaintext: bytes, key: DataKey, *, associated_data: bytes) -> bytes:
    """Encrypt a signed PDF; `associated_data` (the certificate id) must match at decryption."""
    return _seal(plaintext, key.secret_bytes(), _DOCUMENT_DOMAIN + associated_data)


def decrypt_document(ciphertext: bytes, key: DataKey, *, associated_data: bytes) -> bytes:
    """Decrypt a document; raise DecryptionFailed on a wrong key, id or altered byte."""
    return _open(ciphertext, key.secret_bytes(), _DOCUMENT_DOMAIN + associated_data, "document")


def wrap_data_key(data_key: DataKey, link_key: LinkKey, *, associated_data: bytes) -> bytes:
    """Encrypt a data key under a link key (candidate link or share link)."""
    aad = _WRAP_DOMAIN + associated_data
    return _seal(data_key.secret_bytes(), link_key.secret_bytes(), aad)


def unwrap_data_key(wrapped: bytes, link_key: LinkKey, *, associated_data: bytes) -> DataKey:
    """Recover a data key from its wrap; raise DecryptionFailed if the link key is not the one."""
    aad = _WRAP_DOMAIN + associated_data
    raw = _open(wrapped, link_key.secret_bytes(), aad, "wrapped data key")
    if len(raw) != KEY_SIZE:
        raise DecryptionFailed("wrapped data key")
    return DataKey(raw)


def seal_data_key_for_recovery(data_key: DataKey, recovery_public_key: PublicKey) -> bytes:
    """Seal a data key to the issuer's offline recovery key (X25519 SealedBox)."""
    return SealedBox(recovery_public_key).encrypt(data_key.secret_bytes())


def unseal_data_key(sealed: bytes, recovery_private_key: PrivateKey) -> DataKey:
    """Open a sealed data key with the recovery private key; DecryptionFailed otherwise."""
    try:
        raw = SealedBox(recovery_private_key).decrypt(sealed)
    except nacl.exceptions.CryptoError:
        raise DecryptionFailed("sealed data key") from None
    if len(raw) != KEY_SIZE:
        raise DecryptionFailed("sealed data key")
    return DataKey(raw)


# --- Recovery key files -------------------------------------------------------------


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _unb64(text: object, path: Path) -> bytes:
    if not isinstance(text, str):
        raise KeyFileError(f"The key file {path} is malformed.")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise KeyFileError(f"The key file {path} is malformed.") from None


def public_key_fingerprint(public_key: PublicKey) -> str:
    """A short, printable fingerprint to tell recovery keys apart (not secret)."""
    return base64.b32encode(bytes(public_key)).decode("ascii")[:16].lower()


def _derive_file_key(passphrase: str, salt: bytes, opslimit: int, memlimit: int) -> bytes:
    return argon2id.kdf(
        nacl.secret.SecretBox.KEY_SIZE, passphrase.encode("utf-8"), salt, opslimit, memlimit
    )


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_new_file(path: Path, content: bytes, mode: int) -> None:
    """Write `content` to a new file atomically; refuse to replace an existing file."""
    temp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)  # the umask may have narrowed the mode; be exact
        os.link(temp, path)  # fails if `path` exists: no silent overwrite, no race
    except FileExistsError:
        raise KeyFileError(f"{path} already exists; refusing to overwrite a key file.") from None
    finally:
        temp.unlink(missing_ok=True)
    _fsync_directory(path.parent)


def _private_key_document(
    private_key: PrivateKey, passphrase: str, kdf_limits: tuple[int, int]
) -> dict[str, object]:
    opslimit, memlimit = kdf_limits
    salt = nacl.utils.random(argon2id.SALTBYTES)
    box = nacl.secret.SecretBox(_derive_file_key(passphrase, salt, opslimit, memlimit))
    return {
        "format": _PRIVATE_FORMAT,
        "version": 1,
        "public_key": _b64(bytes(private_key.public_key)),
        "kdf": {"name": "argon2id", "opslimit": opslimit, "memlimit": memlimit, "salt": _b64(salt)},
        "secretbox": _b64(bytes(box.encrypt(bytes(private_key)))),
    }


def _public_key_document(public_key: PublicKey) -> dict[str, object]:
    return {
        "format": _PUBLIC_FORMAT,
        "version": 1,
        "public_key": _b64(bytes(public_key)),
        "fingerprint": public_key_fingerprint(public_key),
    }


def _to_json_bytes(document: dict[str, object]) -> bytes:
    return (json.dumps(document, indent=2) + "\n").encode("utf-8")


def create_recovery_keypair(
    private_path: Path,
    public_path: Path,
    *,
    passphrase: str,
    kdf_limits: tuple[int, int] = DEFAULT_KDF_LIMITS,
) -> PublicKey:
    """Write a new recovery key pair: private half passphrase-encrypted (0600), public in JSON."""
    if not passphrase:
        raise KeyFileError("The recovery key passphrase must not be empty.")
    for path in (private_path, public_path):
        if path.exists():
            raise KeyFileError(f"{path} already exists; refusing to overwrite a key file.")
    private_key = PrivateKey.generate()
    document = _private_key_document(private_key, passphrase, kdf_limits)
    _write_new_file(private_path, _to_json_bytes(document), 0o600)
    try:
        _write_new_file(
            public_path, _to_json_bytes(_public_key_document(private_key.public_key)), 0o644
        )
    except BaseException:
        private_path.unlink(missing_ok=True)
        raise
    return private_key.public_key


def _read_key_document(path: Path, expected_format: str) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise KeyFileError(f"The key file {path} does not exist.") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        raise KeyFileError(f"The key file {path} could not be read as JSON.") from None
    if not isinstance(document, dict) or document.get("format") != expected_format:
        raise KeyFileError(f"{path} is not a {expected_format} file.")
    if document.get("version") != 1:
        raise KeyFileError(f"{path} has an unsupported version.")
    return document


def _read_public_key(raw: object, path: Path) -> PublicKey:
    key_bytes = _unb64(raw, path)
    if len(key_bytes) != PublicKey.SIZE:
        raise KeyFileError(f"The key file {path} holds a public key of the wrong size.")
    return PublicKey(key_bytes)


def load_recovery_public_key(path: Path) -> PublicKey:
    """Read the recovery public key written by `create_recovery_keypair`."""
    document = _read_key_document(path, _PUBLIC_FORMAT)
    return _read_public_key(document.get("public_key"), path)


def _checked_kdf_limits(kdf: object, path: Path) -> tuple[bytes, int, int]:
    if not isinstance(kdf, dict) or kdf.get("name") != "argon2id":
        raise KeyFileError(f"The key file {path} names an unsupported key derivation.")
    opslimit, memlimit = kdf.get("opslimit"), kdf.get("memlimit")
    # Bounded so that a doctored file cannot make loading take forever or exhaust memory.
    if not isinstance(opslimit, int) or not argon2id.OPSLIMIT_MIN <= opslimit <= 16:
        raise KeyFileError(f"The key file {path} has an out-of-range opslimit.")
    if not isinstance(memlimit, int) or not (
        argon2id.MEMLIMIT_MIN <= memlimit <= argon2id.MEMLIMIT_SENSITIVE
    ):
        raise KeyFileError(f"The key file {path} has an out-of-range memlimit.")
    salt = _unb64(kdf.get("salt"), path)
    if len(salt) != argon2id.SALTBYTES:
        raise KeyFileError(f"The key file {path} is malformed.")
    return salt, opslimit, memlimit


def load_recovery_private_key(path: Path, passphrase: str) -> PrivateKey:
    """Decrypt the recovery private key; raise KeyFileError on a wrong passphrase."""
    document = _read_key_document(path, _PRIVATE_FORMAT)
    salt, opslimit, memlimit = _checked_kdf_limits(document.get("kdf"), path)
    box = nacl.secret.SecretBox(_derive_file_key(passphrase, salt, opslimit, memlimit))
    try:
        raw = box.decrypt(_unb64(document.get("secretbox"), path))
    except nacl.exceptions.CryptoError:
        raise KeyFileError(
            f"Could not open {path}: the passphrase is wrong or the file was altered."
        ) from None
    private_key = PrivateKey(raw)
    if private_key.public_key != _read_public_key(document.get("public_key"), path):
        raise KeyFileError(f"The key file {path} is inconsistent: its public key does not match.")
    return private_key
