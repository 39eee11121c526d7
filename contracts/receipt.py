"""The receipt: the public, self-checking record that lets anyone verify a certificate alone.

Its format is specified byte by byte in docs/receipt.md. A `Receipt` cannot exist unless its
leaf is the hash of its id, salt and PDF hash, and its proof leads from that leaf to its root.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from contracts.documents import Address, DateTime, canonical_json, parse_document
from contracts.merkle import leaf_hash, process_proof

RECEIPT_FORMAT = "sceau-receipt/1"
_HEX32 = r"^0x[0-9a-f]{64}$"
UINT64_MAX = 2**64 - 1
# An absolute http(s) URL: no space, no control character (docs/receipt.md, section 1.1).
URL_PATTERN = r"^https?://[^\x00-\x20\x7f]+$"


class InvalidReceipt(ValueError):
    """A receipt that is malformed or does not hold together."""


class ReceiptIssuer(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    profile_url: str | None = Field(default=None, pattern=URL_PATTERN)


class Receipt(BaseModel):
    """Everything needed to check one certificate against the chain, trusting no server."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: Literal["sceau-receipt/1"] = "sceau-receipt/1"
    certificate_id: str = Field(pattern=r"^[0-9a-f]{32}$")
    salt: str = Field(pattern=_HEX32)
    pdf_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    leaf: str = Field(pattern=_HEX32)
    proof: tuple[str, ...]
    root: str = Field(pattern=_HEX32)
    chain_id: int = Field(ge=1, le=UINT64_MAX)
    contract: Address
    transaction: str = Field(pattern=_HEX32)
    block_number: int = Field(ge=0, le=UINT64_MAX)
    anchored_at: DateTime
    issuer: ReceiptIssuer

    @field_validator("proof")
    @classmethod
    def _proof_elements(cls, proof: tuple[str, ...]) -> tuple[str, ...]:
        import re

        for element in proof:
            if not re.fullmatch(_HEX32, element):
                raise ValueError(f"proof element {element!r} is not 0x + 64 lowercase hex")
        return proof

    @model_validator(mode="after")
    def _holds_together(self) -> Receipt:
        leaf = leaf_hash(
            bytes.fromhex(self.certificate_id),
            bytes.fromhex(self.salt[2:]),
            bytes.fromhex(self.pdf_sha256),
        )
        if "0x" + leaf.hex() != self.leaf:
            raise ValueError("leaf is not the hash of certificate_id, salt and pdf_sha256")
        root = process_proof(leaf, tuple(bytes.fromhex(p[2:]) for p in self.proof))
        if "0x" + root.hex() != self.root:
            raise ValueError("proof does not lead from the leaf to the root")
        return self

    @classmethod
    def from_json(cls, raw: bytes | str) -> Receipt:
        """Parse and check a receipt; raises InvalidReceipt with the reason."""
        return parse_document(cls, raw, error=InvalidReceipt, what="receipt")

    def to_json(self) -> bytes:
        """Canonical JSON (sorted keys, two-space indent, trailing newline)."""
        return canonical_json(self)
