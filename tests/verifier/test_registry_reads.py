"""The verifier's raw reads of the registry against a real anvil: the one-call status of a leaf
(anchoring, revocation, suspension, each with its account, in one `eth_call`) and the status
list's hash."""

from __future__ import annotations

import hashlib
import os
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from contracts.client import (
    RegistryClient,
    RevocationReason,
    Role,
    SuspensionReason,
    deploy_registry,
)
from contracts.localchain import fund_account
from contracts.merkle import MerkleTree
from tests.conftest import AnvilChain
from verifier.registry_reads import RegistryReads
from verifier.rpc import ChainNode

pytestmark = pytest.mark.chain


class CountingNode(ChainNode):
    """A real node client that remembers the methods it was asked."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.asked: list[str] = []

    def request(self, method: str, params: list[Any]) -> Any:
        self.asked.append(method)
        return super().request(method, params)


@pytest.fixture(scope="module")
def suspender_account(anvil_chain: AnvilChain) -> LocalAccount:
    account: LocalAccount = Account.create()
    fund_account(anvil_chain.rpc_url, account.address)
    anvil_chain.client(anvil_chain.admin).grant_role(Role.SUSPENDER, account.address)
    return account


def test_one_call_answers_suspension_and_revocation_with_their_accounts(
    anvil_chain: AnvilChain, suspender_account: LocalAccount
) -> None:
    leaves = [os.urandom(32) for _ in range(4)]
    tree = MerkleTree(leaves)
    anvil_chain.client(anvil_chain.issuer).anchor(tree.root)
    suspended, revoked, valid = tree.leaves[0], tree.leaves[1], tree.leaves[2]
    anvil_chain.client(suspender_account).suspend_batch([(suspended, SuspensionReason.PAYMENT)])
    anvil_chain.client(anvil_chain.revoker).revoke(revoked, RevocationReason.SUPERSEDED)
    node = CountingNode(anvil_chain.rpc_url)
    reads = RegistryReads(node, anvil_chain.contract_address)

    status = reads.check_certificate(suspended, tree.proof(suspended))
    assert status.is_anchored and status.is_suspended and not status.is_revoked
    assert status.suspension is not None
    assert status.suspension.reason is SuspensionReason.PAYMENT
    assert status.suspension.suspended_by == suspender_account.address
    assert status.suspension == reads.suspension_of(suspended)

    status = reads.check_certificate(revoked, tree.proof(revoked))
    assert status.is_revoked and not status.is_suspended
    assert status.revocation == reads.revocation_of(revoked)
    assert status.revocation is not None
    assert status.revocation.revoker == anvil_chain.revoker.address

    status = reads.check_certificate(valid, tree.proof(valid))
    assert status.is_anchored and not status.is_revoked and not status.is_suspended
    assert reads.suspension_of(valid) is None
    # Three checks, two suspensionOf, one revocationOf: one eth_call each, nothing else.
    assert node.asked == ["eth_call"] * 6


def test_current_status_list_is_none_until_published_then_its_hash(
    anvil_chain: AnvilChain,
) -> None:
    admin = anvil_chain.client(anvil_chain.admin)
    own = deploy_registry(
        admin.web3, anvil_chain.admin, anvil_chain.admin.address, poll_interval=0.05
    )  # a registry of its own: no other test has published a list on it
    reads = RegistryReads(ChainNode(anvil_chain.rpc_url), own.address)
    assert reads.current_status_list() is None
    RegistryClient.connect(
        rpc_url=anvil_chain.rpc_url,
        address=own.address,
        chain_id=anvil_chain.chain_id,
        account=anvil_chain.admin,
        poll_interval=0.05,
    ).grant_role(Role.ISSUER, anvil_chain.issuer.address)
    issuer = RegistryClient.connect(
        rpc_url=anvil_chain.rpc_url,
        address=own.address,
        chain_id=anvil_chain.chain_id,
        account=anvil_chain.issuer,
        poll_interval=0.05,
    )
    digest = hashlib.sha256(b"a status list token").digest()
    outcome = issuer.publish_status_list(digest)
    record = reads.current_status_list()
    assert record is not None
    assert (record.list_hash, record.published_at) == (digest, outcome.block_timestamp)
