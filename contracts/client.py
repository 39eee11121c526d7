"""Client of the CertificateRegistry contract: deploy, anchor, revoke and read, over web3.py.

Writes are crash-safe: `prepare_*` signs locally without sending, so the caller can persist the
transaction hash and raw bytes first; `send` is idempotent and `wait` follows the receipt up to
the configured confirmations. web3.py's exceptions never leave this module: they become the
typed errors of `contracts.errors`.
"""

from __future__ import annotations

import enum
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar, cast

import requests
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress, HexStr
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import (
    ContractLogicError,
    TransactionNotFound,
    Web3Exception,
    Web3RPCError,
)
from web3.middleware import ExtraDataToPOAMiddleware
from web3.types import TxParams

from contracts.abi import decode_revert, load_artifact
from contracts.errors import (
    ConfirmationTimeout,
    InsufficientFunds,
    InvalidInput,
    LeafAlreadyRevoked,
    NotAuthorized,
    NotDeployed,
    OutOfGas,
    RegistryError,
    RootAlreadyAnchored,
    RpcUnavailable,
    TransactionDropped,
    TransactionReverted,
    WrongChain,
)
from contracts.merkle import parse_hash32

T = TypeVar("T")
TxKind = Literal["deploy", "anchor", "revoke", "revoke_batch", "grant_role", "revoke_role"]

_RETRY_DELAYS = (0.2, 0.5, 1.0)  # bounded backoff for safe retries (reads, same raw tx)
_GAS_MARGIN_NUM, _GAS_MARGIN_DEN, _GAS_MARGIN_ADD = 6, 5, 10_000  # estimate * 1.2 + 10k


class RevocationReason(enum.IntEnum):
    """Why a certificate was revoked; mirrors the Solidity enum (UNSPECIFIED is never valid)."""

    UNSPECIFIED = 0
    HOLDER_REQUEST = 1
    ISSUER_ERROR = 2
    FRAUD = 3
    SUPERSEDED = 4
    RETENTION_EXPIRED = 5


class Role(enum.Enum):
    """The registry's AccessControl roles; `.id` is the on-chain bytes32."""

    ADMIN = "DEFAULT_ADMIN_ROLE"
    ISSUER = "ISSUER_ROLE"
    REVOKER = "REVOKER_ROLE"

    @property
    def id(self) -> bytes:
        """The role's bytes32 id (zero for the admin role, keccak256 of the name otherwise)."""
        return bytes(32) if self is Role.ADMIN else keccak(text=self.value)


class TxState(enum.Enum):
    """What the node knows of a transaction hash."""

    UNKNOWN = "unknown"
    PENDING = "pending"
    MINED = "mined"


@dataclass(frozen=True)
class PreparedTransaction:
    """A signed, not yet sent transaction: persist `tx_hash` and `raw` before sending."""

    tx_hash: str
    raw: bytes
    nonce: int
    kind: TxKind


@dataclass(frozen=True)
class TxOutcome:
    """A mined, successful, confirmed transaction."""

    tx_hash: str
    block_number: int
    block_timestamp: datetime
    gas_used: int


@dataclass(frozen=True)
class AnchorRecord:
    """When (block time, UTC) and by whom a root was anchored."""

    anchored_at: datetime
    block_number: int
    issuer: str


@dataclass(frozen=True)
class RevocationRecord:
    """When, why and by whom a leaf was revoked."""

    revoked_at: datetime
    reason: RevocationReason
    revoker: str


@dataclass(frozen=True)
class CertificateStatus:
    """One `checkCertificate` answer: the root the proof leads to, its anchor, the revocation."""

    leaf: bytes
    root: bytes
    anchor: AnchorRecord | None
    revocation: RevocationRecord | None

    @property
    def is_anchored(self) -> bool:
        return self.anchor is not None

    @property
    def is_revoked(self) -> bool:
        return self.revocation is not None


@dataclass(frozen=True)
class Deployment:
    """Where a registry was deployed."""

    address: str
    chain_id: int
    block_number: int
    tx_hash: str


