"""Receipts read from the records are parsed (leaf and proof checked) once per while, not once
per opening; a broken one is refused every time, and none is kept past its time."""

from __future__ import annotations

from pathlib import Path

import pytest

from contracts.receipt import InvalidReceipt, Receipt
from verifier.chain import ChainCache

RECEIPTS = Path(__file__).parents[1] / "assets" / "receipts"
EXAMPLE = (RECEIPTS / "example" / "receipt.json").read_text(encoding="utf-8")
TRUNCATED = (RECEIPTS / "proof_truncated.json").read_text(encoding="utf-8")


def test_a_receipt_is_parsed_once_and_served_as_parsed() -> None:
    cache = ChainCache()

    first = cache.receipt(EXAMPLE)

    assert first == Receipt.from_json(EXAMPLE)
    assert cache.receipt(EXAMPLE) is first


def test_a_receipt_whose_proof_fails_is_refused_each_time() -> None:
    cache = ChainCache()

    for _ in range(2):
        with pytest.raises(InvalidReceipt):
            cache.receipt(TRUNCATED)


def test_a_receipt_is_not_kept_past_its_time_nor_past_the_bound() -> None:
    expired = ChainCache(receipt_ttl_seconds=0.0)
    first = expired.receipt(EXAMPLE)
    assert expired.receipt(EXAMPLE) is not first  # parsed again: it holds a salt

    bounded = ChainCache(max_receipts=1)
    kept = bounded.receipt(EXAMPLE)
    bounded.receipt(EXAMPLE.replace("\n", "\n ", 1))  # the same receipt, other text
    assert bounded.receipt(EXAMPLE) is not kept
