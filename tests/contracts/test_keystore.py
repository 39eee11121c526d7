"""Encrypted keystores: private file, no overwrite, clear errors."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from contracts.errors import KeystoreError
from contracts.keystore import create_keystore, keystore_address, load_account

FAST = 2  # pbkdf2 iterations: tests only


def test_created_keystore_loads_back_and_is_private(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "issuer.json"
    address = create_keystore(path, "correct horse", iterations=FAST)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_account(path, "correct horse").address == address
    assert keystore_address(path) == address
    assert list(path.parent.iterdir()) == [path]  # no temp file left behind


def test_keystore_never_holds_the_key_or_passphrase_in_clear(tmp_path: Path) -> None:
    path = tmp_path / "k.json"
    create_keystore(path, "correct horse", private_key=b"\x11" * 32, iterations=FAST)
    text = path.read_text()
    assert "11" * 32 not in text and "correct horse" not in text
    assert "crypto" in json.loads(text)


def test_existing_keystore_is_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "k.json"
    first = create_keystore(path, "pass", iterations=FAST)
    with pytest.raises(KeystoreError, match="overwrite"):
        create_keystore(path, "pass", iterations=FAST)
    assert load_account(path, "pass").address == first


def test_wrong_passphrase_and_missing_file_are_keystore_errors(tmp_path: Path) -> None:
    path = tmp_path / "k.json"
    create_keystore(path, "right", iterations=FAST)
    with pytest.raises(KeystoreError, match="wrong passphrase") as caught:
        load_account(path, "wrong")
    assert "right" not in str(caught.value)
    with pytest.raises(KeystoreError, match="no keystore"):
        load_account(tmp_path / "missing.json", "right")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(KeystoreError, match="not a valid"):
        load_account(tmp_path / "bad.json", "right")