def make_web3(rpc_url: str, *, http_timeout: float = 5.0) -> Web3:
    """A Web3 over HTTP with a short timeout and no hidden retries (we retry where safe)."""
    provider = Web3.HTTPProvider(
        rpc_url, request_kwargs={"timeout": http_timeout}, exception_retry_configuration=None
    )
    web3 = Web3(provider)
    # Consortium (PoA) chains put more than 32 bytes in extraData; harmless elsewhere.
    web3.middleware_onion.inject(ExtraDataToPOAMiddleware, layer=0)
    return web3


# --- error translation --------------------------------------------------------------------------

_CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    ConnectionError,
    TimeoutError,
)


def _with_retries(what: str, call: Callable[[], T]) -> T:
    """Run a call that is safe to repeat, retrying connection failures with bounded backoff."""
    for delay in (*_RETRY_DELAYS, None):
        try:
            return call()
        except _CONNECTION_ERRORS as exc:
            if delay is None:
                raise RpcUnavailable(f"the chain node did not answer ({what}): {exc}") from None
            time.sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


def _rpc_message(exc: BaseException) -> str:
    if isinstance(exc, Web3RPCError) and isinstance(exc.rpc_response, dict):
        error = exc.rpc_response.get("error")
        if isinstance(error, dict):
            return str(error.get("message", exc))
    return str(exc)


