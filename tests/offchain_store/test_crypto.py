"""Encryption of documents and data keys, link tokens and recovery key files."""

from __future__ import annotations

import json
import os
import pickle
import stat
import subprocess
import sys
from pathlib import Path

import nacl.pwhash.argon2id as argon2id
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nacl.public import PrivateKey

from offchain_store.crypto import (
    DataKey,
    LinkKey,
    create_recovery_keypair,
    decrypt_document,
    encrypt_document,
    load_recovery_private_key,
    load_recovery_public_key,
    new_data_key,
    new_link_key,
    seal_data_key_for_recovery,
    unseal_data_key,
    unwrap_data_key,
    wrap_data_key,
)
from offchain_store.errors import DecryptionFailed, KeyFileError, MalformedToken, StoreError

FAST_KDF = (argon2id.OPSLIMIT_MIN, argon2id.MEMLIMIT_MIN)
CERT_A = b"0123456789abcdef0123456789abcdef"
CERT_B = b"fedcba9876543210fedcba9876543210"

ids = st.binary(min_size=0, max_size=64)


# --- documents --------------------------------------------------------------------


@given(plaintext=st.binary(max_size=4096), associated_data=ids)
def test_document_round_trip(plaintext: bytes, associated_data: bytes) -> None:
    key = new_data_key()
    ciphertext = encrypt_document(plaintext, key, associated_data=associated_data)
    assert decrypt_document(ciphertext, key, associated_data=associated_data) == plaintext


def test_ciphertext_does_not_contain_the_plaintext() -> None:
    plaintext = b"%PDF-1.7 Candidate: Jeanne Martin, DCL anglais, niveau C1 " * 20
    ciphertext = encrypt_document(plaintext, new_data_key(), associated_data=CERT_A)
    assert b"Jeanne Martin" not in ciphertext
    assert b"%PDF" not in ciphertext
    assert len(ciphertext) == len(plaintext) + 1 + 24 + 16


def test_two_encryptions_of_the_same_document_differ() -> None:
    key = new_data_key()
    first = encrypt_document(b"same", key, associated_data=CERT_A)
    assert first != encrypt_document(b"same", key, associated_data=CERT_A)


def test_wrong_key_raises_decryption_failed() -> None:
    ciphertext = encrypt_document(b"%PDF-", new_data_key(), associated_data=CERT_A)
    with pytest.raises(DecryptionFailed):
        decrypt_document(ciphertext, new_data_key(), associated_data=CERT_A)


def test_swapped_associated_data_raises_decryption_failed() -> None:
    key = new_data_key()
    ciphertext = encrypt_document(b"%PDF-", key, associated_data=CERT_A)
    with pytest.raises(DecryptionFailed):
        decrypt_document(ciphertext, key, associated_data=CERT_B)


