"""`sceau init` and `sceau chain start` never deploy into a node that is not their own."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

from tests.conftest import SceauEnv
from tests.sceau.helpers import run_sceau


@pytest.mark.parametrize("command", [("chain", "start"), ("init",)])
def test_refuses_a_port_where_another_node_answers(
    sceau_env: SceauEnv, command: tuple[str, ...]
) -> None:
    port = urlparse(sceau_env.chain.rpc_url).port  # the session's anvil: not this set-up's chain
    config = sceau_env.config_file
    config.write_text(config.read_text().replace("[chain]\n", f"[chain]\nlocal_port = {port}\n"))
    before = sceau_env.chain.client().web3.eth.block_number
    done = run_sceau(config, *command)
    assert done.returncode != 0
    said = " ".join((done.stdout + done.stderr).split())
    assert f"127.0.0.1:{port} is already taken by a JSON-RPC node" in said
    assert "Nothing was deployed" in said
    assert not (sceau_env.root / "chain" / "deployment.json").exists()
    assert sceau_env.chain.client().web3.eth.block_number == before  # no transaction sent
