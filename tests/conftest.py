"""Session fixtures shared by every test package: a real anvil node with the registry deployed."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from contracts.client import RegistryClient, Role, deploy_registry, make_web3
from contracts.localchain import fund_account, start_chain, stop_chain


@dataclass(frozen=True)
class AnvilChain:
    """A running anvil with a deployed registry and funded accounts for each role."""

    rpc_url: str
    chain_id: int
    contract_address: str
    data_dir: Path
    admin: LocalAccount
    issuer: LocalAccount
    revoker: LocalAccount
    outsider: LocalAccount

    def client(self, account: LocalAccount | None = None) -> RegistryClient:
        """A registry client for `account` (read-only without one)."""
        return RegistryClient.connect(
            rpc_url=self.rpc_url,
            address=self.contract_address,
            chain_id=self.chain_id,
            account=account,
            poll_interval=0.05,
            confirmation_timeout=30.0,
        )


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def anvil_chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AnvilChain]:
    """Start anvil on a free port in a temp dir, deploy the registry, stop it at the end."""
    data_dir = tmp_path_factory.mktemp("anvil")
    node = start_chain(data_dir, port=free_port())
    try:
        yield _deploy_with_roles(node.rpc_url, node.chain_id, data_dir)
    finally:
        stop_chain(data_dir)


def _deploy_with_roles(rpc_url: str, chain_id: int, data_dir: Path) -> AnvilChain:
    admin, issuer, revoker, outsider = (Account.create() for _ in range(4))
    for account in (admin, issuer, revoker, outsider):
        fund_account(rpc_url, account.address)
    deployment = deploy_registry(make_web3(rpc_url), admin, admin.address, poll_interval=0.05)
    chain = AnvilChain(
        rpc_url=rpc_url,
        chain_id=chain_id,
        contract_address=deployment.address,
        data_dir=data_dir,
        admin=admin,
        issuer=issuer,
        revoker=revoker,
        outsider=outsider,
    )
    admin_client = chain.client(admin)
    admin_client.grant_role(Role.ISSUER, issuer.address)
    admin_client.grant_role(Role.REVOKER, revoker.address)
    return chain