def _revert_error(exc: ContractLogicError, *, tx_hash: str | None = None) -> RegistryError:
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
    if name == "RegistryRootAlreadyAnchored":
        return RootAlreadyAnchored(
            f"root 0x{bytes(args[0]).hex()} is already anchored",
            error_name=name,
            tx_hash=tx_hash,
            error_args=args,
        )
    if name == "RegistryLeafAlreadyRevoked":
        return LeafAlreadyRevoked(
            f"leaf 0x{bytes(args[0]).hex()} is already revoked",
            error_name=name,
            tx_hash=tx_hash,
            error_args=args,
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


def _send_error(exc: Web3Exception | ValueError) -> RegistryError:
    """Classify a node's refusal of a transaction or of its gas estimate."""
    message = _rpc_message(exc)
    lowered = message.lower()
    if "insufficient funds" in lowered:
        return InsufficientFunds(f"the account cannot pay for the gas: {message}")
    if "out of gas" in lowered or "gas required exceeds" in lowered or "intrinsic gas" in lowered:
        return OutOfGas(f"not enough gas for the transaction: {message}")
    return RegistryError(f"the node refused the transaction: {message}")


@contextmanager
def _translated(what: str) -> Iterator[None]:
    """Turn any web3 / transport failure in the block into a RegistryError."""
    try:
        yield
    except RegistryError:
        raise
    except ContractLogicError as exc:
        raise _revert_error(exc) from None
    except _CONNECTION_ERRORS as exc:
        raise RpcUnavailable(f"the chain node did not answer ({what}): {exc}") from None
    except (Web3Exception, ValueError) as exc:
        raise _send_error(exc) from None


def _hex(value: bytes) -> str:
    return "0x" + value.hex()


def _utc(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=UTC)


def _address(value: str, what: str = "address") -> ChecksumAddress:
    try:
        return to_checksum_address(value)
    except (ValueError, TypeError):
        raise InvalidInput(f"{what} is not a valid address: {value!r}") from None


def _reason(value: RevocationReason | int) -> RevocationReason:
    try:
        reason = RevocationReason(value)
    except ValueError:
        raise InvalidInput(f"unknown revocation reason {value!r}") from None
    if reason is RevocationReason.UNSPECIFIED:
        raise InvalidInput("a revocation needs a reason other than UNSPECIFIED")
    return reason


# --- transactions ---------------------------------------------------------------------------------


class _Transactor:
    """Signs, sends and follows transactions of one local account (nonces, fees, receipts)."""

    def __init__(
        self,
        web3: Web3,
        account: LocalAccount,
        *,
        confirmations: int,
        timeout: float,
        poll_interval: float,
    ) -> None:
        self.web3 = web3
        self.account = account
        self.confirmations = confirmations
        self.timeout = timeout
        self.poll_interval = poll_interval
        self._lock = threading.Lock()
        self._next_nonce = 0

    def prepare(self, tx: dict[str, Any], kind: TxKind) -> PreparedTransaction:
        """Fill nonce, fees and gas (estimated, with a margin), then sign without sending."""
        with self._lock, _translated("prepare"):
            chain_id = _with_retries("chain id", lambda: self.web3.eth.chain_id)
            tx = {**tx, "from": self.account.address, "chainId": chain_id}
            tx.update(self._fees())
            estimate = self.web3.eth.estimate_gas(cast(TxParams, tx))
            tx["gas"] = estimate * _GAS_MARGIN_NUM // _GAS_MARGIN_DEN + _GAS_MARGIN_ADD
            pending = _with_retries(
                "nonce",
                lambda: self.web3.eth.get_transaction_count(self.account.address, "pending"),
            )
            tx["nonce"] = max(pending, self._next_nonce)
            signed = self.account.sign_transaction(tx)
            return PreparedTransaction(
                tx_hash=_hex(bytes(signed.hash)),
                raw=bytes(signed.raw_transaction),
                nonce=int(tx["nonce"]),
                kind=kind,
            )

    def _fees(self) -> dict[str, int]:
        latest = _with_retries("latest block", lambda: self.web3.eth.get_block("latest"))
        base_fee = latest.get("baseFeePerGas")
        if base_fee is None:
            return {"gasPrice": int(_with_retries("gas price", lambda: self.web3.eth.gas_price))}
        tip = int(_with_retries("priority fee", lambda: self.web3.eth.max_priority_fee))
        return {"maxFeePerGas": 2 * int(base_fee) + tip, "maxPriorityFeePerGas": tip}

    def send(self, prepared: PreparedTransaction) -> str:
        """Broadcast a prepared transaction; sending it again is harmless."""
        if self.state(prepared.tx_hash) is not TxState.UNKNOWN:
            return prepared.tx_hash
        try:
            _with_retries("send", lambda: self.web3.eth.send_raw_transaction(prepared.raw))
        except (Web3Exception, ValueError) as exc:
            if self.state(prepared.tx_hash) is not TxState.UNKNOWN:
                return prepared.tx_hash  # "already known" / mined meanwhile: it is sent
            message = _rpc_message(exc).lower()
            if "nonce too low" in message or "nonce is too low" in message:
                raise TransactionDropped(
                    f"the nonce of {prepared.tx_hash} was used by another transaction; "
                    "prepare this one again",
                    tx_hash=prepared.tx_hash,
                ) from None
            raise _send_error(exc) from None
        with self._lock:
            self._next_nonce = max(self._next_nonce, prepared.nonce + 1)
        return prepared.tx_hash

    def state(self, tx_hash: str) -> TxState:
        """Whether the node has mined, holds pending, or does not know `tx_hash`."""
        with _translated("transaction state"):
            try:
                _with_retries(
                    "receipt", lambda: self.web3.eth.get_transaction_receipt(HexStr(tx_hash))
                )
                return TxState.MINED
            except TransactionNotFound:
                pass
            try:
                _with_retries("transaction", lambda: self.web3.eth.get_transaction(HexStr(tx_hash)))
                return TxState.PENDING
            except TransactionNotFound:
                return TxState.UNKNOWN

    def wait(self, tx_hash: str) -> TxOutcome:
        """Wait for the receipt and the confirmations; raise the typed error of a revert."""
        deadline = time.monotonic() + self.timeout
        with _translated("wait for receipt"):
            while True:
                receipt = self._confirmed_receipt(tx_hash)
                if receipt is not None:
                    return self._outcome(tx_hash, receipt)
                if time.monotonic() >= deadline:
                    raise ConfirmationTimeout(
                        f"transaction {tx_hash} not confirmed ({self.confirmations} blocks) "
                        f"within {self.timeout:g} s",
                        tx_hash=tx_hash,
                    )
                time.sleep(self.poll_interval)

    def _confirmed_receipt(self, tx_hash: str) -> Any:
        try:
            receipt = _with_retries(
                "receipt", lambda: self.web3.eth.get_transaction_receipt(HexStr(tx_hash))
            )
        except TransactionNotFound:
            return None
        head = _with_retries("block number", lambda: self.web3.eth.block_number)
        if head - receipt["blockNumber"] + 1 < self.confirmations:
            return None
        return receipt

    def _outcome(self, tx_hash: str, receipt: Any) -> TxOutcome:
        if receipt["status"] != 1:
            raise self._failure(tx_hash, receipt)
        block = _with_retries("block", lambda: self.web3.eth.get_block(receipt["blockNumber"]))
        return TxOutcome(
            tx_hash=tx_hash,
            block_number=int(receipt["blockNumber"]),
            block_timestamp=_utc(int(block["timestamp"])),
            gas_used=int(receipt["gasUsed"]),
        )

    def _failure(self, tx_hash: str, receipt: Any) -> RegistryError:
        """Explain a mined but failed transaction: out of gas, or replay it to decode the revert."""
        tx = _with_retries("transaction", lambda: self.web3.eth.get_transaction(HexStr(tx_hash)))
        if int(receipt["gasUsed"]) >= int(tx["gas"]):
            return OutOfGas(f"transaction {tx_hash} ran out of gas ({tx['gas']} gas)")
        call = {"from": tx["from"], "to": tx.get("to"), "data": tx["input"], "gas": tx["gas"]}
        try:
            self.web3.eth.call(cast(TxParams, call), block_identifier=receipt["blockNumber"])
        except ContractLogicError as exc:
            return _revert_error(exc, tx_hash=tx_hash)
        except (Web3Exception, ValueError, *_CONNECTION_ERRORS):  # type: ignore[misc]
            pass
        return TransactionReverted(f"transaction {tx_hash} reverted", tx_hash=tx_hash)


# --- the registry client -----------------------------------------------------------------------


class RegistryClient:
    """Reads the registry and, with an account, sends its transactions."""

    def __init__(
        self,
        *,
        web3: Web3,
        address: str,
        account: LocalAccount | None = None,
        confirmations: int = 1,
        confirmation_timeout: float = 120.0,
        poll_interval: float = 0.5,
    ) -> None:
        if confirmations < 1:
            raise InvalidInput("confirmations must be at least 1")
        self.web3 = web3
        self.address = _address(address, "registry address")
        self.account = account
        self._contract: Contract = web3.eth.contract(
            address=self.address,
            abi=list(load_artifact().abi),
        )
        self._transactor = (
            _Transactor(
                web3,
                account,
                confirmations=confirmations,
                timeout=confirmation_timeout,
                poll_interval=poll_interval,
            )
            if account is not None
            else None
        )

    @classmethod
    def connect(
        cls,
        *,
        rpc_url: str,
        address: str,
        chain_id: int,
        account: LocalAccount | None = None,
        confirmations: int = 1,
        http_timeout: float = 5.0,
        confirmation_timeout: float = 120.0,
        poll_interval: float = 0.5,
    ) -> RegistryClient:
        """Connect and check: the node answers, on `chain_id`, with registry code at `address`."""
        web3 = make_web3(rpc_url, http_timeout=http_timeout)
        checked = _address(address, "registry address")
        with _translated(f"connect to {rpc_url}"):
            actual = int(_with_retries("chain id", lambda: web3.eth.chain_id))
            if actual != chain_id:
                raise WrongChain(
                    f"the node at {rpc_url} serves chain {actual}, not the configured {chain_id}",
                    expected=chain_id,
                    actual=actual,
                )
            code = _with_retries("code", lambda: web3.eth.get_code(checked))
        if len(code) == 0:
            raise NotDeployed(f"no contract code at {checked} on chain {chain_id}")
        return cls(
            web3=web3,
            address=checked,
            account=account,
            confirmations=confirmations,
            confirmation_timeout=confirmation_timeout,
            poll_interval=poll_interval,
        )

    # --- reads -----------------------------------------------------------------------------------

    def latest_block_time(self) -> datetime:
        """The timestamp of the latest block: the chain's own clock."""
        block = _with_retries("read", lambda: self.web3.eth.get_block("latest"))
        return _utc(int(block["timestamp"]))

    def anchor_of(self, root: bytes | str) -> AnchorRecord | None:
        """When and by whom `root` was anchored, or None."""
        key = parse_hash32(root, "root")
        at, block, issuer = self._read("anchorOf", key)
        return AnchorRecord(_utc(at), int(block), str(issuer)) if at else None

    def revocation_of(self, leaf: bytes | str) -> RevocationRecord | None:
        """When, why and by whom `leaf` was revoked, or None."""
        key = parse_hash32(leaf, "leaf")
        at, reason, revoker = self._read("revocationOf", key)
        return RevocationRecord(_utc(at), RevocationReason(reason), str(revoker)) if at else None

    def check_certificate(
        self, leaf: bytes | str, proof: Sequence[bytes | str]
    ) -> CertificateStatus:
        """In one call: the root `proof` leads to, that root's anchor, and `leaf`'s revocation."""
        key = parse_hash32(leaf, "leaf")
        siblings = [parse_hash32(p, f"proof[{i}]") for i, p in enumerate(proof)]
        root, at, block, by, revoked_at, reason = self._read("checkCertificate", key, siblings)
        anchor = AnchorRecord(_utc(at), int(block), str(by)) if at else None
        revocation = (
            RevocationRecord(_utc(revoked_at), RevocationReason(reason), "") if revoked_at else None
        )
        if revocation is not None:
            revocation = self.revocation_of(key)  # the one-call view omits the revoker address
        return CertificateStatus(leaf=key, root=bytes(root), anchor=anchor, revocation=revocation)

    def has_role(self, role: Role, address: str) -> bool:
        """Whether `address` holds `role` on the registry."""
        return bool(self._read("hasRole", role.id, _address(address)))

    def _read(self, function: str, *args: Any) -> Any:
        call = self._contract.functions[function](*args).call
        with _translated(function):
            return _with_retries(function, call)

    # --- crash-safe writes -----------------------------------------------------------------------

    def prepare_anchor(self, root: bytes | str) -> PreparedTransaction:
        """Sign (without sending) the anchoring of `root`; persist it, then `send` it."""
        key = parse_hash32(root, "root")
        if key == bytes(32):
            raise InvalidInput("the zero root cannot be anchored")
        return self._prepare(Role.ISSUER, "anchor", "anchor", key)

    def prepare_revoke(
        self, leaf: bytes | str, reason: RevocationReason | int
    ) -> PreparedTransaction:
        """Sign (without sending) the revocation of one leaf."""
        return self._prepare(Role.REVOKER, "revoke", "revoke", _leaf(leaf), int(_reason(reason)))

    def prepare_revoke_batch(
        self, items: Sequence[tuple[bytes | str, RevocationReason | int]]
    ) -> PreparedTransaction:
        """Sign (without sending) the revocation of several leaves, each with its reason."""
        if not items:
            raise InvalidInput("a batch revocation needs at least one leaf")
        leaves = [_leaf(leaf) for leaf, _ in items]
        if len(set(leaves)) != len(leaves):
            raise InvalidInput("a batch revocation lists the same leaf twice")
        reasons = [int(_reason(reason)) for _, reason in items]
        return self._prepare(Role.REVOKER, "revoke_batch", "revokeBatch", leaves, reasons)

    def prepare_role_change(self, role: Role, address: str, *, grant: bool) -> PreparedTransaction:
        """Sign (without sending) a grant or revocation of `role` for `address` (admin only)."""
        target = _address(address)
        if grant:
            return self._prepare(Role.ADMIN, "grant_role", "grantRole", role.id, target)
        return self._prepare(Role.ADMIN, "revoke_role", "revokeRole", role.id, target)

    def send(self, prepared: PreparedTransaction) -> str:
        """Broadcast `prepared`; idempotent (an already known or mined copy counts as sent)."""
        return self._signer().send(prepared)

    def wait(self, tx_hash: str) -> TxOutcome:
        """Wait until `tx_hash` is mined and confirmed; raise its typed error if it failed."""
        return self._signer().wait(tx_hash)

    def resend(self, raw: bytes) -> str:
        """Broadcast again a signed transaction persisted earlier (its hash is keccak256(raw))."""
        tx_hash = _hex(keccak(raw))
        return self._signer().send(PreparedTransaction(tx_hash, bytes(raw), -1, "anchor"))

    def transaction_state(self, tx_hash: str) -> TxState:
        """UNKNOWN, PENDING or MINED, as the node sees `tx_hash`."""
        return self._signer().state(tx_hash)

    # --- convenience -----------------------------------------------------------------------------

    def anchor(self, root: bytes | str) -> TxOutcome:
        """Anchor `root` and wait for confirmation."""
        return self._submit(self.prepare_anchor(root))

    def revoke(self, leaf: bytes | str, reason: RevocationReason | int) -> TxOutcome:
        """Revoke one leaf and wait for confirmation."""
        return self._submit(self.prepare_revoke(leaf, reason))

    def revoke_batch(
        self, items: Sequence[tuple[bytes | str, RevocationReason | int]]
    ) -> TxOutcome:
        """Revoke several leaves in one transaction and wait for confirmation."""
        return self._submit(self.prepare_revoke_batch(items))

    def grant_role(self, role: Role, address: str) -> TxOutcome:
        """Grant `role` to `address` (needs the admin role) and wait for confirmation."""
        return self._submit(self.prepare_role_change(role, address, grant=True))

    def revoke_role(self, role: Role, address: str) -> TxOutcome:
        """Take `role` away from `address` (needs the admin role) and wait for confirmation."""
        return self._submit(self.prepare_role_change(role, address, grant=False))

    def _submit(self, prepared: PreparedTransaction) -> TxOutcome:
        return self.wait(self.send(prepared))

    def _signer(self) -> _Transactor:
        if self._transactor is None:
            raise NotAuthorized(
                "this registry client is read-only (no account)", account="", role="any"
            )
        return self._transactor

    def _prepare(self, role: Role, kind: TxKind, function: str, *args: Any) -> PreparedTransaction:
        signer = self._signer()
        if not self.has_role(role, signer.account.address):
            raise NotAuthorized(
                f"account {signer.account.address} does not hold the {role.value} role "
                "on the registry",
                account=signer.account.address,
                role=role.value,
            )
        tx = {"to": self.address, "data": self._contract.encode_abi(function, args=list(args))}
        return signer.prepare(tx, kind)


def _leaf(value: bytes | str) -> bytes:
    key = parse_hash32(value, "leaf")
    if key == bytes(32):
        raise InvalidInput("the zero leaf cannot be revoked")
    return key


def deploy_registry(
    web3: Web3,
    account: LocalAccount,
    admin: str,
    *,
    confirmations: int = 1,
    timeout: float = 120.0,
    poll_interval: float = 0.2,
) -> Deployment:
    """Deploy the committed CertificateRegistry bytecode with `admin` as its admin."""
    artifact = load_artifact()
    factory = web3.eth.contract(abi=list(artifact.abi), bytecode=artifact.bytecode)
    data = factory.constructor(_address(admin, "admin")).data_in_transaction
    transactor = _Transactor(
        web3, account, confirmations=confirmations, timeout=timeout, poll_interval=poll_interval
    )
    prepared = transactor.prepare({"data": data}, "deploy")
    outcome = transactor.wait(transactor.send(prepared))
    with _translated("deployment receipt"):
        receipt = web3.eth.get_transaction_receipt(HexStr(outcome.tx_hash))
        chain_id = int(web3.eth.chain_id)
    return Deployment(
        address=str(receipt["contractAddress"]),
        chain_id=chain_id,
        block_number=outcome.block_number,
        tx_hash=outcome.tx_hash,
    )
