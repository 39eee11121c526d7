"""The local anvil: start/stop/status, state that survives a restart, one-time deployment."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from eth_account import Account

from contracts.client import RegistryClient, Role
from contracts.errors import LocalChainError
from contracts.localchain import chain_status, ensure_deployed, find_anvil, start_chain, stop_chain
from tests.conftest import free_port

pytestmark = [pytest.mark.chain, pytest.mark.slow]


def test_anchor_and_deployment_survive_a_stop_and_start(tmp_path: Path) -> None:
    port, issuer = free_port(), Account.create()
    node = start_chain(tmp_path, port=port, state_interval=1)
    try:
        deployment = ensure_deployed(tmp_path, rpc_url=node.rpc_url, issuer_address=issuer.address)
        client = RegistryClient.connect(
            rpc_url=node.rpc_url,
            address=deployment.contract_address,
            chain_id=node.chain_id,
            account=issuer,
            poll_interval=0.05,
        )
        assert client.has_role(Role.ISSUER, issuer.address)
        assert client.has_role(Role.REVOKER, issuer.address)
        root = os.urandom(32)
        outcome = client.anchor(root)
        assert chain_status(tmp_path).running
    finally:
        assert stop_chain(tmp_path)
    assert not chain_status(tmp_path).running
    node = start_chain(tmp_path, port=port)
    try:
        again = ensure_deployed(tmp_path, rpc_url=node.rpc_url, issuer_address=issuer.address)
        assert again == deployment
        reader = RegistryClient.connect(
            rpc_url=node.rpc_url, address=again.contract_address, chain_id=node.chain_id
        )
        record = reader.anchor_of(root)
        assert record is not None and record.block_number == outcome.block_number
        status = chain_status(tmp_path)
        assert status.deployment is not None and status.block_number is not None
        assert start_chain(tmp_path, port=port).pid == node.pid  # already running: reused
    finally:
        stop_chain(tmp_path)


def test_stop_without_a_running_chain_returns_false(tmp_path: Path) -> None:
    assert stop_chain(tmp_path) is False


def test_find_anvil_explains_how_to_install_it(tmp_path: Path) -> None:
    assert find_anvil().is_file()
    with pytest.raises(LocalChainError, match="npm ci"):
        find_anvil(tmp_path / "nowhere")


def test_a_port_in_use_gives_a_clear_error(tmp_path: Path) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        with pytest.raises(LocalChainError, match="anvil"):
            start_chain(tmp_path, port=busy.getsockname()[1], startup_timeout=10)


def test_start_refuses_a_port_where_another_node_answers(tmp_path: Path) -> None:
    port = free_port()
    other = start_chain(tmp_path / "other", port=port)
    try:
        with pytest.raises(LocalChainError, match=r"already taken by a JSON-RPC node"):
            start_chain(tmp_path / "ours", port=port)
        assert not (tmp_path / "ours" / "anvil.pid").exists()
        assert not (tmp_path / "ours" / "deployment.json").exists()
    finally:
        stop_chain(tmp_path / "other")
    assert other.pid > 0
