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
from collections import OrderedDict
from dataclasses import dataclass, field

from pydantic import JsonValue

from contracts.chain_facts import (
    CURRENT_PROFILE_SELECTOR,
    PublishedProfileHash,
    TransactionMismatch,
    decode_current_profile,
    transaction_mismatch,
)
from contracts.errors import RegistryError, RpcUnavailable
from contracts.merkle import parse_hash32
from contracts.receipt import Receipt
from contracts.values import AnchorRecord, CertificateStatus, Role
from verifier.registry_reads import RegistryReads, checksum_address
from verifier.rpc import DEFAULT_TIMEOUT, ChainNode, RpcRefused
from verifier.validation_cache import ValidationCache

__all__ = ["DEFAULT_TIMEOUT", "ChainCache", "ChainFailure", "ChainReading", "Registry"]

_log = logging.getLogger(__name__)
_URL = re.compile(r"(https?|wss?)://\S+|/v\d+/\S+|url: \S+")


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
    """What may be remembered between verifications, once per process: one node client per RPC
    URL (kept-alive connections), a checked node and registry and a current profile hash (for
    a while), anchored roots with their transaction and signature validations (for good: an
    anchor and a signed PDF never change). Revocation is never cached.

    Receipts parsed from the records are kept too, briefly: a receipt holds its certificate's
    salt, which a revocation destroys, so none stays here longer than `receipt_ttl_seconds`.
    """

    def __init__(
        self,
        *,
        node_ttl_seconds: float = 300.0,
        max_roots: int = 100_000,
        validations: ValidationCache | None = None,
        receipt_ttl_seconds: float = 600.0,
        max_receipts: int = 4096,
    ) -> None:
        self._node_ttl = node_ttl_seconds
        self._max_roots = max_roots
        self._receipt_ttl = receipt_ttl_seconds
        self._max_receipts = max_receipts
        self._receipts: OrderedDict[str, tuple[float, Receipt]] = OrderedDict()
        self._nodes: dict[tuple[str, int, str], float] = {}
        self._profiles: dict[tuple[str, int, str], tuple[float, PublishedProfileHash]] = {}
        self._anchors: dict[tuple[int, str, bytes], _KnownAnchor] = {}
        self._clients: dict[tuple[str, float], ChainNode] = {}
        self._lock = threading.Lock()
        self.validations = validations if validations is not None else ValidationCache()

    def node(self, rpc_url: str, timeout: float) -> ChainNode:
        """One client per node, kept: its connections are reused."""
        with self._lock:
            client = self._clients.get((rpc_url, timeout))
            if client is None:
                client = self._clients[(rpc_url, timeout)] = ChainNode(rpc_url, timeout=timeout)
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

    def receipt(self, text: str) -> Receipt:
        """`Receipt.from_json(text)`, parsed once per `receipt_ttl_seconds` (each parse checks
        the leaf and the proof: Keccaks in pure Python); InvalidReceipt as it raises."""
        now = time.monotonic()
        with self._lock:
            kept = self._receipts.get(text)
            if kept is not None and kept[0] > now:
                return kept[1]
        receipt = Receipt.from_json(text)
        with self._lock:
            self._receipts[text] = (now + self._receipt_ttl, receipt)
            self._receipts.move_to_end(text)
            while len(self._receipts) > self._max_receipts or (
                self._receipts and next(iter(self._receipts.values()))[0] <= now
            ):
                self._receipts.popitem(last=False)
        return receipt

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
    node = cache.node(rpc_url, timeout) if cache else ChainNode(rpc_url, timeout=timeout)
    node_key = (rpc_url, *where.key)
    if cache is None or not cache.node_checked(node_key):
        problem = _check_node(node, where)
        if problem is not None:
            return problem
        if cache is not None:
            cache.remember_node(node_key)
    try:
        reading = _read_certificate(node, where, receipt, cache)
    except RpcUnavailable as exc:
        return _failure("chain_unreachable", exc)
    except RegistryError as exc:
        return _failure("chain_error", exc)
    if profile_sha256 is None:
        return reading
    profile = _read_profile(node, where, node_key, profile_sha256, cache)
    return ChainReading(
        status=reading.status,
        issuer_role_at_anchor=reading.issuer_role_at_anchor,
        transaction_mismatch=reading.transaction_mismatch,
        profile=profile,
    )


