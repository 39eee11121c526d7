"""The registry's views a verifier reads, as raw `eth_call`s on a `ChainNode`.

Calls are encoded and answers decoded with eth_abi against the committed ABI
(contracts/abi/CertificateRegistry.json), so a change of the contract's view signatures shows
here as it does in the client. No contract object is built: one view, one POST.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from functools import cache
from typing import Any

from eth_abi.abi import decode, encode
from eth_abi.exceptions import DecodingError
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from contracts.abi import load_artifact
from contracts.errors import RegistryError
from contracts.values import (
    AnchorRecord,
    CertificateStatus,
    RevocationReason,
    RevocationRecord,
    Role,
)
from verifier.rpc import ChainNode


@cache
def _view(name: str) -> tuple[bytes, tuple[str, ...], tuple[str, ...]]:
    """The selector, input types and output types of view `name` of the registry ABI."""
    entry = next(e for e in load_artifact().abi if e["type"] == "function" and e["name"] == name)
    inputs = tuple(_abi_type(i) for i in entry["inputs"])
    outputs = tuple(_abi_type(o) for o in entry["outputs"])
    return keccak(text=f"{name}({','.join(inputs)})")[:4], inputs, outputs


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
        self.address = to_checksum_address(address)

    def check_certificate(self, leaf: bytes, proof: Sequence[bytes]) -> CertificateStatus:
        """`checkCertificate`: the root the proof leads to, its anchor, the leaf's revocation
        (the revoker, which the one-call view omits, read only for a revoked leaf)."""
        (answer,) = self._call("checkCertificate", leaf, list(proof))
        root, at, block, by, revoked_at, _reason = answer
        anchor = AnchorRecord(_utc(at), int(block), to_checksum_address(by)) if at else None
        revocation = self.revocation_of(leaf) if revoked_at else None
        return CertificateStatus(leaf=leaf, root=bytes(root), anchor=anchor, revocation=revocation)

    def revocation_of(self, leaf: bytes) -> RevocationRecord | None:
        """`revocationOf`: when, why and by whom `leaf` was revoked, or None."""
        at, reason, revoker = self._call("revocationOf", leaf)
        if not at:
            return None
        try:
            why = RevocationReason(reason)
        except ValueError:
            raise RegistryError(
                f"the registry names an unknown revocation reason {reason}"
            ) from None
        return RevocationRecord(_utc(at), why, to_checksum_address(revoker))

    def has_role_at(self, role: Role, account: str, block: int) -> bool:
        """`hasRole` as of `block` (needs the node to keep that block's state)."""
        (held,) = self._call("hasRole", role.id, to_checksum_address(account), block=block)
        return bool(held)

    def _call(self, name: str, *args: Any, block: int | str = "latest") -> tuple[Any, ...]:
        selector, inputs, outputs = _view(name)
        answer = self.node.call(self.address, selector + encode(list(inputs), list(args)), block)
        try:
            return tuple(decode(list(outputs), answer))
        except (DecodingError, ValueError, OverflowError):
            raise RegistryError(f"the registry's answer to {name} cannot be decoded") from None


def _utc(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=UTC)
