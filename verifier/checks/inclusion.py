"""Inclusion: the Merkle proof leads from the leaf to the anchored root."""

from __future__ import annotations

from contracts.merkle import process_proof
from contracts.receipt import Receipt
from verifier.report import CheckName, CheckResult, CheckStatus


def check_inclusion(receipt: Receipt) -> CheckResult:
    """Fold the receipt's proof onto its leaf; the result must be its root."""
    siblings = tuple(bytes.fromhex(p[2:]) for p in receipt.proof)
    reached = "0x" + process_proof(bytes.fromhex(receipt.leaf[2:]), siblings).hex()
    if reached != receipt.root:
        return CheckResult.of(
            CheckName.INCLUSION, CheckStatus.INVALID, "proof_mismatch", reached_root=reached
        )
    return CheckResult.of(
        CheckName.INCLUSION,
        CheckStatus.VALID,
        "included",
        root=receipt.root,
        proof_length=len(receipt.proof),
    )
