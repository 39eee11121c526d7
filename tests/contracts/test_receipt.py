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


ASSETS = ROOT / "tests" / "assets" / "receipts"
REFUSED = json.loads((ASSETS / "index.json").read_text())


def test_the_example_receipt_parses_and_matches_its_pdf() -> None:
    import hashlib

    receipt = Receipt.from_json((ASSETS / "example" / "receipt.json").read_bytes())
    pdf = (ASSETS / "example" / "certificate.pdf").read_bytes()
    assert hashlib.sha256(pdf).hexdigest() == receipt.pdf_sha256
    assert receipt.pdf_sha256 in (ROOT / "docs" / "receipt.md").read_text()


@pytest.mark.parametrize("defect", sorted(REFUSED))
def test_every_refused_receipt_asset_is_refused(defect: str) -> None:
    with pytest.raises(InvalidReceipt):
        Receipt.from_json((ASSETS / f"{defect}.json").read_bytes())


def test_every_refused_receipt_is_listed_in_the_docs() -> None:
    text = (ROOT / "docs" / "receipt.md").read_text()
    assert all(f"`{defect}`" in text for defect in REFUSED)


@pytest.mark.parametrize(
    "contract",
    [
        "0x5FbDB2315678afecb367f032d93F642f64180aa3",  # EIP-55
        "0x5fbdb2315678afecb367f032d93f642f64180aa3",  # all lowercase: no checksum
        "0x5FBDB2315678AFECB367F032D93F642F64180AA3",  # all uppercase: no checksum
    ],
)
def test_addresses_with_a_right_checksum_or_none_are_accepted(contract: str) -> None:
    receipt = Receipt.from_json(json.dumps(vector_receipt() | {"contract": contract}))
    assert receipt.contract == contract


def test_a_mixed_case_address_with_a_wrong_checksum_is_refused() -> None:
    wrong = "0x5fBDB2315678afecb367f032d93F642f64180aa3"
    with pytest.raises(InvalidReceipt, match="EIP-55"):
        Receipt.from_json(json.dumps(vector_receipt() | {"contract": wrong}))


@pytest.mark.parametrize(
    "raw,why",
    [
        ('{"a": 1, "a": 1}', "appears twice"),
        ('{"block_number": Infinity}', "not a JSON number"),
        ('{"block_number": 1e999999}', "out of range"),
        ('{"issuer": {"name": "\\udcff"}}', "lone surrogate"),
        ("\ufeff{}", "byte-order mark"),
        ("[]", "not a JSON object"),
    ],
)
def test_json_that_is_not_strict_is_refused_before_the_fields(raw: str, why: str) -> None:
    with pytest.raises(InvalidReceipt, match=why):
        Receipt.from_json(raw.encode("utf-8", "surrogatepass"))


def test_a_naive_anchoring_time_is_refused() -> None:
    with pytest.raises(InvalidReceipt, match="anchored_at"):
        Receipt.from_json(json.dumps(vector_receipt() | {"anchored_at": "2026-11-22T18:00:00"}))


def test_a_nested_duplicate_is_refused() -> None:
    text = json.dumps(vector_receipt()).replace('"name": "Centre"', '"name": "A", "name": "A"')
    with pytest.raises(InvalidReceipt, match="appears twice"):
        Receipt.from_json(text)
