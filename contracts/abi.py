"""The committed CertificateRegistry ABI and bytecode, and decoding of its revert data.

contracts/abi/CertificateRegistry.json is written by `npm run export-abi`; a Hardhat test and
tests/contracts/test_abi_drift.py fail when it drifts from contracts/CertificateRegistry.sol.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from contracts.keccak import selector

CONTRACT_NAME = "CertificateRegistry"
ABI_RESOURCE = f"abi/{CONTRACT_NAME}.json"
SOURCE_RESOURCE = f"{CONTRACT_NAME}.sol"

# Solidity's built-in revert payloads, besides the contract's custom errors.
_BUILTIN_ERRORS = {"Error": ["string"], "Panic": ["uint256"]}


@dataclass(frozen=True)
class RegistryArtifact:
    """The compiled registry as committed: ABI, creation and runtime bytecode."""

    contract_name: str
    solc_version: str
    source_sha256: str
    abi: tuple[dict[str, Any], ...]
    bytecode: str
    deployed_bytecode: str


@dataclass(frozen=True)
class DecodedRevert:
    """A revert payload decoded against the registry ABI: error name and arguments."""

    name: str
    args: tuple[Any, ...]


@cache
def load_artifact() -> RegistryArtifact:
    """Load the committed ABI + bytecode shipped as package data of `contracts`."""
    text = resources.files("contracts").joinpath(ABI_RESOURCE).read_text(encoding="utf-8")
    doc = json.loads(text)
    return RegistryArtifact(
        contract_name=doc["contractName"],
        solc_version=doc["solcVersion"],
        source_sha256=doc["sourceSha256"],
        abi=tuple(doc["abi"]),
        bytecode=doc["bytecode"],
        deployed_bytecode=doc["deployedBytecode"],
    )


def source_sha256() -> str:
    """SHA-256 (hex) of the Solidity source shipped next to the committed ABI."""
    data = resources.files("contracts").joinpath(SOURCE_RESOURCE).read_bytes()
    return hashlib.sha256(data).hexdigest()


@cache
def _error_selectors() -> dict[bytes, tuple[str, tuple[str, ...]]]:
    errors = {name: tuple(types) for name, types in _BUILTIN_ERRORS.items()}
    for entry in load_artifact().abi:
        if entry.get("type") == "error":
            errors[entry["name"]] = tuple(arg["type"] for arg in entry.get("inputs", []))
    return {selector(f"{name}({','.join(types)})"): (name, types) for name, types in errors.items()}


def decode_revert(data: bytes | str | None) -> DecodedRevert | None:
    """Decode revert data (selector + ABI args) into a named error; None when unrecognised."""
    raw = _as_bytes(data)
    if raw is None or len(raw) < 4:
        return None
    known = _error_selectors().get(raw[:4])
    if known is None:
        return None
    name, types = known
    # Imported here: only the issuer's client decodes reverts, and eth_abi is slow to import.
    from eth_abi.abi import decode as abi_decode
    from eth_abi.exceptions import DecodingError

    try:
        args = tuple(abi_decode(list(types), raw[4:]))
    except DecodingError:
        return None
    return DecodedRevert(name=name, args=args)


def _as_bytes(data: bytes | str | None) -> bytes | None:
    if data is None or isinstance(data, bytes):
        return data
    text = data[2:] if data.startswith("0x") else data
    try:
        return bytes.fromhex(text)
    except ValueError:
        return None
