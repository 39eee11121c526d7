"""The example of docs/receipt.md and docs/profile.md holds together, offline: the PDF, its
receipt, its profile and the recorded JSON-RPC answers agree with each other and with the docs."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from contracts.chain_facts import CURRENT_PROFILE_SELECTOR, ROOT_ANCHORED_TOPIC
from contracts.profile import PublishedProfile
from contracts.receipt import Receipt
from verifier.checks.integrity import check_integrity
from verifier.checks.signature import check_signature
from verifier.report import CheckStatus

ROOT = Path(__file__).parents[2]
EXAMPLE = ROOT / "tests" / "assets" / "receipts" / "example"
DOCS = (ROOT / "docs" / "receipt.md").read_text() + (ROOT / "docs" / "profile.md").read_text()


def answer(method: str, data_prefix: str = "") -> dict[str, Any]:
    for exchange in json.loads((EXAMPLE / "rpc.json").read_text()):
        request = exchange["request"]
        if request["method"] == method and (
            not data_prefix or request["params"][0]["data"].startswith(data_prefix)
        ):
            found: dict[str, Any] = exchange
            return found
    raise AssertionError(f"no {method} {data_prefix} in rpc.json")


def words(hex_result: str) -> list[int]:
    raw = bytes.fromhex(hex_result[2:])
    return [int.from_bytes(raw[i : i + 32], "big") for i in range(0, len(raw), 32)]


def test_the_docs_show_the_example_receipt_and_exchanges_verbatim() -> None:
    assert (EXAMPLE / "receipt.json").read_text() in DOCS
    check = answer("eth_call", "0xfcfd3fe1")
    assert json.dumps(check["request"]) in DOCS and json.dumps(check["response"]) in DOCS
    profile = answer("eth_call", "0x" + CURRENT_PROFILE_SELECTOR.hex())
    assert json.dumps(profile["response"]) in DOCS
    assert hashlib.sha256((EXAMPLE / "certificate.pdf").read_bytes()).hexdigest() in DOCS
    assert ROOT_ANCHORED_TOPIC.hex() in DOCS


def test_the_recorded_chain_answers_agree_with_the_receipt() -> None:
    receipt = Receipt.from_json((EXAMPLE / "receipt.json").read_bytes())
    # docs/receipt.md section 3.2: ten words, the anchoring, the revocation, the suspension.
    root, anchored_at, block, by, *leaf_status = words(
        answer("eth_call", "0xfcfd3fe1")["response"]["result"]
    )
    assert f"0x{root:064x}" == receipt.root
    assert anchored_at == int(receipt.anchored_at.timestamp()) and block == receipt.block_number
    assert by != 0 and leaf_status == [0] * 6  # neither revoked nor suspended
    tx = answer("eth_getTransactionReceipt")["response"]["result"]
    assert tx["transactionHash"] == receipt.transaction and int(tx["blockNumber"], 16) == block
    assert tx["to"].lower() == receipt.contract.lower() and tx["status"] == "0x1"
    [log] = tx["logs"]
    assert log["topics"] == ["0x" + ROOT_ANCHORED_TOPIC.hex(), receipt.root]


def test_the_example_profile_is_the_one_the_registry_published() -> None:
    published = PublishedProfile.from_bytes((EXAMPLE / "profile.json").read_bytes())
    profile_hash, _published_at = words(
        answer("eth_call", "0x" + CURRENT_PROFILE_SELECTOR.hex())["response"]["result"]
    )
    assert published.sha256 == profile_hash.to_bytes(32, "big")
    assert published.sha256.hex() in DOCS


def test_the_example_pdf_matches_its_receipt_and_its_profiles_signing_key() -> None:
    receipt = Receipt.from_json((EXAMPLE / "receipt.json").read_bytes())
    profile = PublishedProfile.from_bytes((EXAMPLE / "profile.json").read_bytes()).profile
    pdf = (EXAMPLE / "certificate.pdf").read_bytes()

    assert check_integrity(pdf, receipt).status is CheckStatus.VALID
    signature = check_signature(
        pdf,
        trust_roots=profile.trust_roots_der(),
        moment=receipt.anchored_at,
        moment_source="chain_anchoring_time",
    )
    assert signature.status is CheckStatus.VALID, signature.code
