"""Fixtures of the contracts tests: a registry of a test's own on the session chain."""

from __future__ import annotations

import pytest

from contracts.client import RegistryClient, deploy_registry
from tests.conftest import AnvilChain


@pytest.fixture
def own_registry(anvil_chain: AnvilChain) -> RegistryClient:
    """A registry of its own (admin: the chain's admin), so profile tests share no state."""
    admin = anvil_chain.client(anvil_chain.admin)
    deployment = deploy_registry(
        admin.web3, anvil_chain.admin, anvil_chain.admin.address, poll_interval=0.05
    )
    return RegistryClient.connect(
        rpc_url=anvil_chain.rpc_url,
        address=deployment.address,
        chain_id=anvil_chain.chain_id,
        account=anvil_chain.admin,
        poll_interval=0.05,
    )
