"""Errors of the on-chain layer: one root, `RegistryError` (a `SceauError`), with a
plain-language message.

web3.py's own exceptions never leave `contracts/`: the client turns them into these.
"""

from __future__ import annotations

from sceau_errors import SceauError


class RegistryError(SceauError):
    """Something went wrong talking to, or preparing a call for, the certificate registry."""

    def __init__(self, message: str) -> None:
        super().__init__(message)


class RpcUnavailable(RegistryError):
    """The chain's JSON-RPC endpoint did not answer (down, unreachable, or too slow)."""


class WrongChain(RegistryError):
    """The node answers for another chain id than the one configured."""

    def __init__(self, message: str, *, expected: int, actual: int) -> None:
        super().__init__(message)
        self.expected = expected
        self.actual = actual


class NotDeployed(RegistryError):
    """No contract code exists at the configured registry address."""


class NotAuthorized(RegistryError):
    """The account lacks the role this action needs (issuer, revoker, suspender or admin)."""

    def __init__(self, message: str, *, account: str, role: str) -> None:
        super().__init__(message)
        self.account = account
        self.role = role


class TransactionReverted(RegistryError):
    """The registry rejected the transaction; `error_name` is the decoded custom error."""

    def __init__(
        self,
        message: str,
        *,
        error_name: str | None = None,
        tx_hash: str | None = None,
        error_args: tuple[object, ...] = (),
    ) -> None:
        super().__init__(message)
        self.error_name = error_name
        self.tx_hash = tx_hash
        self.error_args = error_args


class RootAlreadyAnchored(TransactionReverted):
    """This Merkle root is already anchored; a root is anchored once, forever."""


class LeafAlreadyRevoked(TransactionReverted):
    """This certificate leaf is already revoked; a revocation is final."""


class LeafAlreadySuspended(TransactionReverted):
    """This certificate leaf is already suspended; lift the suspension before suspending again."""


class LeafNotSuspended(TransactionReverted):
    """This certificate leaf is not suspended, so there is no suspension to lift."""


class StatusListUnchanged(TransactionReverted):
    """This status list hash is already the registry's current one: nothing to publish."""


class ProfileUnchanged(TransactionReverted):
    """This issuer profile hash is already the registry's current one: nothing to publish."""


class OutOfGas(RegistryError):
    """The transaction ran out of gas, or its gas could not be estimated within the block limit."""


class InsufficientFunds(RegistryError):
    """The sending account cannot pay for the transaction's gas."""


class InvalidInput(RegistryError):
    """A root, leaf, proof, address or reason is malformed (not 32 bytes, bad hex, ...)."""


class ConfirmationTimeout(RegistryError):
    """The transaction was not mined, or not confirmed enough, within the configured time."""

    def __init__(self, message: str, *, tx_hash: str) -> None:
        super().__init__(message)
        self.tx_hash = tx_hash


class KeystoreError(RegistryError):
    """A signing key could not be created or opened (missing file, wrong passphrase, ...)."""


class LocalChainError(RegistryError):
    """The local development node (anvil) could not be started, stopped or used."""


class TransactionDropped(RegistryError):
    """A prepared transaction can never be mined: its nonce was used by another transaction."""

    def __init__(self, message: str, *, tx_hash: str) -> None:
        super().__init__(message)
        self.tx_hash = tx_hash
