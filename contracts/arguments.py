"""Checks of what the client is asked to send, before anything is signed.

The registry would revert the same inputs, but only after a gas estimate and with less to say;
checked here, a bad leaf or reason is an `InvalidInput` naming the fault.
"""

from __future__ import annotations

from collections.abc import Sequence

from contracts.errors import InvalidInput
from contracts.merkle import parse_hash32
from contracts.values import RevocationReason, SuspensionReason


def revocation_reason(value: RevocationReason | int) -> RevocationReason:
    """`value` as a revocation reason; UNSPECIFIED and unknown values are refused."""
    try:
        reason = RevocationReason(value)
    except ValueError:
        raise InvalidInput(f"unknown revocation reason {value!r}") from None
    if reason is RevocationReason.UNSPECIFIED:
        raise InvalidInput("a revocation needs a reason other than UNSPECIFIED")
    return reason


def suspension_reason(value: SuspensionReason | int) -> SuspensionReason:
    """`value` as a suspension reason; UNSPECIFIED and unknown values are refused."""
    try:
        reason = SuspensionReason(value)
    except ValueError:
        raise InvalidInput(f"unknown suspension reason {value!r}") from None
    if reason is SuspensionReason.UNSPECIFIED:
        raise InvalidInput("a suspension needs a reason other than UNSPECIFIED")
    return reason


def certificate_leaf(value: bytes | str) -> bytes:
    """A leaf to revoke or suspend: 32 bytes, not zero."""
    key = parse_hash32(value, "leaf")
    if key == bytes(32):
        raise InvalidInput("the zero leaf cannot be revoked or suspended")
    return key


def distinct_leaves(values: Sequence[bytes | str], action: str) -> list[bytes]:
    """The leaves of a batch `action`: at least one, none zero, none twice."""
    if not values:
        raise InvalidInput(f"a batch {action} needs at least one leaf")
    leaves = [certificate_leaf(value) for value in values]
    if len(set(leaves)) != len(leaves):
        raise InvalidInput(f"a batch {action} lists the same leaf twice")
    return leaves
