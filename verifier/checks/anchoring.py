"""Anchoring: the root is on the issuer's registry, by an issuer-role account, and the receipt's
copy of the anchoring (`block_number`, `anchored_at`, `transaction`) is what the chain says."""

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
        return _result(status, reading.code, **details)
    anchor = reading.status.anchor
    if reading.status.root.hex() != receipt.root[2:] or anchor is None:
        return _result(CheckStatus.INVALID, "not_anchored", root=receipt.root)
    facts: dict[str, JsonValue] = {
        "anchored_at": anchor.anchored_at.isoformat(),
        "block_number": anchor.block_number,
        "anchored_by": anchor.issuer,
        "transaction": receipt.transaction,
    }
    mismatch = _receipt_disagrees(receipt, reading, facts)
    if mismatch is not None:
        return mismatch
    if reading.issuer_role_at_anchor is None:
        return _result(CheckStatus.ERROR, "role_history_unavailable", **facts)
    if not reading.issuer_role_at_anchor:
        return _result(CheckStatus.INVALID, "anchorer_not_issuer", **facts)
    return _result(CheckStatus.VALID, "anchored", **facts)


def _receipt_disagrees(
    receipt: Receipt, reading: ChainReading, facts: dict[str, JsonValue]
) -> CheckResult | None:
    """The chain is authoritative: a receipt whose copy of the anchoring differs is false."""
    anchor = reading.status.anchor
    assert anchor is not None
    if receipt.block_number != anchor.block_number:
        return _result(
            CheckStatus.INVALID,
            "receipt_block_mismatch",
            **facts,
            receipt_block_number=receipt.block_number,
        )
    if receipt.anchored_at != anchor.anchored_at:
        return _result(
            CheckStatus.INVALID,
            "receipt_time_mismatch",
            **facts,
            receipt_anchored_at=receipt.anchored_at.isoformat(),
        )
    if reading.transaction_mismatch is not None:
        return _result(
            CheckStatus.INVALID,
            "receipt_transaction_mismatch",
            **facts,
            why=reading.transaction_mismatch.value,
        )
    return None


def _result(status: CheckStatus, code: str, **details: JsonValue) -> CheckResult:
    return CheckResult.of(CheckName.ANCHORING, status, code, **details)
