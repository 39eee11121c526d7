"""Anchoring: the root is on the receipt's chain and registry, by an issuer-role account."""

from __future__ import annotations

from pydantic import JsonValue

from contracts.receipt import Receipt
from verifier.chain import ChainFailure, ChainReading
from verifier.report import CheckName, CheckResult, CheckStatus


def check_anchoring(receipt: Receipt, reading: ChainReading | ChainFailure) -> CheckResult:
    """Judge the registry's answer: when, in which block, by whom, and with which role."""
    if isinstance(reading, ChainFailure):
        status = CheckStatus.INVALID if reading.receipt_is_false else CheckStatus.ERROR
        details = {**reading.details, "detail": reading.reason}
        return CheckResult.of(CheckName.ANCHORING, status, reading.code, **details)
    anchor = reading.status.anchor
    if reading.status.root.hex() != receipt.root[2:] or anchor is None:
        return CheckResult.of(
            CheckName.ANCHORING, CheckStatus.INVALID, "not_anchored", root=receipt.root
        )
    facts: dict[str, JsonValue] = {
        "anchored_at": anchor.anchored_at.isoformat(),
        "block_number": anchor.block_number,
        "anchored_by": anchor.issuer,
        "chain_id": receipt.chain_id,
        "contract": receipt.contract,
        # The chain is authoritative; the receipt's copy is informative (a reorg may move it).
        "receipt_block_matches": anchor.block_number == receipt.block_number,
    }
    if reading.issuer_role_at_anchor is None:
        return CheckResult.of(
            CheckName.ANCHORING, CheckStatus.ERROR, "role_history_unavailable", **facts
        )
    if not reading.issuer_role_at_anchor:
        return CheckResult.of(
            CheckName.ANCHORING, CheckStatus.INVALID, "anchorer_not_issuer", **facts
        )
    return CheckResult.of(CheckName.ANCHORING, CheckStatus.VALID, "anchored", **facts)
