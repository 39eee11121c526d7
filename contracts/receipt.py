"""The receipt: the public, self-checking record that lets anyone verify a certificate alone.

Its format is specified byte by byte in docs/receipt.md. A `Receipt` cannot exist unless its
leaf is the hash of its id, salt and PDF hash, and its proof leads from that leaf to its root.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
    model_validator,
)

from contracts.documents import Address, DateTime, canonical_json, parse_document
from contracts.merkle import leaf_hash, process_proof
from sceau_errors import SceauError

RECEIPT_FORMAT = "sceau-receipt/1"
_HEX32 = r"^0x[0-9a-f]{64}$"
UINT64_MAX = 2**64 - 1
# An absolute http(s) URL: no space, no control character (docs/receipt.md, section 1.1).
URL_PATTERN = r"^https?://[^\x00-\x20\x7f]+$"
# Where a status list may be served (docs/receipt.md, section 1.1): https, or plain http on the
# loopback only (a developer's machine, the tests); a path; no user info, no fragment.
STATUS_LIST_URI_PATTERN = (
    r"^(?:https://[^/?#@\x00-\x20\x7f]+|http://(?:127\.0\.0\.1|localhost)(?::[0-9]{1,5})?)"
    r"/[^#\x00-\x20\x7f]*$"
)
STATUS_LIST_MAX_ENTRIES = 2**32  # an index is below this (docs/receipt.md, section 1.1)


class InvalidReceipt(SceauError, ValueError):
    """A receipt that is malformed or does not hold together."""


def origin_of(url: str) -> str:
    """The scheme and authority of an http(s) URL, lowercased: its text up to the first `/`,
    `?` or `#` after `://` (docs/receipt.md, section 1.1)."""
    scheme, rest = url.split("://", 1)
    return f"{scheme}://{re.split(r'[/?#]', rest, maxsplit=1)[0]}".lower()


def present_object(value: object) -> object:
    """An optional member's value when given: an object, never null (Sceau leaves it out)."""
    if value is None:
        raise ValueError("must be an object when present (leave the member out instead of null)")
    return value


class StatusListReference(BaseModel):
    """Which entry of which status list holds the certificate's status (the `status_list`
    member of the IETF Token Status List draft's `status` claim)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    idx: int = Field(ge=0, lt=STATUS_LIST_MAX_ENTRIES)
    uri: str = Field(pattern=STATUS_LIST_URI_PATTERN)


class ReceiptStatus(BaseModel):
    """The receipt's `status`: where a status list reader finds the certificate's status."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    status_list: StatusListReference


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
    status: ReceiptStatus | None = None  # optional: receipts made before the status list

    @field_validator("status", mode="before")
    @classmethod
    def _status_present(cls, value: object) -> object:
        return present_object(value)

    @field_validator("proof")
    @classmethod
    def _proof_elements(cls, proof: tuple[str, ...]) -> tuple[str, ...]:
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
        if self.status is not None and self.issuer.profile_url is not None:
            self._status_at_home(self.status.status_list.uri, self.issuer.profile_url)
        return self

    @staticmethod
    def _status_at_home(uri: str, profile_url: str) -> None:
        # The list is the issuer's, served beside its profile: one origin for both.
        if origin_of(uri) != origin_of(profile_url):
            raise ValueError("status.status_list.uri is not on issuer.profile_url's origin")

    @model_serializer(mode="wrap")
    def _without_absent_status(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # Absent, not null: a receipt without a status list keeps its bytes.
        document: dict[str, Any] = handler(self)
        if document.get("status", 0) is None:
            del document["status"]
        return document

    @classmethod
    def from_json(cls, raw: bytes | str) -> Receipt:
        """Parse and check a receipt; raises InvalidReceipt with the reason."""
        return parse_document(cls, raw, error=InvalidReceipt, what="receipt")

    def to_json(self) -> bytes:
        """Canonical JSON (sorted keys, two-space indent, trailing newline)."""
        return canonical_json(self)
