"""Chain reads a verifier makes besides the registry's views: the anchoring transaction, and the
issuer profile's hash on the registry (raw `eth_call`s, so they need no ABI of ours).

As in docs/receipt.md (section 3.4) and docs/profile.md (section 4). The judgements are pure
functions of the node's answers (`transaction_mismatch`, `decode_current_profile`), taking a
transaction receipt as the node sends it (hex strings) or as web3 returns it; the web3-based
readers import web3 only when called, so the light verifier never loads it. web3's exceptions
become `RpcUnavailable` (no answer) or `RegistryError` (an answer that cannot be used).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from contracts.abi import load_artifact
from contracts.errors import RegistryError, RpcUnavailable
from contracts.keccak import keccak256, selector, to_checksum_address

if TYPE_CHECKING:
    from web3 import Web3

T = TypeVar("T")


def _event_topic(name: str) -> bytes:
    """topics[0] of event `name` of the committed registry ABI (its signature's Keccak-256)."""
    event = next(e for e in load_artifact().abi if e["type"] == "event" and e["name"] == name)
    return keccak256(f"{name}({','.join(i['type'] for i in event['inputs'])})".encode("ascii"))


ROOT_ANCHORED_TOPIC = _event_topic("RootAnchored")  # its first indexed argument is the root
CURRENT_PROFILE_SELECTOR = selector("currentProfile()")


class TransactionMismatch(enum.StrEnum):
    """Why a receipt's `transaction` is not the anchoring of its root."""

    NOT_FOUND = "not_found"
    FAILED = "failed"
    OTHER_BLOCK = "other_block"
    NOT_TO_REGISTRY = "not_to_registry"
    NO_ANCHORING_EVENT = "no_anchoring_event"


@dataclass(frozen=True)
class PublishedProfileHash:
    """The registry's current profile hash and when it was published."""

    sha256: bytes
    published_at: datetime


def transaction_mismatch(
    receipt: Mapping[str, Any] | None, *, registry: str, root: bytes, block_number: int
) -> TransactionMismatch | None:
    """None when `receipt` (the node's transaction receipt, None if the node knows no such
    transaction) is a success to `registry`, mined in `block_number`, that emitted
    `RootAnchored(root, …)`; otherwise what differs."""
    if receipt is None:
        return TransactionMismatch.NOT_FOUND
    try:
        if _int(receipt.get("status", 0)) != 1:
            return TransactionMismatch.FAILED
        if _int(receipt["blockNumber"]) != block_number:
            return TransactionMismatch.OTHER_BLOCK
        if str(receipt.get("to") or "").lower() != registry.lower():
            return TransactionMismatch.NOT_TO_REGISTRY
        if not any(_anchors(log, registry, root) for log in receipt.get("logs", ())):
            return TransactionMismatch.NO_ANCHORING_EVENT
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise RegistryError(f"the chain node gave an unusable transaction receipt: {exc}") from None
    return None


def decode_current_profile(answer: bytes) -> PublishedProfileHash | None:
    """The answer of `currentProfile()`; None when no profile was ever published."""
    if len(answer) != 64:
        raise RegistryError("the registry has no currentProfile() view")
    profile_hash, published_at = answer[:32], int.from_bytes(answer[32:], "big")
    if profile_hash == bytes(32):
        return None
    return PublishedProfileHash(profile_hash, datetime.fromtimestamp(published_at, UTC))


def anchoring_transaction_mismatch(
    web3: Web3, tx_hash: str, *, registry: str, root: bytes, block_number: int
) -> TransactionMismatch | None:
    """`transaction_mismatch` of `tx_hash`, read with web3."""
    receipt = _read(lambda: _transaction_receipt(web3, tx_hash))
    return transaction_mismatch(receipt, registry=registry, root=root, block_number=block_number)


def current_profile_hash(web3: Web3, registry: str) -> PublishedProfileHash | None:
    """`currentProfile()` of `registry` at `latest`, read with web3."""
    call: Any = {"to": to_checksum_address(registry), "data": "0x" + CURRENT_PROFILE_SELECTOR.hex()}
    return decode_current_profile(bytes(_read(lambda: web3.eth.call(call, "latest"))))


def _transaction_receipt(web3: Web3, tx_hash: str) -> Mapping[str, Any] | None:
    from eth_typing import HexStr
    from web3.exceptions import TransactionNotFound

    try:
        return web3.eth.get_transaction_receipt(HexStr(tx_hash))
    except TransactionNotFound:
        return None


def _anchors(log: Mapping[str, Any], registry: str, root: bytes) -> bool:
    topics = [_bytes(t) for t in log.get("topics", ())]
    return (
        str(log.get("address", "")).lower() == registry.lower()
        and len(topics) >= 2
        and topics[0] == ROOT_ANCHORED_TOPIC
        and topics[1] == root
    )


def _int(value: object) -> int:
    """A quantity as the node sends it (hex string) or as web3 returns it (int)."""
    if isinstance(value, str):
        return int(value, 16)
    if isinstance(value, int):
        return value
    raise TypeError(f"not a quantity: {type(value).__name__}")


def _bytes(value: object) -> bytes:
    """Data as the node sends it (hex string) or as web3 returns it (HexBytes)."""
    if isinstance(value, str):
        return bytes.fromhex(value.removeprefix("0x"))
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    raise TypeError(f"not data: {type(value).__name__}")


def _read(call: Callable[[], T]) -> T:
    import requests
    from web3.exceptions import Web3Exception

    no_answer = (requests.exceptions.ConnectionError, requests.exceptions.Timeout, OSError)
    try:
        return call()
    except no_answer as exc:
        raise RpcUnavailable(f"the chain node did not answer: {exc}") from None
    except (Web3Exception, ValueError, KeyError, TypeError) as exc:
        raise RegistryError(f"the chain node gave an unusable answer: {exc}") from None
