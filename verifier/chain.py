"""Read-only questions to the chain, asked directly of a JSON-RPC node: nothing is sent or signed.

Failures come back as a `ChainFailure` with a stable code, not as exceptions: an unreachable node
means "could not decide", never "invalid".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import requests
from eth_utils.address import to_checksum_address
from pydantic import JsonValue
from web3 import Web3

from contracts.abi import load_artifact
from contracts.client import CertificateStatus, RegistryClient, Role, make_web3
from contracts.errors import RegistryError, RpcUnavailable
from contracts.receipt import Receipt

DEFAULT_TIMEOUT = 5.0
_UNREACHABLE = (requests.exceptions.ConnectionError, requests.exceptions.Timeout, OSError)


@dataclass(frozen=True)
class ChainReading:
    """What the registry says of one receipt, and whether its anchorer held the issuer role."""

    status: CertificateStatus
    issuer_role_at_anchor: bool | None  # None: not anchored, or the node keeps no such history


@dataclass(frozen=True)
class ChainFailure:
    """Why the chain could not answer; `code` is a check code of verifier.messages."""

    code: str
    reason: str
    details: dict[str, JsonValue] = field(default_factory=dict)
    receipt_is_false: bool = False  # the node answered, and the receipt's registry is not there


def read_chain(
    rpc_url: str, receipt: Receipt, *, timeout: float = DEFAULT_TIMEOUT
) -> ChainReading | ChainFailure:
    """Ask the node at `rpc_url` about `receipt`: chain id, registry code, anchoring, revocation."""
    web3 = make_web3(rpc_url, http_timeout=timeout)
    problem = _check_node(web3, receipt)
    if problem is not None:
        return problem
    try:
        registry = RegistryClient(web3=web3, address=receipt.contract)
        status = registry.check_certificate(receipt.leaf, receipt.proof)
    except RpcUnavailable as exc:
        return ChainFailure("chain_unreachable", exc.message)
    except RegistryError as exc:
        return ChainFailure("chain_error", exc.message)
    held = None if status.anchor is None else _issuer_role_at(web3, receipt, status)
    return ChainReading(status=status, issuer_role_at_anchor=held)


def _check_node(web3: Web3, receipt: Receipt) -> ChainFailure | None:
    """One quick call first, without retries, so a dead node fails fast."""
    try:
        actual = int(web3.eth.chain_id)
        if actual != receipt.chain_id:
            details: dict[str, JsonValue] = {
                "expected_chain_id": receipt.chain_id,
                "actual_chain_id": actual,
            }
            return ChainFailure("wrong_chain", "the node serves another chain", details)
        code = web3.eth.get_code(to_checksum_address(receipt.contract))
    except _UNREACHABLE as exc:
        return ChainFailure("chain_unreachable", str(exc))
    except Exception as exc:  # any node may be asked: an odd answer means "could not decide"
        return ChainFailure("chain_error", str(exc))
    if len(code) == 0:
        where: dict[str, JsonValue] = {"contract": receipt.contract, "chain_id": receipt.chain_id}
        return ChainFailure("no_contract", "no code at that address", where, receipt_is_false=True)
    return None


def _issuer_role_at(web3: Web3, receipt: Receipt, status: CertificateStatus) -> bool | None:
    """Whether the anchoring account held ISSUER_ROLE in the anchoring block (needs its state)."""
    assert status.anchor is not None
    contract: Any = web3.eth.contract(
        address=to_checksum_address(receipt.contract), abi=list(load_artifact().abi)
    )
    call = contract.functions.hasRole(Role.ISSUER.id, to_checksum_address(status.anchor.issuer))
    try:
        return bool(call.call(block_identifier=status.anchor.block_number))
    except Exception:  # a pruned node has no state for old blocks: the check cannot decide
        return None


def read_leaf(
    rpc_url: str, *, chain_id: int, contract: str, leaf: str, timeout: float = DEFAULT_TIMEOUT
) -> ChainReading | ChainFailure:
    """Revocation of a bare leaf (a tombstone has no proof left): anchoring is not asked."""
    web3 = make_web3(rpc_url, http_timeout=timeout)
    try:
        if int(web3.eth.chain_id) != chain_id:
            return ChainFailure("wrong_chain", "the node serves another chain")
        status = RegistryClient(web3=web3, address=contract).check_certificate(leaf, [])
    except _UNREACHABLE as exc:
        return ChainFailure("chain_unreachable", str(exc))
    except RpcUnavailable as exc:
        return ChainFailure("chain_unreachable", exc.message)
    except RegistryError as exc:
        return ChainFailure("chain_error", exc.message)
    return ChainReading(status=status, issuer_role_at_anchor=None)
