"""Read-only questions to the chain, asked directly of a JSON-RPC node: nothing is sent or signed.

Every question goes to one registry: the issuer profile's (chain id and contract), never one a
receipt names, unless there is no profile at all (and then nothing can be VALID). Failures come
back as a `ChainFailure` with a stable code, not as exceptions: an unreachable node means
"could not decide", never "invalid".
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
from contracts.chain_facts import (
    PublishedProfileHash,
    TransactionMismatch,
    anchoring_transaction_mismatch,
    current_profile_hash,
)
from contracts.client import AnchorRecord, CertificateStatus, RegistryClient, Role, make_web3
from contracts.errors import RegistryError, RpcUnavailable
from contracts.merkle import process_proof
from contracts.receipt import Receipt

DEFAULT_TIMEOUT = 5.0
_log = logging.getLogger(__name__)
_URL = re.compile(r"(https?|wss?)://\S+|/v\d+/\S+|url: \S+")
_UNREACHABLE = (requests.exceptions.ConnectionError, requests.exceptions.Timeout, OSError)


@dataclass(frozen=True)
class Registry:
    """Which registry the questions go to; `from_receipt` when no profile named it."""

    chain_id: int
    contract: str
    from_receipt: bool = False

    @property
    def key(self) -> tuple[int, str]:
        return (self.chain_id, self.contract.lower())


@dataclass(frozen=True)
class ProfileOnChain:
    """What the registry says of the verifier's profile: the hash it publishes (None: none)."""

    published: PublishedProfileHash | None
    failure: ChainFailure | None = None


@dataclass(frozen=True)
class ChainReading:
    """What the registry says of one receipt, and whether its anchorer held the issuer role."""

    status: CertificateStatus
    issuer_role_at_anchor: bool | None  # None: not anchored, or the node keeps no such history
    transaction_mismatch: TransactionMismatch | None = None  # the receipt's `transaction`
    profile: ProfileOnChain | None = None  # None: not asked


@dataclass(frozen=True)
class ChainFailure:
    """Why the chain could not answer; `code` is a check code of verifier.messages."""

    code: str
    reason: str
    details: dict[str, JsonValue] = field(default_factory=dict)
    receipt_is_false: bool = False  # the node answered, and the receipt's registry is not there


@dataclass(frozen=True)
class _KnownAnchor:
    anchor: AnchorRecord
    role: bool
    transaction: str  # the transaction found to be the root's anchoring


class ChainCache:
    """What may be remembered between verifications: a checked node and registry and a current
    profile hash (for a while), anchored roots with their transaction (for good: an anchor never
    changes). Revocation is never cached.
    """

    def __init__(self, *, node_ttl_seconds: float = 300.0, max_roots: int = 100_000) -> None:
        self._node_ttl = node_ttl_seconds
        self._max_roots = max_roots
        self._nodes: dict[tuple[str, int, str], float] = {}
        self._profiles: dict[tuple[str, int, str], tuple[float, PublishedProfileHash]] = {}
        self._anchors: dict[tuple[int, str, bytes], _KnownAnchor] = {}
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

    def profile(self, key: tuple[str, int, str]) -> PublishedProfileHash | None:
        with self._lock:
            until, published = self._profiles.get(key, (0.0, None))
            return published if until > time.monotonic() else None

    def remember_profile(self, key: tuple[str, int, str], published: PublishedProfileHash) -> None:
        with self._lock:
            self._profiles[key] = (time.monotonic() + self._node_ttl, published)

    def anchor(self, key: tuple[int, str, bytes]) -> _KnownAnchor | None:
        with self._lock:
            return self._anchors.get(key)

    def remember_anchor(self, key: tuple[int, str, bytes], known: _KnownAnchor) -> None:
        with self._lock:
            if len(self._anchors) >= self._max_roots:
                self._anchors.pop(next(iter(self._anchors)))
            self._anchors[key] = known


def read_chain(
    rpc_url: str,
    receipt: Receipt,
    *,
    registry: Registry | None = None,
    profile_sha256: bytes | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    cache: ChainCache | None = None,
) -> ChainReading | ChainFailure:
    """Ask `registry` (the receipt's when None) about `receipt`: anchoring, the receipt's chain
    facts, revocation, and, given `profile_sha256`, whether that profile is the current one."""
    where = registry or Registry(receipt.chain_id, receipt.contract, from_receipt=True)
    web3 = cache.web3(rpc_url, timeout) if cache else make_web3(rpc_url, http_timeout=timeout)
    node_key = (rpc_url, *where.key)
    if cache is None or not cache.node_checked(node_key):
        problem = _check_node(web3, where)
        if problem is not None:
            return problem
        if cache is not None:
            cache.remember_node(node_key)
    try:
        reading = _read_certificate(web3, where, receipt, cache)
    except RpcUnavailable as exc:
        return _failure("chain_unreachable", exc)
    except RegistryError as exc:
        return _failure("chain_error", exc)
    if profile_sha256 is None:
        return reading
    profile = _read_profile(web3, where, node_key, profile_sha256, cache)
    return ChainReading(
        status=reading.status,
        issuer_role_at_anchor=reading.issuer_role_at_anchor,
        transaction_mismatch=reading.transaction_mismatch,
        profile=profile,
    )


