"""Client of the CertificateRegistry contract: deploy, anchor, revoke, suspend, publish, read.

Writes are crash-safe: `prepare_*` signs locally without sending, so the caller can persist the
transaction hash and raw bytes first; `send` is idempotent and `wait` follows the receipt up to
the configured confirmations (`contracts.transactions`). web3.py's exceptions never leave
`contracts/`: they become the typed errors of `contracts.errors` (`contracts.rpc`). The values
it answers live in `contracts.values` and are re-exported here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak
from web3 import Web3
from web3.contract import Contract
from web3.middleware import ExtraDataToPOAMiddleware

from contracts.abi import load_artifact
from contracts.arguments import (
    certificate_leaf,
    distinct_leaves,
    revocation_reason,
    suspension_reason,
)
from contracts.deployment import deploy_registry
from contracts.errors import InvalidInput, NotAuthorized, NotDeployed, WrongChain
from contracts.merkle import parse_hash32
from contracts.rpc import (
    checksum_address,
    hex0x,
    revert_to_error,
    translated,
    utc,
    with_retries,
)
from contracts.transactions import Transactor
from contracts.values import (
    AnchorRecord,
    CertificateStatus,
    Deployment,
    PreparedTransaction,
    ProfileRecord,
    RevocationReason,
    RevocationRecord,
    Role,
    StatusListRecord,
    SuspensionReason,
    SuspensionRecord,
    TxKind,
    TxOutcome,
    TxState,
)

__all__ = [
    "AnchorRecord",
    "CertificateStatus",
    "Deployment",
    "PreparedTransaction",
    "ProfileRecord",
    "RegistryClient",
    "RevocationReason",
    "RevocationRecord",
    "Role",
    "StatusListRecord",
    "SuspensionReason",
    "SuspensionRecord",
    "TxKind",
    "TxOutcome",
    "TxState",
    "deploy_registry",
    "make_web3",
    "revert_to_error",
]


def make_web3(rpc_url: str, *, http_timeout: float = 5.0) -> Web3:
    """A Web3 over HTTP with a short timeout and no hidden retries (we retry where safe)."""
    provider = Web3.HTTPProvider(
        rpc_url, request_kwargs={"timeout": http_timeout}, exception_retry_configuration=None
    )
    web3 = Web3(provider)
    # Consortium (PoA) chains put more than 32 bytes in extraData; harmless elsewhere.
    web3.middleware_onion.inject(ExtraDataToPOAMiddleware, layer=0)
    return web3


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
        self.address = checksum_address(address, "registry address")
        self.account = account
        self._contract: Contract = web3.eth.contract(
            address=self.address,
            abi=list(load_artifact().abi),
        )
        self._transactor = (
            Transactor(
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
        checked = checksum_address(address, "registry address")
        with translated(f"connect to {rpc_url}"):
            actual = int(with_retries("chain id", lambda: web3.eth.chain_id))
            if actual != chain_id:
                raise WrongChain(
                    f"the node at {rpc_url} serves chain {actual}, not the configured {chain_id}",
                    expected=chain_id,
                    actual=actual,
                )
            code = with_retries("code", lambda: web3.eth.get_code(checked))
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
        block = with_retries("read", lambda: self.web3.eth.get_block("latest"))
        return utc(int(block["timestamp"]))

    def anchor_of(self, root: bytes | str) -> AnchorRecord | None:
        """When and by whom `root` was anchored, or None."""
        key = parse_hash32(root, "root")
        at, block, issuer = self._read("anchorOf", key)
        return AnchorRecord(utc(at), int(block), str(issuer)) if at else None

    def revocation_of(self, leaf: bytes | str) -> RevocationRecord | None:
        """When, why and by whom `leaf` was revoked, or None."""
        key = parse_hash32(leaf, "leaf")
        at, reason, revoker = self._read("revocationOf", key)
        return RevocationRecord(utc(at), RevocationReason(reason), str(revoker)) if at else None

    def suspension_of(self, leaf: bytes | str) -> SuspensionRecord | None:
        """When, why and by whom `leaf` is suspended, or None (never, lifted, or revoked since)."""
        key = parse_hash32(leaf, "leaf")
        at, reason, suspender = self._read("suspensionOf", key)
        return SuspensionRecord(utc(at), SuspensionReason(reason), str(suspender)) if at else None

    def check_certificate(
        self, leaf: bytes | str, proof: Sequence[bytes | str]
    ) -> CertificateStatus:
        """In one call: the root `proof` leads to, that root's anchor, and `leaf`'s revocation
        and suspension, each with its account."""
        key = parse_hash32(leaf, "leaf")
        siblings = [parse_hash32(p, f"proof[{i}]") for i, p in enumerate(proof)]
        answer = self._read("checkCertificate", key, siblings)
        root, at, block, by, revoked_at, revoked_why, revoker = answer[:7]
        suspended_at, suspended_why, suspender = answer[7:]
        anchor = AnchorRecord(utc(at), int(block), str(by)) if at else None
        revocation = (
            RevocationRecord(utc(revoked_at), RevocationReason(revoked_why), str(revoker))
            if revoked_at
            else None
        )
        suspension = (
            SuspensionRecord(utc(suspended_at), SuspensionReason(suspended_why), str(suspender))
            if suspended_at
            else None
        )
        return CertificateStatus(
            leaf=key,
            root=bytes(root),
            anchor=anchor,
            revocation=revocation,
            suspension=suspension,
        )

    def current_status_list(self) -> StatusListRecord | None:
        """The status list hash the registry holds as current, or None if none was published."""
        list_hash, published_at = self._read("currentStatusList")
        if bytes(list_hash) == bytes(32):
            return None
        return StatusListRecord(list_hash=bytes(list_hash), published_at=utc(published_at))

    def current_profile(self) -> ProfileRecord | None:
        """The issuer profile hash the registry holds as current, or None if none was published."""
        profile_hash, published_at = self._read("currentProfile")
        if bytes(profile_hash) == bytes(32):
            return None
        return ProfileRecord(profile_sha256=bytes(profile_hash), published_at=utc(published_at))

    def has_role(self, role: Role, address: str) -> bool:
        """Whether `address` holds `role` on the registry."""
        return bool(self._read("hasRole", role.id, checksum_address(address)))

    def _read(self, function: str, *args: Any) -> Any:
        call = self._contract.functions[function](*args).call
        with translated(function):
            return with_retries(function, call)

    # --- crash-safe writes -----------------------------------------------------------------------

    def prepare_anchor(self, root: bytes | str) -> PreparedTransaction:
        """Sign (without sending) the anchoring of `root`; persist it, then `send` it."""
        key = parse_hash32(root, "root")
        if key == bytes(32):
            raise InvalidInput("the zero root cannot be anchored")
        return self._prepare(Role.ISSUER, "anchor", "anchorBatch", key)

    def prepare_revoke(
        self, leaf: bytes | str, reason: RevocationReason | int
    ) -> PreparedTransaction:
        """Sign (without sending) the revocation of one leaf."""
        return self._prepare(
            Role.REVOKER, "revoke", "revoke", certificate_leaf(leaf), int(revocation_reason(reason))
        )

    def prepare_revoke_batch(
        self, items: Sequence[tuple[bytes | str, RevocationReason | int]]
    ) -> PreparedTransaction:
        """Sign (without sending) the revocation of several leaves, each with its reason."""
        leaves = distinct_leaves([leaf for leaf, _ in items], "revocation")
        reasons = [int(revocation_reason(reason)) for _, reason in items]
        return self._prepare(Role.REVOKER, "revoke_batch", "revokeBatch", leaves, reasons)

    def prepare_suspend_batch(
        self, items: Sequence[tuple[bytes | str, SuspensionReason | int]]
    ) -> PreparedTransaction:
        """Sign (without sending) the suspension of several leaves, each with its reason."""
        leaves = distinct_leaves([leaf for leaf, _ in items], "suspension")
        reasons = [int(suspension_reason(reason)) for _, reason in items]
        return self._prepare(Role.SUSPENDER, "suspend_batch", "suspendBatch", leaves, reasons)

    def prepare_unsuspend_batch(self, leaves: Sequence[bytes | str]) -> PreparedTransaction:
        """Sign (without sending) the lifting of several leaves' suspensions."""
        keys = distinct_leaves(leaves, "unsuspension")
        return self._prepare(Role.SUSPENDER, "unsuspend_batch", "unsuspendBatch", keys)

    def prepare_publish_status_list(self, list_sha256: bytes | str) -> PreparedTransaction:
        """Sign (without sending) the publication of the status list token's SHA-256 (issuer)."""
        key = parse_hash32(list_sha256, "status list hash")
        if key == bytes(32):
            raise InvalidInput("the zero hash cannot be published as a status list")
        return self._prepare(Role.ISSUER, "publish_status_list", "publishStatusList", key)

    def prepare_publish_profile(self, profile_sha256: bytes | str) -> PreparedTransaction:
        """Sign (without sending) the publication of an issuer profile's SHA-256 (admin only)."""
        key = parse_hash32(profile_sha256, "profile hash")
        if key == bytes(32):
            raise InvalidInput("the zero hash cannot be published as a profile")
        return self._prepare(Role.ADMIN, "publish_profile", "publishProfile", key)

    def prepare_role_change(self, role: Role, address: str, *, grant: bool) -> PreparedTransaction:
        """Sign (without sending) a grant or revocation of `role` for `address` (admin only)."""
        target = checksum_address(address)
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
        tx_hash = hex0x(keccak(raw))
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

    def suspend_batch(
        self, items: Sequence[tuple[bytes | str, SuspensionReason | int]]
    ) -> TxOutcome:
        """Suspend several leaves in one transaction and wait for confirmation."""
        return self._submit(self.prepare_suspend_batch(items))

    def unsuspend_batch(self, leaves: Sequence[bytes | str]) -> TxOutcome:
        """Lift several leaves' suspensions in one transaction and wait for confirmation."""
        return self._submit(self.prepare_unsuspend_batch(leaves))

    def publish_status_list(self, list_sha256: bytes | str) -> TxOutcome:
        """Publish the status list's SHA-256 as current (issuer role) and wait for confirmation.

        Raises StatusListUnchanged when the registry already holds this hash.
        """
        return self._submit(self.prepare_publish_status_list(list_sha256))

    def publish_profile(self, profile_sha256: bytes | str) -> TxOutcome:
        """Publish an issuer profile's SHA-256 as current (admin only) and wait for confirmation.

        Raises ProfileUnchanged when the registry already holds this hash.
        """
        return self._submit(self.prepare_publish_profile(profile_sha256))

    def grant_role(self, role: Role, address: str) -> TxOutcome:
        """Grant `role` to `address` (needs the admin role) and wait for confirmation."""
        return self._submit(self.prepare_role_change(role, address, grant=True))

    def revoke_role(self, role: Role, address: str) -> TxOutcome:
        """Take `role` away from `address` (needs the admin role) and wait for confirmation."""
        return self._submit(self.prepare_role_change(role, address, grant=False))

    def _submit(self, prepared: PreparedTransaction) -> TxOutcome:
        return self.wait(self.send(prepared))

    def _signer(self) -> Transactor:
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
