"""Signing, sending and following the transactions of one local account, crash-safely.

`prepare` signs without sending, so the caller persists the hash and raw bytes first; `send`
is idempotent (a known or mined copy counts as sent); `wait` follows the receipt up to the
configured confirmations and decodes a revert into its typed error.
"""

from __future__ import annotations

import threading
import time
from typing import Any, cast

from eth_account.signers.local import LocalAccount
from eth_typing import HexStr
from web3 import Web3
from web3.exceptions import ContractLogicError, TransactionNotFound, Web3Exception
from web3.types import TxParams

from contracts.errors import (
    ConfirmationTimeout,
    OutOfGas,
    RegistryError,
    TransactionDropped,
    TransactionReverted,
)
from contracts.rpc import (
    CONNECTION_ERRORS,
    hex0x,
    revert_error,
    rpc_message,
    send_error,
    translated,
    utc,
    with_retries,
)
from contracts.values import PreparedTransaction, TxKind, TxOutcome, TxState

_GAS_MARGIN_NUM, _GAS_MARGIN_DEN, _GAS_MARGIN_ADD = 6, 5, 10_000  # estimate * 1.2 + 10k


class Transactor:
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
        with self._lock, translated("prepare"):
            chain_id = with_retries("chain id", lambda: self.web3.eth.chain_id)
            tx = {**tx, "from": self.account.address, "chainId": chain_id}
            tx.update(self._fees())
            estimate = self.web3.eth.estimate_gas(cast(TxParams, tx))
            tx["gas"] = estimate * _GAS_MARGIN_NUM // _GAS_MARGIN_DEN + _GAS_MARGIN_ADD
            pending = with_retries(
                "nonce",
                lambda: self.web3.eth.get_transaction_count(self.account.address, "pending"),
            )
            tx["nonce"] = max(pending, self._next_nonce)
            signed = self.account.sign_transaction(tx)
            return PreparedTransaction(
                tx_hash=hex0x(bytes(signed.hash)),
                raw=bytes(signed.raw_transaction),
                nonce=int(tx["nonce"]),
                kind=kind,
            )

    def _fees(self) -> dict[str, int]:
        latest = with_retries("latest block", lambda: self.web3.eth.get_block("latest"))
        base_fee = latest.get("baseFeePerGas")
        if base_fee is None:
            return {"gasPrice": int(with_retries("gas price", lambda: self.web3.eth.gas_price))}
        tip = int(with_retries("priority fee", lambda: self.web3.eth.max_priority_fee))
        return {"maxFeePerGas": 2 * int(base_fee) + tip, "maxPriorityFeePerGas": tip}

    def send(self, prepared: PreparedTransaction) -> str:
        """Broadcast a prepared transaction; sending it again is harmless."""
        if self.state(prepared.tx_hash) is not TxState.UNKNOWN:
            return prepared.tx_hash
        try:
            with_retries("send", lambda: self.web3.eth.send_raw_transaction(prepared.raw))
        except (Web3Exception, ValueError) as exc:
            if self.state(prepared.tx_hash) is not TxState.UNKNOWN:
                return prepared.tx_hash  # "already known" / mined meanwhile: it is sent
            message = rpc_message(exc).lower()
            if "nonce too low" in message or "nonce is too low" in message:
                raise TransactionDropped(
                    f"the nonce of {prepared.tx_hash} was used by another transaction; "
                    "prepare this one again",
                    tx_hash=prepared.tx_hash,
                ) from None
            raise send_error(exc) from None
        with self._lock:
            self._next_nonce = max(self._next_nonce, prepared.nonce + 1)
        return prepared.tx_hash

    def state(self, tx_hash: str) -> TxState:
        """Whether the node has mined, holds pending, or does not know `tx_hash`."""
        with translated("transaction state"):
            try:
                with_retries(
                    "receipt", lambda: self.web3.eth.get_transaction_receipt(HexStr(tx_hash))
                )
                return TxState.MINED
            except TransactionNotFound:
                pass
            try:
                with_retries("transaction", lambda: self.web3.eth.get_transaction(HexStr(tx_hash)))
                return TxState.PENDING
            except TransactionNotFound:
                return TxState.UNKNOWN

    def wait(self, tx_hash: str) -> TxOutcome:
        """Wait for the receipt and the confirmations; raise the typed error of a revert."""
        deadline = time.monotonic() + self.timeout
        with translated("wait for receipt"):
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
            receipt = with_retries(
                "receipt", lambda: self.web3.eth.get_transaction_receipt(HexStr(tx_hash))
            )
        except TransactionNotFound:
            return None
        head = with_retries("block number", lambda: self.web3.eth.block_number)
        if head - receipt["blockNumber"] + 1 < self.confirmations:
            return None
        return receipt

    def _outcome(self, tx_hash: str, receipt: Any) -> TxOutcome:
        if receipt["status"] != 1:
            raise self._failure(tx_hash, receipt)
        block = with_retries("block", lambda: self.web3.eth.get_block(receipt["blockNumber"]))
        return TxOutcome(
            tx_hash=tx_hash,
            block_number=int(receipt["blockNumber"]),
            block_timestamp=utc(int(block["timestamp"])),
            gas_used=int(receipt["gasUsed"]),
        )

    def _failure(self, tx_hash: str, receipt: Any) -> RegistryError:
        """Explain a mined but failed transaction: out of gas, or replay it to decode the revert."""
        tx = with_retries("transaction", lambda: self.web3.eth.get_transaction(HexStr(tx_hash)))
        if int(receipt["gasUsed"]) >= int(tx["gas"]):
            return OutOfGas(f"transaction {tx_hash} ran out of gas ({tx['gas']} gas)")
        call = {"from": tx["from"], "to": tx.get("to"), "data": tx["input"], "gas": tx["gas"]}
        try:
            self.web3.eth.call(cast(TxParams, call), block_identifier=receipt["blockNumber"])
        except ContractLogicError as exc:
            return revert_error(exc, tx_hash=tx_hash)
        except (Web3Exception, ValueError, *CONNECTION_ERRORS):  # type: ignore[misc]
            pass
        return TransactionReverted(f"transaction {tx_hash} reverted", tx_hash=tx_hash)
