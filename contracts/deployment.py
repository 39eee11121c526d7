"""Deploying the committed CertificateRegistry bytecode: one transaction, up to its receipt."""

from __future__ import annotations

from eth_account.signers.local import LocalAccount
from eth_typing import HexStr
from web3 import Web3

from contracts.abi import load_artifact
from contracts.rpc import checksum_address, translated
from contracts.transactions import Transactor
from contracts.values import Deployment


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
    data = factory.constructor(checksum_address(admin, "admin")).data_in_transaction
    transactor = Transactor(
        web3, account, confirmations=confirmations, timeout=timeout, poll_interval=poll_interval
    )
    prepared = transactor.prepare({"data": data}, "deploy")
    outcome = transactor.wait(transactor.send(prepared))
    with translated("deployment receipt"):
        receipt = web3.eth.get_transaction_receipt(HexStr(outcome.tx_hash))
        chain_id = int(web3.eth.chain_id)
    return Deployment(
        address=str(receipt["contractAddress"]),
        chain_id=chain_id,
        block_number=outcome.block_number,
        tx_hash=outcome.tx_hash,
    )
