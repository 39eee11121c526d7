"""Keccak-256 and EIP-55 as written in contracts/keccak.py agree with an independent
implementation (eth_utils, over pycryptodome) on every length around the sponge's block size."""

from __future__ import annotations

import sys

import pytest
from eth_utils.address import to_checksum_address as reference_checksum
from eth_utils.crypto import keccak as reference_keccak
from hypothesis import given
from hypothesis import strategies as st

from contracts import keccak as module
from contracts.keccak import _keccak256_python, bulk_keccak256, keccak256, to_checksum_address

EDGES = [b"", b"a", bytes(135), bytes(136), bytes(137), bytes(271), bytes(272), b"\xff" * 500]


def test_the_pure_permutation_matches_the_reference_at_the_block_edges() -> None:
    for data in EDGES:
        assert _keccak256_python(data) == reference_keccak(data) == bulk_keccak256()(data)


@given(st.binary(max_size=700))
def test_the_pure_permutation_matches_the_reference(data: bytes) -> None:
    assert _keccak256_python(data) == reference_keccak(data)


def test_keccak256_takes_the_c_code_only_once_a_process_has_loaded_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bulk_keccak256()  # loads Crypto.Hash.keccak
    calls: list[bytes] = []

    def pure(data: bytes) -> bytes:
        calls.append(data)
        return b""

    monkeypatch.setattr(module, "_keccak256_python", pure)
    assert keccak256(b"x") == reference_keccak(b"x") and calls == []
    monkeypatch.delitem(sys.modules, "Crypto.Hash.keccak")
    keccak256(b"y")
    assert calls == [b"y"]


@given(st.binary(min_size=20, max_size=20))
def test_checksum_addresses_match_eip55(raw: bytes) -> None:
    address = "0x" + raw.hex()
    assert to_checksum_address(address) == reference_checksum(address)