@settings(max_examples=200)
@given(plaintext=st.binary(min_size=1, max_size=256), data=st.data())
def test_any_flipped_bit_raises_decryption_failed(plaintext: bytes, data: st.DataObject) -> None:
    key = new_data_key()
    ciphertext = bytearray(encrypt_document(plaintext, key, associated_data=CERT_A))
    bit = data.draw(st.integers(min_value=0, max_value=len(ciphertext) * 8 - 1))
    ciphertext[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(DecryptionFailed):
        decrypt_document(bytes(ciphertext), key, associated_data=CERT_A)


@pytest.mark.parametrize("ciphertext", [b"", b"\x01", b"\x02" + bytes(60), bytes(40)])
def test_truncated_or_unknown_version_raises_decryption_failed(ciphertext: bytes) -> None:
    with pytest.raises(DecryptionFailed):
        decrypt_document(ciphertext, new_data_key(), associated_data=CERT_A)


def test_decryption_failure_is_a_store_error_with_a_plain_message() -> None:
    with pytest.raises(StoreError, match="key is wrong"):
        decrypt_document(bytes(64), new_data_key(), associated_data=CERT_A)


# --- key wraps --------------------------------------------------------------------


@given(associated_data=ids)
def test_wrap_round_trip(associated_data: bytes) -> None:
    data_key, link_key = new_data_key(), new_link_key()
    wrapped = wrap_data_key(data_key, link_key, associated_data=associated_data)
    assert unwrap_data_key(wrapped, link_key, associated_data=associated_data) == data_key


def test_wrap_does_not_open_with_another_link_key() -> None:
    wrapped = wrap_data_key(new_data_key(), new_link_key(), associated_data=CERT_A)
    with pytest.raises(DecryptionFailed):
        unwrap_data_key(wrapped, new_link_key(), associated_data=CERT_A)


def test_wrap_is_bound_to_its_certificate() -> None:
    link_key = new_link_key()
    wrapped = wrap_data_key(new_data_key(), link_key, associated_data=CERT_A)
    with pytest.raises(DecryptionFailed):
        unwrap_data_key(wrapped, link_key, associated_data=CERT_B)


def test_wrap_and_document_domains_are_separate() -> None:
    """A key wrap cannot be decrypted as a document under the same key and id, nor back."""
    shared = new_data_key()
    as_link = LinkKey(shared.secret_bytes())
    wrapped = wrap_data_key(new_data_key(), as_link, associated_data=CERT_A)
    with pytest.raises(DecryptionFailed):
        decrypt_document(wrapped, shared, associated_data=CERT_A)
    document = encrypt_document(bytes(32), shared, associated_data=CERT_A)
    with pytest.raises(DecryptionFailed):
        unwrap_data_key(document, as_link, associated_data=CERT_A)


def test_wrapped_key_does_not_contain_the_data_key() -> None:
    data_key = new_data_key()
    wrapped = wrap_data_key(data_key, new_link_key(), associated_data=CERT_A)
    assert data_key.secret_bytes() not in wrapped


# --- recovery sealing -------------------------------------------------------------


def test_seal_and_unseal_for_recovery() -> None:
    recovery = PrivateKey.generate()
    data_key = new_data_key()
    sealed = seal_data_key_for_recovery(data_key, recovery.public_key)
    assert data_key.secret_bytes() not in sealed
    assert unseal_data_key(sealed, recovery) == data_key


def test_unseal_with_another_private_key_raises_decryption_failed() -> None:
    sealed = seal_data_key_for_recovery(new_data_key(), PrivateKey.generate().public_key)
    with pytest.raises(DecryptionFailed):
        unseal_data_key(sealed, PrivateKey.generate())


# --- key types and tokens ---------------------------------------------------------


def test_keys_never_show_their_bytes() -> None:
    for key in (new_data_key(), new_link_key()):
        raw = key.secret_bytes()
        for shown in (repr(key), str(key), f"{key}", repr([key])):
            assert "secret" in shown
            assert raw.hex() not in shown and repr(raw) not in shown


def test_keys_are_frozen_and_not_picklable() -> None:
    key = new_data_key()
    with pytest.raises(AttributeError):
        key._raw = bytes(32)
    with pytest.raises(TypeError):
        pickle.dumps(key)


def test_data_and_link_keys_are_distinct_types() -> None:
    raw = bytes(range(32))
    assert DataKey(raw) == DataKey(raw)
    assert DataKey(raw) != LinkKey(raw)
    assert DataKey(raw) != DataKey(bytes(32))


@pytest.mark.parametrize("raw", [b"", bytes(31), bytes(33)])
def test_keys_need_exactly_32_bytes(raw: bytes) -> None:
    with pytest.raises(ValueError):
        DataKey(raw)


@given(st.binary(min_size=32, max_size=32))
def test_token_round_trip(raw: bytes) -> None:
    token = LinkKey(raw).to_token()
    assert len(token) == 43
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert LinkKey.from_token(token) == LinkKey(raw)


def _non_canonical(token: str) -> str:
    """Same decoded bytes, but the unused low bits of the last character set."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    return token[:-1] + alphabet[alphabet.index(token[-1]) | 1]


MALFORMED_TOKENS = {
    "empty": "",
    "too_short": "A" * 42,
    "too_long": "A" * 44,
    "padded": "A" * 42 + "=",
    "standard_base64_alphabet": "+" * 43,
    "whitespace": " " + "A" * 42,
    "non_ascii": "é" * 43,
    "non_canonical_last_char": _non_canonical("A" * 43),
}


@pytest.mark.parametrize("token", MALFORMED_TOKENS.values(), ids=MALFORMED_TOKENS.keys())
def test_malformed_token_raises_a_clear_error(token: str) -> None:
    with pytest.raises(MalformedToken, match="43 characters of base64url"):
        LinkKey.from_token(token)


# --- recovery key files -----------------------------------------------------------


@pytest.fixture
def keypair(tmp_path: Path) -> tuple[Path, Path]:
    private_path, public_path = tmp_path / "recovery.key", tmp_path / "recovery.pub"
    create_recovery_keypair(
        private_path, public_path, passphrase="correct horse", kdf_limits=FAST_KDF
    )
    return private_path, public_path


def test_recovery_keypair_seals_and_unseals(keypair: tuple[Path, Path]) -> None:
    private_path, public_path = keypair
    data_key = new_data_key()
    sealed = seal_data_key_for_recovery(data_key, load_recovery_public_key(public_path))
    private_key = load_recovery_private_key(private_path, "correct horse")
    assert unseal_data_key(sealed, private_key) == data_key


def test_private_key_file_is_0600_and_holds_no_raw_key(keypair: tuple[Path, Path]) -> None:
    private_path, _ = keypair
    assert stat.S_IMODE(private_path.stat().st_mode) == 0o600
    private_key = load_recovery_private_key(private_path, "correct horse")
    text = private_path.read_text()
    assert bytes(private_key).hex() not in text
    assert json.loads(text)["kdf"]["name"] == "argon2id"
    assert not [p for p in private_path.parent.iterdir() if p.name.startswith(".")]


def test_wrong_passphrase_raises_key_file_error(keypair: tuple[Path, Path]) -> None:
    with pytest.raises(KeyFileError, match="passphrase is wrong"):
        load_recovery_private_key(keypair[0], "wrong horse")


def test_refuses_to_overwrite_existing_key_files(keypair: tuple[Path, Path]) -> None:
    private_path, public_path = keypair
    before = private_path.read_bytes()
    with pytest.raises(KeyFileError, match="already exists"):
        create_recovery_keypair(private_path, public_path, passphrase="x", kdf_limits=FAST_KDF)
    assert private_path.read_bytes() == before


def test_empty_passphrase_is_refused(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="must not be empty"):
        create_recovery_keypair(tmp_path / "k", tmp_path / "p", passphrase="")


def test_doctored_kdf_limits_are_refused(keypair: tuple[Path, Path]) -> None:
    private_path, _ = keypair
    document = json.loads(private_path.read_text())
    document["kdf"]["memlimit"] = 1 << 40
    private_path.write_text(json.dumps(document))
    with pytest.raises(KeyFileError, match="memlimit"):
        load_recovery_private_key(private_path, "correct horse")


@pytest.mark.parametrize("content", ["", "not json", "[]", '{"format": "other", "version": 1}'])
def test_malformed_public_key_file_raises_key_file_error(tmp_path: Path, content: str) -> None:
    path = tmp_path / "recovery.pub"
    path.write_text(content)
    with pytest.raises(KeyFileError):
        load_recovery_public_key(path)


def test_missing_key_file_raises_key_file_error(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="does not exist"):
        load_recovery_public_key(tmp_path / "nothing.pub")


# --- scripts/make_recovery_key.py -------------------------------------------------

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "make_recovery_key.py"


def _run_script(directory: Path, passphrase: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "SCEAU_RECOVERY_PASSPHRASE"}
    if passphrase is not None:
        env["SCEAU_RECOVERY_PASSPHRASE"] = passphrase
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--dir", str(directory)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.mark.slow
def test_script_writes_a_usable_key_pair_and_prints_no_secret(tmp_path: Path) -> None:
    passphrase = "a passphrase that must not be printed"
    result = _run_script(tmp_path / "keys", passphrase)
    assert result.returncode == 0, result.stderr
    assert "offline" in result.stdout
    assert passphrase not in result.stdout + result.stderr
    assert "development" not in result.stderr
    private_key = load_recovery_private_key(tmp_path / "keys" / "recovery-private.json", passphrase)
    assert bytes(private_key).hex() not in result.stdout
    public_key = load_recovery_public_key(tmp_path / "keys" / "recovery-public.json")
    assert public_key == private_key.public_key
    again = _run_script(tmp_path / "keys", passphrase)
    assert again.returncode == 1 and "already exists" in again.stderr


@pytest.mark.slow
def test_script_warns_when_using_the_development_passphrase(tmp_path: Path) -> None:
    result = _run_script(tmp_path, None)
    assert result.returncode == 0, result.stderr
    assert "development only" in result.stderr
