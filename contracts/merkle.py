"""The Sceau Merkle scheme: domain-separated leaves, OpenZeppelin-compatible inner nodes.

leaf       = keccak256(keccak256(b"SCEAU/leaf/v1" || id[16] || salt[32] || pdf_sha256[32]))
node(a, b) = keccak256(min(a, b) || max(a, b))   (OpenZeppelin MerkleProof's commutative hash)
Leaves are sorted ascending and unique; each level pairs (0,1), (2,3), ...; an odd last node is
carried up unchanged; a single leaf is its own root. A proof lists sibling hashes bottom-up.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Sequence

from contracts.errors import InvalidInput
from contracts.keccak import bulk_keccak256, keccak256

LEAF_TAG = b"SCEAU/leaf/v1"
CERTIFICATE_ID_SIZE = 16
SALT_SIZE = 32
HASH_SIZE = 32

Proof = tuple[bytes, ...]
_PURE_PYTHON_LEAVES = 64  # up to here a tree is hashed faster than pycryptodome imports


def parse_hash32(value: bytes | str, what: str = "hash") -> bytes:
    """Return `value` as 32 bytes; accepts bytes or 0x-prefixed / bare hex, else InvalidInput."""
    if isinstance(value, str):
        text = value[2:] if value[:2] in ("0x", "0X") else value
        if len(text) != 2 * HASH_SIZE:
            raise InvalidInput(f"{what} must be 32 bytes (64 hex digits), got {len(text)} digits")
        try:
            return bytes.fromhex(text)
        except ValueError:
            raise InvalidInput(f"{what} is not valid hexadecimal: {value!r}") from None
    if isinstance(value, bytes | bytearray | memoryview):
        raw = bytes(value)
        if len(raw) != HASH_SIZE:
            raise InvalidInput(f"{what} must be 32 bytes, got {len(raw)}")
        return raw
    raise InvalidInput(f"{what} must be bytes or a hex string, got {type(value).__name__}")


def _check_size(value: bytes, size: int, what: str) -> None:
    if not isinstance(value, bytes | bytearray) or len(value) != size:
        got = len(value) if isinstance(value, bytes | bytearray) else type(value).__name__
        raise InvalidInput(f"{what} must be {size} bytes, got {got}")


def leaf_hash(certificate_id: bytes, salt: bytes, pdf_sha256: bytes) -> bytes:
    """Hash one certificate into its 32-byte leaf (double keccak256 over the tagged fields)."""
    _check_size(certificate_id, CERTIFICATE_ID_SIZE, "certificate_id")
    _check_size(salt, SALT_SIZE, "salt")
    _check_size(pdf_sha256, HASH_SIZE, "pdf_sha256")
    inner = keccak256(LEAF_TAG + bytes(certificate_id) + bytes(salt) + bytes(pdf_sha256))
    return keccak256(inner)


def node_hash(a: bytes, b: bytes, keccak: Callable[[bytes], bytes] = keccak256) -> bytes:
    """Hash two sibling nodes, smaller first (order-independent, as OpenZeppelin does)."""
    return keccak(a + b) if a <= b else keccak(b + a)


def process_proof(leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """Return the root reached by folding `proof` onto `leaf` (like `MerkleProof.processProof`)."""
    computed = parse_hash32(leaf, "leaf")
    for index, sibling in enumerate(proof):
        computed = node_hash(computed, parse_hash32(sibling, f"proof[{index}]"))
    return computed


def verify_proof(leaf: bytes, proof: Sequence[bytes], root: bytes) -> bool:
    """True when `proof` leads from `leaf` to `root`; malformed inputs raise InvalidInput."""
    return process_proof(leaf, proof) == parse_hash32(root, "root")


class MerkleTree:
    """An immutable tree over unique leaves, sorted ascending; gives the root and each proof."""

    __slots__ = ("_index", "_levels")

    def __init__(self, leaves: Iterable[bytes]) -> None:
        ordered = sorted(parse_hash32(leaf, "leaf") for leaf in leaves)
        if not ordered:
            raise InvalidInput("a Merkle tree needs at least one leaf")
        for previous, current in itertools.pairwise(ordered):
            if previous == current:
                raise InvalidInput(f"duplicate leaf 0x{current.hex()}")
        self._levels: tuple[tuple[bytes, ...], ...] = _build_levels(tuple(ordered))
        self._index = {leaf: i for i, leaf in enumerate(ordered)}

    @property
    def leaves(self) -> tuple[bytes, ...]:
        """The leaves in tree order (ascending)."""
        return self._levels[0]

    @property
    def root(self) -> bytes:
        """The 32-byte Merkle root."""
        return self._levels[-1][0]

    def proof(self, leaf: bytes) -> Proof:
        """Sibling hashes from `leaf` up to the root; InvalidInput if `leaf` is not in the tree."""
        key = parse_hash32(leaf, "leaf")
        if key not in self._index:
            raise InvalidInput(f"leaf 0x{key.hex()} is not in this tree")
        index = self._index[key]
        siblings: list[bytes] = []
        for level in self._levels[:-1]:
            sibling = index ^ 1
            if sibling < len(level):
                siblings.append(level[sibling])
            index //= 2
        return tuple(siblings)

    def __len__(self) -> int:
        return len(self._levels[0])

    def __repr__(self) -> str:
        return f"MerkleTree(leaves={len(self)}, root=0x{self.root.hex()})"


def _build_levels(leaves: tuple[bytes, ...]) -> tuple[tuple[bytes, ...], ...]:
    # A batch's tree is thousands of hashes: worth the C code's import (contracts.keccak).
    keccak = bulk_keccak256() if len(leaves) > _PURE_PYTHON_LEAVES else keccak256
    levels = [leaves]
    while len(levels[-1]) > 1:
        level = levels[-1]
        parents = [node_hash(level[i], level[i + 1], keccak) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            parents.append(level[-1])
        levels.append(tuple(parents))
    return tuple(levels)
