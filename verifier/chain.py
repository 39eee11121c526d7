"""Read-only questions to the chain, asked directly of a JSON-RPC node: nothing is sent or signed.

Failures come back as a `ChainFailure` with a stable code, not as exceptions: an unreachable node
means "could not decide", never "invalid".
"""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import requests
from eth_utils.address import to_checksum_address
from pydantic import JsonValue
from web3 import Web3

from contracts.abi import load_artifact
from contracts.client import AnchorRecord, CertificateStatus, RegistryClient, Role, make_web3
from contracts.errors import RegistryError, RpcUnavailable
from contracts.merkle import process_proof
from contracts.receipt import Receipt

DEFAULT_TIMEOUT = 5.0
_log = logging.getLogger(__name__)
_URL = re.compile(r"(https?|wss?)://\S+|/v\d+/\S+|url: \S+")
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


class ChainCache:
    """What may be remembered between verifications: a checked node and registry (for a while)
    and anchored roots (for good: an anchor never changes). Revocation is never cached.
    """

    def __init__(self, *, node_ttl_seconds: float = 300.0, max_roots: int = 100_000) -> None:
        self._node_ttl = node_ttl_seconds
        self._max_roots = max_roots
        self._nodes: dict[tuple[str, int, str], float] = {}
        self._anchors: dict[tuple[int, str, bytes], tuple[AnchorRecord, bool | None]] = {}
        self._clients: dict[tuple[str, float], Web3] = {}
        self._lock = threading.Lock()

    def web3(self, rpc_url: str, timeout: float) -> Web3:
        """One client per node, kept: its connection and chain id are reused."""
        with self._lock:
            client = self._clients.get((rpc_url, timeout))
            if client is None:
                client = self._clients[(rpc_url, timeout)] = make_web3(
                    rpc_url, http_timeout=timeout
                )
            return client

    def node_checked(self, key: tuple[str, int, str]) -> bool:
        with self._lock:
            return self._nodes.get(key, 0.0) > time.monotonic()

    def remember_node(self, key: tuple[str, int, str]) -> None:
        with self._lock:
            self._nodes[key] = time.monotonic() + self._node_ttl

    def anchor(self, key: tuple[int, str, bytes]) -> tuple[AnchorRecord, bool | None] | None:
        with self._lock:
            return self._anchors.get(key)

    def remember_anchor(
        self, key: tuple[int, str, bytes], anchor: AnchorRecord, role: bool | None
    ) -> None:
        if role is None:
            return  # an undecided role check is asked again next time
        with self._lock:
            if len(self._anchors) >= self._max_roots:
                self._anchors.pop(next(iter(self._anchors)))
            self._anchors[key] = (anchor, role)


def read_chain(
    rpc_url: str,
    receipt: Receipt,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    cache: ChainCache | None = None,
) -> ChainReading | ChainFailure:
    """Ask the node at `rpc_url` about `receipt`: chain id, registry code, anchoring, revocation."""
    web3 = cache.web3(rpc_url, timeout) if cache else make_web3(rpc_url, http_timeout=timeout)
    node_key = (rpc_url, receipt.chain_id, receipt.contract.lower())
    if cache is None or not cache.node_checked(node_key):
        problem = _check_node(web3, receipt)
        if problem is not None:
            return problem
        if cache is not None:
            cache.remember_node(node_key)
    root_key = (receipt.chain_id, receipt.contract.lower(), bytes.fromhex(receipt.root[2:]))
    known = cache.anchor(root_key) if cache is not None else None
    try:
        registry = RegistryClient(web3=web3, address=receipt.contract)
        if known is not None:
            return _with_known_anchor(registry, receipt, *known)
        status = registry.check_certificate(receipt.leaf, receipt.proof)
    except RpcUnavailable as exc:
        return _failure("chain_unreachable", exc)
    except RegistryError as exc:
        return _failure("chain_error", exc)
    held = None if status.anchor is None else _issuer_role_at(web3, receipt, status)
    if cache is not None and status.anchor is not None and status.root == root_key[2]:
        cache.remember_anchor(root_key, status.anchor, held)
    return ChainReading(status=status, issuer_role_at_anchor=held)


def _with_known_anchor(
    registry: RegistryClient, receipt: Receipt, anchor: AnchorRecord, role: bool | None
) -> ChainReading:
    """A cached anchor of the receipt's root: only revocation is asked (one eth_call)."""
    leaf = bytes.fromhex(receipt.leaf[2:])
    root = process_proof(leaf, [bytes.fromhex(p[2:]) for p in receipt.proof])
    status = CertificateStatus(
        leaf=leaf, root=root, anchor=anchor, revocation=registry.revocation_of(leaf)
    )
    return ChainReading(status=status, issuer_role_at_anchor=role)


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
        return _failure("chain_unreachable", exc)
    except Exception as exc:  # any node may be asked: an odd answer means "could not decide"
        return _failure("chain_error", exc)
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
        return _failure("chain_unreachable", exc)
    except RpcUnavailable as exc:
        return _failure("chain_unreachable", exc)
    except RegistryError as exc:
        return _failure("chain_error", exc)
    return ChainReading(status=status, issuer_role_at_anchor=None)


PUBLIC_REASONS = {
    "chain_unreachable": "the chain node did not answer",
    "chain_error": "the chain node gave an answer that could not be used",
}


def _failure(code: str, error: BaseException) -> ChainFailure:
    """A failure with a fixed public reason; the error itself is logged without any URL."""
    _log.warning("chain read failed (%s): %s", code, _URL.sub("<rpc>", str(error)))
    return ChainFailure(code, PUBLIC_REASONS[code])
