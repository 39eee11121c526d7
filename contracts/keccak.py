"""Keccak-256, Ethereum's hash (not NIST SHA3-256: the padding differs), and EIP-55 addresses.

hashlib has no Keccak. pycryptodome's C code costs 20 to 50 ms to import (it loads cffi), more
than a verifier spends hashing its few dozen short values, so `keccak256` is the permutation
written out here (FIPS 202, section 3); a batch's Merkle tree, thousands of hashes, takes
`bulk_keccak256`, pycryptodome's. Both agree on the test vectors of tests/contracts.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from functools import cache

_RATE = 136  # bytes absorbed per permutation for a 256-bit output (1600 - 2 * 256 bits)
_MASK = (1 << 64) - 1
_ROUND_CONSTANTS = (
    0x0000000000000001, 0x0000000000008082, 0x800000000000808A, 0x8000000080008000,
    0x000000000000808B, 0x0000000080000001, 0x8000000080008081, 0x8000000000008009,
    0x000000000000008A, 0x0000000000000088, 0x0000000080008009, 0x000000008000000A,
    0x000000008000808B, 0x800000000000008B, 0x8000000000008089, 0x8000000000008003,
    0x8000000000008002, 0x8000000000000080, 0x000000000000800A, 0x800000008000000A,
    0x8000000080008081, 0x8000000000008080, 0x0000000080000001, 0x8000000080008008,
)  # fmt: skip
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}", re.ASCII)


def _rho_pi() -> tuple[tuple[int, int, int], ...]:
    """For each lane x + 5y: its rotation (rho) and where pi moves it, computed once."""
    rotations = [0] * 25
    x, y = 1, 0
    for t in range(24):
        rotations[x + 5 * y] = (t + 1) * (t + 2) // 2 % 64
        x, y = y, (2 * x + 3 * y) % 5
    return tuple(
        (x + 5 * y, rotations[x + 5 * y], y + 5 * ((2 * x + 3 * y) % 5))
        for y in range(5)
        for x in range(5)
    )


_STEPS = _rho_pi()


def _permute(lanes: list[int]) -> None:
    """Keccak-f[1600] on 25 64-bit lanes, in place."""
    moved = [0] * 25
    for constant in _ROUND_CONSTANTS:
        c0, c1, c2, c3, c4 = (
            lanes[x] ^ lanes[x + 5] ^ lanes[x + 10] ^ lanes[x + 15] ^ lanes[x + 20]
            for x in range(5)
        )
        theta = (
            c4 ^ (((c1 << 1) | (c1 >> 63)) & _MASK),
            c0 ^ (((c2 << 1) | (c2 >> 63)) & _MASK),
            c1 ^ (((c3 << 1) | (c3 >> 63)) & _MASK),
            c2 ^ (((c4 << 1) | (c4 >> 63)) & _MASK),
            c3 ^ (((c0 << 1) | (c0 >> 63)) & _MASK),
        )
        for source, rotation, target in _STEPS:
            lane = lanes[source] ^ theta[source % 5]
            moved[target] = ((lane << rotation) | (lane >> (64 - rotation))) & _MASK
        for y in range(0, 25, 5):
            b0, b1, b2, b3, b4 = moved[y : y + 5]
            lanes[y] = b0 ^ (~b1 & b2)
            lanes[y + 1] = b1 ^ (~b2 & b3)
            lanes[y + 2] = b2 ^ (~b3 & b4)
            lanes[y + 3] = b3 ^ (~b4 & b0)
            lanes[y + 4] = b4 ^ (~b0 & b1)
        lanes[0] ^= constant


def keccak256(data: bytes) -> bytes:
    """The 32-byte Keccak-256 of `data`: pycryptodome's C code when this process has already
    loaded it (a server, an issuer), else the pure Python permutation (the light verifier)."""
    loaded = sys.modules.get("Crypto.Hash.keccak")
    if loaded is not None:
        return bytes(loaded.new(data=data, digest_bits=256).digest())
    return _keccak256_python(data)


def _keccak256_python(data: bytes) -> bytes:
    padded = bytearray(data)
    padded += b"\x01" + bytes(-(len(data) + 1) % _RATE)
    padded[-1] |= 0x80
    lanes = [0] * 25
    for start in range(0, len(padded), _RATE):
        for i in range(_RATE // 8):
            at = start + 8 * i
            lanes[i] ^= int.from_bytes(padded[at : at + 8], "little")
        _permute(lanes)
    return b"".join(lane.to_bytes(8, "little") for lane in lanes[:4])


@cache
def bulk_keccak256() -> Callable[[bytes], bytes]:
    """Keccak-256 in C (pycryptodome), for thousands of hashes: its import is paid on first use."""
    from Crypto.Hash import keccak

    def digest(data: bytes) -> bytes:
        return bytes(keccak.new(data=data, digest_bits=256).digest())

    return digest


def selector(signature: str) -> bytes:
    """The 4-byte selector of a function or error signature, e.g. `currentProfile()`."""
    return keccak256(signature.encode("ascii"))[:4]


def to_checksum_address(address: str) -> str:
    """`address` (0x + 40 hex digits, any case) in its EIP-55 mixed case; ValueError otherwise."""
    if not isinstance(address, str) or not _ADDRESS.fullmatch(address):
        raise ValueError(f"not an address (0x + 40 hex digits): {address!r}")
    digits = address[2:].lower()
    nibbles = keccak256(digits.encode("ascii")).hex()
    return "0x" + "".join(
        c.upper() if int(n, 16) >= 8 else c for c, n in zip(digits, nibbles, strict=False)
    )
