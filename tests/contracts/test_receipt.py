"""The receipt: self-checking, round-trips to JSON, and matches the published spec."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from contracts.merkle import leaf_hash, process_proof
from contracts.receipt import InvalidReceipt, Receipt

ROOT = Path(__file__).parents[2]
VECTORS = json.loads((ROOT / "tests" / "vectors" / "merkle.json").read_text())


def vector_receipt(tree_name: str = "two_leaves", index: int = 0) -> dict[str, Any]:
    tree = next(t for t in VECTORS["trees"] if t["name"] == tree_name)
    leaf = tree["leaves"][index]
    proof = next(p for p in tree["proofs"] if p["leaf"] == leaf["leaf"])["proof"]
    return {
        "format": "sceau-receipt/1",
        "certificate_id": leaf["certificate_id"],
        "salt": leaf["salt"],
        "pdf_sha256": leaf["pdf_sha256"],
        "leaf": leaf["leaf"],
        "proof": proof,
        "root": tree["root"],
        "chain_id": 31337,
        "contract": "0x5FbDB2315678afecb367f032d93F642f64180aa3",
        "transaction": "0x" + "ab" * 32,
        "block_number": 7,
        "anchored_at": "2026-11-22T18:00:00Z",
        "issuer": {"name": "Centre", "profile_url": None},
    }


def test_valid_receipt_round_trips() -> None:
    receipt = Receipt.from_json(json.dumps(vector_receipt()))
    again = Receipt.from_json(receipt.to_json())
    assert again == receipt


@pytest.mark.parametrize(
    "field,value,why",
    [
        ("salt", "0x" + "00" * 32, "leaf is not the hash"),
        ("pdf_sha256", "11" * 32, "leaf is not the hash"),
        ("root", "0x" + "22" * 32, "proof does not lead"),
        ("proof", [], "proof does not lead"),
        ("proof", ["0x1234"], "proof element"),
        ("certificate_id", "XYZ", "certificate_id"),
        ("format", "sceau-receipt/2", "format"),
    ],
)
def test_broken_receipt_is_refused_with_reason(field: str, value: Any, why: str) -> None:
    doc = vector_receipt()
    doc[field] = value
    with pytest.raises(InvalidReceipt, match=why):
        Receipt.from_json(json.dumps(doc))


def test_unknown_field_and_non_json_refused() -> None:
    doc = vector_receipt() | {"extra": 1}
    with pytest.raises(InvalidReceipt, match="extra"):
        Receipt.from_json(json.dumps(doc))
    with pytest.raises(InvalidReceipt, match="not JSON"):
        Receipt.from_json(b"\xff")


def test_published_vector_in_docs_matches_the_implementation() -> None:
    text = (ROOT / "docs" / "receipt.md").read_text()
    values = dict(re.findall(r"^(\w+)\s+= \[?(0x[0-9a-f]+|[0-9a-f]+)\]?$", text, re.M))
    leaf = leaf_hash(
        bytes.fromhex(values["certificate_id"]),
        bytes.fromhex(values["salt"][2:]),
        bytes.fromhex(values["pdf_sha256"]),
    )
    assert "0x" + leaf.hex() == values["leaf"]
    root = process_proof(leaf, [bytes.fromhex(values["proof"][2:])])
    assert "0x" + root.hex() == values["root"]
