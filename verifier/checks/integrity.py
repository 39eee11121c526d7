"""Integrity: the PDF is byte for byte the one whose hash went into the leaf."""

from __future__ import annotations

import hashlib

from contracts.merkle import leaf_hash
from contracts.receipt import Receipt
from verifier.report import CheckName, CheckResult, CheckStatus


def check_integrity(pdf: bytes, receipt: Receipt) -> CheckResult:
    """SHA-256 of `pdf` equals the receipt's, and the leaf is the hash of id, salt and that."""
    digest = hashlib.sha256(pdf).hexdigest()
    if digest != receipt.pdf_sha256:
        return CheckResult.of(
            CheckName.INTEGRITY,
            CheckStatus.INVALID,
            "pdf_hash_mismatch",
            pdf_sha256=digest,
            expected_sha256=receipt.pdf_sha256,
        )
    leaf = leaf_hash(
        bytes.fromhex(receipt.certificate_id),
        bytes.fromhex(receipt.salt[2:]),
        bytes.fromhex(digest),
    )
    if "0x" + leaf.hex() != receipt.leaf:
        return CheckResult.of(
            CheckName.INTEGRITY, CheckStatus.INVALID, "leaf_mismatch", leaf="0x" + leaf.hex()
        )
    return CheckResult.of(
        CheckName.INTEGRITY, CheckStatus.VALID, "pdf_matches", pdf_sha256=digest, leaf=receipt.leaf
    )
