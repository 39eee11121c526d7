"""The Merkle scheme: hypothesis properties and the shared vectors (tests/vectors/merkle.json)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eth_utils.crypto import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.errors import InvalidInput
from contracts.merkle import MerkleTree, leaf_hash, node_hash, process_proof, verify_proof

VECTORS = json.loads((Path(__file__).parents[1] / "vectors" / "merkle.json").read_text())
hashes = st.binary(min_size=32, max_size=32)
leaf_sets = st.lists(hashes, min_size=1, max_size=40, unique=True)


def _flip(value: bytes, bit: int) -> bytes:
    index, mask = divmod(bit % (len(value) * 8), 8)
    return value[:index] + bytes([value[index] ^ (1 << mask)]) + value[index + 1 :]


def _b(hex0x: str) -> bytes:
    return bytes.fromhex(hex0x.removeprefix("0x"))


@given(leaf_sets)
def test_every_leaf_proof_verifies(leaves: list[bytes]) -> None:
    tree = MerkleTree(leaves)
    assert tree.leaves == tuple(sorted(leaves))
    for leaf in leaves:
        assert verify_proof(leaf, tree.proof(leaf), tree.root)


@given(leaf_sets, st.data())
def test_a_flipped_bit_in_leaf_proof_or_root_fails(
    leaves: list[bytes], data: st.DataObject
) -> None:
    tree = MerkleTree(leaves)
    leaf = data.draw(st.sampled_from(leaves))
    proof = tree.proof(leaf)
    bit = data.draw(st.integers(min_value=0, max_value=255))
    assert not verify_proof(_flip(leaf, bit), proof, tree.root)
    assert not verify_proof(leaf, proof, _flip(tree.root, bit))
    if proof:
        at = data.draw(st.integers(min_value=0, max_value=len(proof) - 1))
        tampered = (*proof[:at], _flip(proof[at], bit), *proof[at + 1 :])
        assert not verify_proof(leaf, tampered, tree.root)


@settings(max_examples=50)
@given(st.lists(hashes, min_size=2, max_size=16, unique=True))
def test_an_inner_node_preimage_cannot_pass_as_a_leaf(leaves: list[bytes]) -> None:
    tree = MerkleTree(leaves)
    first, second = tree.leaves[0], tree.leaves[1]
    inner = node_hash(first, second)
    as_leaf = keccak(keccak(first + second))  # its 64-byte preimage, hashed the way leaves are
    assert as_leaf != inner
    assert not verify_proof(as_leaf, tree.proof(first)[1:], tree.root)
    assert inner not in tree.leaves or len(tree) == 1
    with pytest.raises(InvalidInput):
        tree.proof(inner)


def test_a_single_leaf_is_its_own_root_with_an_empty_proof() -> None:
    tree = MerkleTree([b"\x01" * 32])
    assert tree.root == b"\x01" * 32
    assert tree.proof(b"\x01" * 32) == ()


def test_node_hash_is_order_independent_and_sorts_pairs() -> None:
    a, b = b"\x01" * 32, b"\x02" * 32
    assert node_hash(a, b) == node_hash(b, a) == keccak(a + b)


@pytest.mark.parametrize(
    ("certificate_id", "salt", "pdf"),
    [(b"\x00" * 15, b"\x00" * 32, b"\x00" * 32), (b"\x00" * 16, b"\x00" * 31, b"\x00" * 32),
     (b"\x00" * 16, b"\x00" * 32, b"\x00" * 33), ("0" * 32, b"\x00" * 32, b"\x00" * 32)],
    ids=["id_15_bytes", "salt_31_bytes", "pdf_hash_33_bytes", "id_as_text"],
)  # fmt: skip
def test_leaf_hash_rejects_wrong_lengths(certificate_id: bytes, salt: bytes, pdf: bytes) -> None:
    with pytest.raises(InvalidInput):
        leaf_hash(certificate_id, salt, pdf)


def test_tree_rejects_duplicates_empty_and_malformed_leaves() -> None:
    with pytest.raises(InvalidInput, match="duplicate"):
        MerkleTree([b"\x01" * 32, b"\x01" * 32])
    with pytest.raises(InvalidInput):
        MerkleTree([])
    with pytest.raises(InvalidInput):
        MerkleTree([b"\x01" * 31])


def test_process_proof_rejects_a_wrong_length_proof_element() -> None:
    with pytest.raises(InvalidInput, match=r"proof\[0\]"):
        process_proof(b"\x01" * 32, [b"\x02" * 31])


@pytest.mark.parametrize("tree", VECTORS["trees"], ids=lambda t: t["name"])
def test_vector_tree_matches_the_implementation(tree: dict) -> None:  # type: ignore[type-arg]
    for cert in tree["leaves"]:
        leaf = leaf_hash(bytes.fromhex(cert["certificate_id"]), _b(cert["salt"]),
                         bytes.fromhex(cert["pdf_sha256"]))  # fmt: skip
        assert "0x" + leaf.hex() == cert["leaf"]
    built = MerkleTree(_b(c["leaf"]) for c in tree["leaves"])
    assert "0x" + built.root.hex() == tree["root"]
    for entry in tree["proofs"]:
        assert ["0x" + p.hex() for p in built.proof(_b(entry["leaf"]))] == entry["proof"]


@pytest.mark.parametrize("case", VECTORS["invalid"], ids=lambda c: c["name"])
def test_vector_invalid_case_does_not_verify(case: dict) -> None:  # type: ignore[type-arg]
    proof = [_b(p) for p in case["proof"]]
    assert not verify_proof(_b(case["leaf"]), proof, _b(case["root"]))


def test_vector_file_is_what_the_generator_writes() -> None:
    import subprocess
    import sys

    script = Path(__file__).parents[2] / "scripts" / "make_vectors.py"
    result = subprocess.run(
        [sys.executable, str(script), "--check"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