def _read_certificate(
    web3: Web3, where: Registry, receipt: Receipt, cache: ChainCache | None
) -> ChainReading:
    """checkCertificate, then (once per root) the role at the anchoring block and the tx."""
    root_key = (*where.key, bytes.fromhex(receipt.root[2:]))
    registry = RegistryClient(web3=web3, address=where.contract)
    known = cache.anchor(root_key) if cache is not None else None
    if known is not None and known.transaction == receipt.transaction:
        return _with_known_anchor(registry, receipt, known)
    status = registry.check_certificate(receipt.leaf, receipt.proof)
    if status.anchor is None:
        return ChainReading(status=status, issuer_role_at_anchor=None)
    held = _issuer_role_at(web3, where, status.anchor)
    mismatch = anchoring_transaction_mismatch(
        web3,
        receipt.transaction,
        registry=where.contract,
        root=status.root,
        block_number=status.anchor.block_number,
    )
    if cache is not None and held is not None and mismatch is None:
        cache.remember_anchor(root_key, _KnownAnchor(status.anchor, held, receipt.transaction))
    return ChainReading(status=status, issuer_role_at_anchor=held, transaction_mismatch=mismatch)


def _with_known_anchor(
    registry: RegistryClient, receipt: Receipt, known: _KnownAnchor
) -> ChainReading:
    """A cached anchor of the receipt's root: only revocation is asked (one eth_call)."""
    leaf = bytes.fromhex(receipt.leaf[2:])
    root = process_proof(leaf, [bytes.fromhex(p[2:]) for p in receipt.proof])
    status = CertificateStatus(
        leaf=leaf, root=root, anchor=known.anchor, revocation=registry.revocation_of(leaf)
    )
    return ChainReading(status=status, issuer_role_at_anchor=known.role)


def _read_profile(
    web3: Web3,
    where: Registry,
    node_key: tuple[str, int, str],
    profile_sha256: bytes,
    cache: ChainCache | None,
) -> ProfileOnChain:
    """The registry's current profile hash; a remembered one only if it is this profile's."""
    remembered = cache.profile(node_key) if cache is not None else None
    if remembered is not None and remembered.sha256 == profile_sha256:
        return ProfileOnChain(remembered)
    try:
        published = current_profile_hash(web3, where.contract)
    except RpcUnavailable as exc:
        return ProfileOnChain(None, _failure("chain_unreachable", exc))
    except RegistryError as exc:
        return ProfileOnChain(None, _failure("chain_error", exc))
    if cache is not None and published is not None:
        cache.remember_profile(node_key, published)
    return ProfileOnChain(published)


def _check_node(web3: Web3, where: Registry) -> ChainFailure | None:
    """One quick call first, without retries, so a dead node fails fast."""
    try:
        actual = int(web3.eth.chain_id)
        if actual != where.chain_id:
            details: dict[str, JsonValue] = {
                "expected_chain_id": where.chain_id,
                "actual_chain_id": actual,
            }
            return ChainFailure("wrong_chain", "the node serves another chain", details)
        code = web3.eth.get_code(to_checksum_address(where.contract))
    except _UNREACHABLE as exc:
        return _failure("chain_unreachable", exc)
    except Exception as exc:  # any node may be asked: an odd answer means "could not decide"
        return _failure("chain_error", exc)
    if len(code) == 0:
        at: dict[str, JsonValue] = {"contract": where.contract, "chain_id": where.chain_id}
        return ChainFailure(
            "no_contract", "no code at that address", at, receipt_is_false=where.from_receipt
        )
    return None


def _issuer_role_at(web3: Web3, where: Registry, anchor: AnchorRecord) -> bool | None:
    """Whether the anchoring account held ISSUER_ROLE in the anchoring block (needs its state)."""
    contract: Any = web3.eth.contract(
        address=to_checksum_address(where.contract), abi=list(load_artifact().abi)
    )
    call = contract.functions.hasRole(Role.ISSUER.id, to_checksum_address(anchor.issuer))
    try:
        return bool(call.call(block_identifier=anchor.block_number))
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
