"""What the registry client takes and answers: roles, reasons and frozen records of the chain.

These values carry no web3 object, so the layers above read them without importing web3.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from contracts.keccak import keccak256

TxKind = Literal[
    "deploy",
    "anchor",
    "revoke",
    "revoke_batch",
    "suspend_batch",
    "unsuspend_batch",
    "grant_role",
    "revoke_role",
    "publish_profile",
    "publish_status_list",
]


class RevocationReason(enum.IntEnum):
    """Why a certificate was revoked; mirrors the Solidity enum (UNSPECIFIED is never valid)."""

    UNSPECIFIED = 0
    HOLDER_REQUEST = 1
    ISSUER_ERROR = 2
    FRAUD = 3
    SUPERSEDED = 4
    RETENTION_EXPIRED = 5


class SuspensionReason(enum.IntEnum):
    """Why a certificate is suspended; mirrors the Solidity enum (UNSPECIFIED is never valid)."""

    UNSPECIFIED = 0
    APPEAL = 1
    INQUIRY = 2
    PAYMENT = 3
    OTHER = 4


class Role(enum.Enum):
    """The registry's AccessControl roles; `.id` is the on-chain bytes32."""

    ADMIN = "DEFAULT_ADMIN_ROLE"
    ISSUER = "ISSUER_ROLE"
    REVOKER = "REVOKER_ROLE"
    SUSPENDER = "SUSPENDER_ROLE"

    @property
    def id(self) -> bytes:
        """The role's bytes32 id (zero for the admin role, keccak256 of the name otherwise)."""
        return bytes(32) if self is Role.ADMIN else keccak256(self.value.encode("ascii"))


class TxState(enum.Enum):
    """What the node knows of a transaction hash."""

    UNKNOWN = "unknown"
    PENDING = "pending"
    MINED = "mined"


@dataclass(frozen=True)
class PreparedTransaction:
    """A signed, not yet sent transaction: persist `tx_hash` and `raw` before sending."""

    tx_hash: str
    raw: bytes
    nonce: int
    kind: TxKind


@dataclass(frozen=True)
class TxOutcome:
    """A mined, successful, confirmed transaction."""

    tx_hash: str
    block_number: int
    block_timestamp: datetime
    gas_used: int


@dataclass(frozen=True)
class AnchorRecord:
    """When (block time, UTC) and by whom a root was anchored."""

    anchored_at: datetime
    block_number: int
    issuer: str


@dataclass(frozen=True)
class RevocationRecord:
    """When, why and by whom a leaf was revoked."""

    revoked_at: datetime
    reason: RevocationReason
    revoker: str


@dataclass(frozen=True)
class SuspensionRecord:
    """When, why and by whom a leaf was suspended; lifting the suspension removes the record."""

    suspended_at: datetime
    reason: SuspensionReason
    suspended_by: str | None = None  # the suspending account; None where a source omits it


@dataclass(frozen=True)
class CertificateStatus:
    """One `checkCertificate` answer: the root the proof leads to, its anchor, the revocation
    and the suspension (a revoked leaf is never also suspended: revocation overrides it)."""

    leaf: bytes
    root: bytes
    anchor: AnchorRecord | None
    revocation: RevocationRecord | None
    suspension: SuspensionRecord | None = None

    @property
    def is_anchored(self) -> bool:
        return self.anchor is not None

    @property
    def is_revoked(self) -> bool:
        return self.revocation is not None

    @property
    def is_suspended(self) -> bool:
        return self.suspension is not None


@dataclass(frozen=True)
class ProfileRecord:
    """The issuer profile's hash the registry holds as current, and when it was published."""

    profile_sha256: bytes
    published_at: datetime

    def __post_init__(self) -> None:
        if len(self.profile_sha256) != 32 or self.profile_sha256 == bytes(32):
            raise ValueError("a published profile hash is 32 bytes, not all zero")


@dataclass(frozen=True)
class StatusListRecord:
    """The issuer's current status list hash as the registry holds it, and when published."""

    list_hash: bytes
    published_at: datetime

    def __post_init__(self) -> None:
        if len(self.list_hash) != 32 or self.list_hash == bytes(32):
            raise ValueError("a published status list hash is 32 bytes, not all zero")


@dataclass(frozen=True)
class Deployment:
    """Where a registry was deployed."""

    address: str
    chain_id: int
    block_number: int
    tx_hash: str
