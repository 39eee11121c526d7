"""Encrypted signing keys: eth-account JSON keystores (scrypt by default), mode 0600.

A private key or passphrase is never printed, logged or put in an error message.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address

from contracts.errors import KeystoreError


def create_keystore(
    path: Path | str,
    passphrase: str,
    *,
    private_key: bytes | None = None,
    iterations: int | None = None,
) -> str:
    """Write a new encrypted key to `path` (0600, atomic, no overwrite); return its address.

    `private_key` imports an existing key instead of a fresh one; `iterations` lowers the KDF
    cost (tests only).
    """
    target = Path(path)
    if not passphrase:
        raise KeystoreError("a keystore needs a non-empty passphrase")
    if target.exists():
        raise KeystoreError(f"refusing to overwrite the existing keystore {target}")
    account: LocalAccount = (
        Account.from_key(private_key) if private_key is not None else Account.create()
    )
    document = Account.encrypt(account.key, passphrase, iterations=iterations)
    _write_new_file(target, json.dumps(document).encode())
    return str(account.address)


def load_account(path: Path | str, passphrase: str) -> LocalAccount:
    """Decrypt the keystore at `path`; KeystoreError on a missing file or a wrong passphrase."""
    document = _read_document(Path(path))
    try:
        key = Account.decrypt(document, passphrase)
    except ValueError:
        raise KeystoreError(f"wrong passphrase for the keystore {path}") from None
    except (KeyError, TypeError):
        raise KeystoreError(f"{path} is not a valid encrypted keystore") from None
    account: LocalAccount = Account.from_key(key)
    return account


def keystore_address(path: Path | str) -> str:
    """The address recorded in a keystore, read without decrypting it."""
    document = _read_document(Path(path))
    address = document.get("address")
    if not isinstance(address, str):
        raise KeystoreError(f"{path} records no address")
    try:
        return str(to_checksum_address("0x" + address.removeprefix("0x")))
    except ValueError:
        raise KeystoreError(f"{path} records an invalid address") from None


def _read_document(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise KeystoreError(f"no keystore at {path}") from None
    except OSError as exc:
        raise KeystoreError(f"cannot read the keystore {path}: {exc.strerror}") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        raise KeystoreError(f"{path} is not a valid encrypted keystore (bad JSON)") from None
    if not isinstance(document, dict) or ("crypto" not in document and "Crypto" not in document):
        raise KeystoreError(f"{path} is not a valid encrypted keystore")
    return document


def _write_new_file(target: Path, content: bytes) -> None:
    """Write `content` to a private temp file, then hard-link it into place (fails if taken)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(tmp, target)
        except FileExistsError:
            raise KeystoreError(f"refusing to overwrite the existing keystore {target}") from None
    finally:
        tmp.unlink(missing_ok=True)
