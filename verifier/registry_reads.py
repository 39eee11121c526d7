"""The registry's views a verifier reads, as raw `eth_call`s on a `ChainNode`.

Calls are encoded and answers decoded (contracts.abi_words, no eth_abi: it is slow to import)
against the committed ABI (contracts/abi/CertificateRegistry.json), so a change of the
contract's view signatures shows here as it does in the client. No contract object is built:
one view, one POST.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from functools import cache, lru_cache
from typing import Any

from contracts.abi import load_artifact
from contracts.abi_words import AbiDecodingError, decode_words, encode_arguments
from contracts.errors import RegistryError
from contracts.keccak import selector, to_checksum_address
from contracts.values import (
    AnchorRecord,
    CertificateStatus,
    RevocationReason,
    RevocationRecord,
    Role,
    StatusListRecord,
    SuspensionReason,
    SuspensionRecord,
)
from verifier.rpc import ChainNode


@lru_cache(maxsize=1024)
def checksum_address(address: str) -> str:
    """`to_checksum_address`, kept: a verifier meets a few addresses (the registry, the issuer's
    and revokers' accounts) on every opening, and each costs a Keccak in pure Python."""
    return to_checksum_address(address)


@cache
def _view(name: str) -> tuple[bytes, tuple[str, ...], tuple[str, ...]]:
    """The selector, input types and output types of view `name` of the registry ABI."""
    entry = next(e for e in load_artifact().abi if e["type"] == "function" and e["name"] == name)
    inputs = tuple(_abi_type(i) for i in entry["inputs"])
    outputs = tuple(_abi_type(o) for o in entry["outputs"])
    return selector(f"{name}({','.join(inputs)})"), inputs, outputs


def _abi_type(parameter: dict[str, Any]) -> str:
    """`bytes32`, or `(bytes32,uint64,...)` for a tuple (with its array suffix, if any)."""
    kind = str(parameter["type"])
    if not kind.startswith("tuple"):
        return kind
    inner = ",".join(_abi_type(c) for c in parameter["components"])
    return f"({inner}){kind[len('tuple') :]}"


class RegistryReads:
    """Read-only views of the registry at `address` on `node`."""

    def __init__(self, node: ChainNode, address: str) -> None:
        self.node = node
        self.address = checksum_address(address)

    def check_certificate(self, leaf: bytes, proof: Sequence[bytes]) -> CertificateStatus:
        """`checkCertificate`, one call: the root the proof leads to, its anchor, the leaf's
        revocation and its suspension, each with its account."""
        (answer,) = self._call("checkCertificate", leaf, list(proof))
        root, at, block, by, revoked_at, revoked_why, revoker = answer[:7]
        suspended_at, suspended_why, suspender = answer[7:]
        anchor = AnchorRecord(_utc(at), int(block), checksum_address(by)) if at else None
        revocation = (
            RevocationRecord(
                _utc(revoked_at), _revocation_reason(revoked_why), checksum_address(revoker)
            )
            if revoked_at
            else None
        )
        suspension = (
            SuspensionRecord(
                _utc(suspended_at),
                _suspension_reason(suspended_why),
                checksum_address(suspender),
            )
            if suspended_at
            else None
        )
        return CertificateStatus(
            leaf=leaf,
            root=bytes(root),
            anchor=anchor,
            revocation=revocation,
            suspension=suspension,
        )

    def revocation_of(self, leaf: bytes) -> RevocationRecord | None:
        """`revocationOf`: when, why and by whom `leaf` was revoked, or None."""
        at, reason, revoker = self._call("revocationOf", leaf)
        if not at:
            return None
        return RevocationRecord(_utc(at), _revocation_reason(reason), checksum_address(revoker))

    def suspension_of(self, leaf: bytes) -> SuspensionRecord | None:
        """`suspensionOf`: when, why and by whom `leaf` is suspended, or None."""
        at, reason, suspender = self._call("suspensionOf", leaf)
        if not at:
            return None
        return SuspensionRecord(_utc(at), _suspension_reason(reason), checksum_address(suspender))

    def current_status_list(self) -> StatusListRecord | None:
        """`currentStatusList`: the status list hash the registry holds as current, or None."""
        list_hash, published_at = self._call("currentStatusList")
        if bytes(list_hash) == bytes(32):
            return None
        return StatusListRecord(list_hash=bytes(list_hash), published_at=_utc(published_at))

    def has_role_at(self, role: Role, account: str, block: int) -> bool:
        """`hasRole` as of `block` (needs the node to keep that block's state)."""
        (held,) = self._call("hasRole", role.id, checksum_address(account), block=block)
        return bool(held)

    def _call(self, name: str, *args: Any, block: int | str = "latest") -> tuple[Any, ...]:
        function, inputs, outputs = _view(name)
        answer = self.node.call(self.address, function + encode_arguments(inputs, args), block)
        try:
            return decode_words(outputs, answer)
        except AbiDecodingError:
            raise RegistryError(f"the registry's answer to {name} cannot be decoded") from None


def _revocation_reason(value: int) -> RevocationReason:
    try:
        return RevocationReason(value)
    except ValueError:
        raise RegistryError(f"the registry names an unknown revocation reason {value}") from None


def _suspension_reason(value: int) -> SuspensionReason:
    try:
        return SuspensionReason(value)
    except ValueError:
        raise RegistryError(f"the registry names an unknown suspension reason {value}") from None


def _utc(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=UTC)
