"""Talking to a chain node safely: bounded retries, and web3's failures turned into typed errors.

This module and the client's are the only places web3.py's exceptions are caught; what leaves
`contracts/` is always a `contracts.errors.RegistryError`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

import requests
from eth_typing import ChecksumAddress
from eth_utils.address import to_checksum_address
from web3.exceptions import ContractLogicError, Web3Exception, Web3RPCError

from contracts.abi import decode_revert
from contracts.errors import (
    InsufficientFunds,
    InvalidInput,
    LeafAlreadyRevoked,
    LeafAlreadySuspended,
    LeafNotSuspended,
    NotAuthorized,
    OutOfGas,
    ProfileUnchanged,
    RegistryError,
    RootAlreadyAnchored,
    RpcUnavailable,
    StatusListUnchanged,
    TransactionReverted,
)
from contracts.values import Role

T = TypeVar("T")

RETRY_DELAYS = (0.2, 0.5, 1.0)  # bounded backoff for safe retries (reads, same raw tx)

CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    ConnectionError,
    TimeoutError,
)

# Custom errors with their own Python type; every other revert is a TransactionReverted.
_REVERT_TYPES: dict[str, tuple[type[TransactionReverted], str]] = {
    "RegistryRootAlreadyAnchored": (RootAlreadyAnchored, "root {} is already anchored"),
    "RegistryLeafAlreadyRevoked": (LeafAlreadyRevoked, "leaf {} is already revoked"),
    "RegistryLeafAlreadySuspended": (LeafAlreadySuspended, "leaf {} is already suspended"),
    "RegistryLeafNotSuspended": (LeafNotSuspended, "leaf {} is not suspended"),
    "RegistryStatusListUnchanged": (
        StatusListUnchanged,
        "status list hash {} is already the current one",
    ),
    "RegistryProfileUnchanged": (ProfileUnchanged, "profile hash {} is already the current one"),
}


def with_retries(what: str, call: Callable[[], T]) -> T:
    """Run a call that is safe to repeat, retrying connection failures with bounded backoff."""
    for delay in (*RETRY_DELAYS, None):
        try:
            return call()
        except CONNECTION_ERRORS as exc:
            if delay is None:
                raise RpcUnavailable(f"the chain node did not answer ({what}): {exc}") from None
            time.sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


def rpc_message(exc: BaseException) -> str:
    """The node's own error message, when it gave one."""
    if isinstance(exc, Web3RPCError) and isinstance(exc.rpc_response, dict):
        error = exc.rpc_response.get("error")
        if isinstance(error, dict):
            return str(error.get("message", exc))
    return str(exc)


def revert_error(exc: ContractLogicError, *, tx_hash: str | None = None) -> RegistryError:
    """Map a contract revert to the most specific typed error."""
    decoded = decode_revert(exc.data if isinstance(exc.data, str | bytes) else None)
    return revert_to_error(
        decoded.name if decoded else None,
        decoded.args if decoded else (),
        tx_hash=tx_hash,
        detail=str(exc),
    )


def revert_to_error(
    name: str | None, args: tuple[Any, ...], *, tx_hash: str | None = None, detail: str = ""
) -> RegistryError:
    """Turn a decoded custom error of the registry into its typed Python error."""
    if name == "AccessControlUnauthorizedAccount":
        role = _role_name(args[1]) if len(args) > 1 else "?"
        return NotAuthorized(
            f"account {args[0]} does not hold the {role} role on the registry",
            account=str(args[0]),
            role=role,
        )
    if name in _REVERT_TYPES:
        error_type, message = _REVERT_TYPES[name]
        subject = f"0x{bytes(args[0]).hex()}" if args else "?"
        return error_type(
            message.format(subject), error_name=name, tx_hash=tx_hash, error_args=args
        )
    label = name or "an unrecognised error"
    return TransactionReverted(
        f"the registry rejected the transaction with {label} {detail}".strip(),
        error_name=name,
        tx_hash=tx_hash,
        error_args=args,
    )


def _role_name(role_id: object) -> str:
    for role in Role:
        if role.id == role_id:
            return role.value
    return "0x" + bytes(role_id).hex() if isinstance(role_id, bytes) else str(role_id)


def send_error(exc: Web3Exception | ValueError) -> RegistryError:
    """Classify a node's refusal of a transaction or of its gas estimate."""
    message = rpc_message(exc)
    lowered = message.lower()
    if "insufficient funds" in lowered:
        return InsufficientFunds(f"the account cannot pay for the gas: {message}")
    if "out of gas" in lowered or "gas required exceeds" in lowered or "intrinsic gas" in lowered:
        return OutOfGas(f"not enough gas for the transaction: {message}")
    return RegistryError(f"the node refused the transaction: {message}")


@contextmanager
def translated(what: str) -> Iterator[None]:
    """Turn any web3 / transport failure in the block into a RegistryError."""
    try:
        yield
    except RegistryError:
        raise
    except ContractLogicError as exc:
        raise revert_error(exc) from None
    except CONNECTION_ERRORS as exc:
        raise RpcUnavailable(f"the chain node did not answer ({what}): {exc}") from None
    except (Web3Exception, ValueError) as exc:
        raise send_error(exc) from None


def hex0x(value: bytes) -> str:
    """`0x`-prefixed lowercase hex."""
    return "0x" + value.hex()


def utc(timestamp: int) -> datetime:
    """A block timestamp as an aware UTC datetime."""
    return datetime.fromtimestamp(timestamp, tz=UTC)


def checksum_address(value: str, what: str = "address") -> ChecksumAddress:
    """The EIP-55 form of `value`; InvalidInput when it is not an address."""
    try:
        return to_checksum_address(value)
    except (ValueError, TypeError):
        raise InvalidInput(f"{what} is not a valid address: {value!r}") from None