def _read_certificate(
    node: ChainNode, where: Registry, receipt: Receipt, cache: ChainCache | None
) -> ChainReading:
    """checkCertificate, then (once per root) the role at the anchoring block and the tx."""
    root_key = (*where.key, bytes.fromhex(receipt.root[2:]))
    registry = RegistryReads(node, where.contract)
    known = cache.anchor(root_key) if cache is not None else None
    if known is not None and known.transaction == receipt.transaction:
        return _with_known_anchor(registry, receipt, known)
    leaf = bytes.fromhex(receipt.leaf[2:])
    status = registry.check_certificate(leaf, [bytes.fromhex(p[2:]) for p in receipt.proof])
    if status.anchor is None:
        return ChainReading(status=status, issuer_role_at_anchor=None)
    held = _issuer_role_at(registry, status.anchor)
    mismatch = transaction_mismatch(
        node.transaction_receipt(receipt.transaction),
        registry=where.contract,
        root=status.root,
        block_number=status.anchor.block_number,
    )
    if cache is not None and held is not None and mismatch is None:
        cache.remember_anchor(root_key, _KnownAnchor(status.anchor, held, receipt.transaction))
    return ChainReading(status=status, issuer_role_at_anchor=held, transaction_mismatch=mismatch)


def _with_known_anchor(
    registry: RegistryReads, receipt: Receipt, known: _KnownAnchor
) -> ChainReading:
    """A cached anchor of the receipt's root: only the leaf's status is asked (one eth_call:
    checkCertificate with an empty proof answers the leaf's revocation and suspension). The
    root is the receipt's: a `Receipt` exists only if its proof leads from its leaf to it."""
    leaf = bytes.fromhex(receipt.leaf[2:])
    root = bytes.fromhex(receipt.root[2:])
    fresh = registry.check_certificate(leaf, [])
    status = CertificateStatus(
        leaf=leaf,
        root=root,
        anchor=known.anchor,
        revocation=fresh.revocation,
        suspension=fresh.suspension,
    )
    return ChainReading(status=status, issuer_role_at_anchor=known.role)


def _read_profile(
    node: ChainNode,
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
        address = checksum_address(where.contract)
        published = decode_current_profile(node.call(address, CURRENT_PROFILE_SELECTOR))
    except RpcUnavailable as exc:
        return ProfileOnChain(None, _failure("chain_unreachable", exc))
    except RpcRefused:
        # A registry older than currentProfile() reverts: nothing on chain vouches for the
        # profile (ERROR profile_not_anchored, docs/profile.md section 4), as with a zero hash.
        return ProfileOnChain(None)
    except RegistryError as exc:
        return ProfileOnChain(None, _failure("chain_error", exc))
    if cache is not None and published is not None:
        cache.remember_profile(node_key, published)
    return ProfileOnChain(published)


def _check_node(node: ChainNode, where: Registry) -> ChainFailure | None:
    """One quick call first, without retries, so a dead node fails fast."""
    try:
        actual = node.chain_id()
        if actual != where.chain_id:
            details: dict[str, JsonValue] = {
                "expected_chain_id": where.chain_id,
                "actual_chain_id": actual,
            }
            return ChainFailure("wrong_chain", "the node serves another chain", details)
        code = node.code(checksum_address(where.contract))
    except RpcUnavailable as exc:
        return _failure("chain_unreachable", exc)
    except (RegistryError, ValueError) as exc:  # any node may be asked: an odd answer
        return _failure("chain_error", exc)
    if len(code) == 0:
        at: dict[str, JsonValue] = {"contract": where.contract, "chain_id": where.chain_id}
        return ChainFailure(
            "no_contract", "no code at that address", at, receipt_is_false=where.from_receipt
        )
    return None


def _issuer_role_at(registry: RegistryReads, anchor: AnchorRecord) -> bool | None:
    """Whether the anchoring account held ISSUER_ROLE in the anchoring block (needs its state)."""
    try:
        return registry.has_role_at(Role.ISSUER, anchor.issuer, anchor.block_number)
    except RpcUnavailable:
        raise
    except RegistryError:  # a pruned node has no state for old blocks: the check cannot decide
        return None


def read_leaf(
    rpc_url: str,
    *,
    chain_id: int,
    contract: str,
    leaf: str,
    timeout: float = DEFAULT_TIMEOUT,
    cache: ChainCache | None = None,
) -> ChainReading | ChainFailure:
    """Revocation and suspension of a bare leaf (a tombstone has no proof left): anchoring is
    not asked."""
    node = cache.node(rpc_url, timeout) if cache else ChainNode(rpc_url, timeout=timeout)
    try:
        if node.chain_id() != chain_id:
            return ChainFailure("wrong_chain", "the node serves another chain")
        status = RegistryReads(node, contract).check_certificate(parse_hash32(leaf, "leaf"), [])
    except RpcUnavailable as exc:
        return _failure("chain_unreachable", exc)
    except (RegistryError, ValueError) as exc:
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
