"""Write tests/vectors/merkle.json: shared Merkle test vectors for Python, Solidity and docs.

Every value derives from fixed seeds (SHA-256 of a label), so rerunning gives the same file.
Run: .venv/bin/python scripts/make_vectors.py [--check]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from eth_utils.crypto import keccak  # noqa: E402

from contracts.merkle import MerkleTree, leaf_hash, process_proof  # noqa: E402

OUTPUT = ROOT / "tests" / "vectors" / "merkle.json"
TREE_SIZES = {
    "one_leaf": 1,
    "two_leaves": 2,
    "three_leaves": 3,
    "five_leaves": 5,
    "eight_leaves": 8,
}
SCHEME = (
    "SCEAU Merkle scheme v1. leaf = keccak256(keccak256(ascii('SCEAU/leaf/v1') || certificate_id "
    "(16 bytes) || salt (32 bytes) || pdf_sha256 (32 bytes))). node(a, b) = keccak256(min(a, b) "
    "|| max(a, b)), comparing the 32-byte values as unsigned big-endian integers (OpenZeppelin "
    "MerkleProof commutative hash). Leaves are sorted ascending and unique; each level pairs "
    "(0,1), (2,3), ...; an odd last node is carried up unchanged; a single leaf is its own root "
    "(empty proof). A proof lists the sibling hashes from the leaf up to the root. Hex strings "
    "are lowercase; hashes are 0x-prefixed, certificate_id and pdf_sha256 are bare hex."
)


def seeded(label: str, size: int) -> bytes:
    """Deterministic bytes for `label` (SHA-256 of a fixed, readable seed)."""
    return hashlib.sha256(f"sceau-vectors/v1/{label}".encode()).digest()[:size]


def hex0x(value: bytes) -> str:
    return "0x" + value.hex()


def make_tree(name: str, size: int) -> tuple[dict[str, Any], MerkleTree]:
    """One named tree: its certificates, leaves, root and every proof."""
    certs = []
    for i in range(size):
        cid = seeded(f"{name}/{i}/certificate_id", 16)
        salt = seeded(f"{name}/{i}/salt", 32)
        pdf = seeded(f"{name}/{i}/pdf_sha256", 32)
        certs.append(
            {
                "certificate_id": cid.hex(),
                "salt": hex0x(salt),
                "pdf_sha256": pdf.hex(),
                "leaf": hex0x(leaf_hash(cid, salt, pdf)),
            }
        )
    certs.sort(key=lambda c: c["leaf"])
    tree = MerkleTree(bytes.fromhex(c["leaf"][2:]) for c in certs)
    proofs = [
        {"leaf": hex0x(leaf), "proof": [hex0x(p) for p in tree.proof(leaf)]} for leaf in tree.leaves
    ]
    return {"name": name, "leaves": certs, "root": hex0x(tree.root), "proofs": proofs}, tree


def flip_bit(value: bytes) -> bytes:
    return bytes([value[0] ^ 0x01]) + value[1:]


def invalid_cases(five: MerkleTree, eight: MerkleTree) -> list[dict[str, Any]]:
    """Proofs that must not verify, each named after its defect."""
    leaf5, leaf8 = five.leaves[2], eight.leaves[0]
    proof5, proof8 = five.proof(leaf5), eight.proof(leaf8)
    # Leaves are sorted, so leaves[0] || leaves[1] is the preimage of the first inner node.
    inner_as_leaf = leaf_of_preimage(eight.leaves[0] + eight.leaves[1])
    cases = [
        (
            "tampered_sibling",
            leaf5,
            (flip_bit(proof5[0]), *proof5[1:]),
            five.root,
            "one bit of the first sibling hash is flipped",
        ),
        (
            "leaf_one_bit_flipped",
            flip_bit(leaf5),
            proof5,
            five.root,
            "one bit of the leaf is flipped",
        ),
        (
            "proof_from_other_tree",
            leaf5,
            proof8,
            five.root,
            "the proof belongs to a leaf of another tree",
        ),
        (
            "truncated_proof",
            leaf8,
            proof8[:-1],
            eight.root,
            "the last sibling of the proof is missing",
        ),
        (
            "extra_sibling",
            leaf8,
            (*proof8, proof8[0]),
            eight.root,
            "a sibling is appended to a valid proof",
        ),
        (
            "inner_node_as_leaf",
            inner_as_leaf,
            proof8[1:],
            eight.root,
            "the 64-byte preimage of an inner node is presented as leaf data: hashed as a leaf "
            "(double keccak256) it does not equal the inner node, so the rest of the proof fails",
        ),
    ]
    out = []
    for name, leaf, proof, root, why in cases:
        assert process_proof(leaf, proof) != root, name
        out.append(
            {
                "name": name,
                "leaf": hex0x(leaf),
                "proof": [hex0x(p) for p in proof],
                "root": hex0x(root),
                "why": why,
            }
        )
    return out


def leaf_of_preimage(preimage: bytes) -> bytes:
    """The double keccak256 the scheme applies to leaf data (without the tag: worst case)."""
    assert len(preimage) == 64
    return keccak(keccak(preimage))


def build() -> dict[str, Any]:
    trees, built = [], {}
    for name, size in TREE_SIZES.items():
        doc, tree = make_tree(name, size)
        trees.append(doc)
        built[name] = tree
    invalid = invalid_cases(built["five_leaves"], built["eight_leaves"])
    return {"scheme": SCHEME, "trees": trees, "invalid": invalid}


def render(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the file is out of date")
    args = parser.parse_args()
    text = render(build())
    if args.check:
        current = OUTPUT.read_text() if OUTPUT.exists() else ""
        if current != text:
            print(f"{OUTPUT.relative_to(ROOT)} is out of date: run scripts/make_vectors.py")
            return 1
        return 0
    OUTPUT.write_text(text)
    print(f"wrote {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
