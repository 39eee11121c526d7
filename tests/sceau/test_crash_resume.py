"""A killed `sceau issue` is finished by `sceau resume`: nothing lost, nothing twice."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from contracts.abi import load_artifact
from contracts.client import RegistryClient
from offchain_store.records import CertificateState
from tests.conftest import SceauEnv
from tests.sceau.helpers import certificates, read_outbox, run_module, run_sceau, subset_of_sample

ROWS = 6


def root_anchored_events(client: RegistryClient, from_block: int) -> list[str]:
    """Roots anchored since `from_block` (every RootAnchored event of the registry)."""
    contract = client.web3.eth.contract(address=client.address, abi=load_artifact().abi)
    logs = contract.events.RootAnchored.get_logs(from_block=from_block)
    return ["0x" + bytes(log["args"]["root"]).hex() for log in logs]


@pytest.mark.parametrize(
    "sceau_env,point,nth",
    [
        ("sqlite", "after_sign", 1),  # signed, not stored
        ("sqlite", "after_store", 4),  # some stored, some not
        ("sqlite", "after_prepare", 1),  # anchor tx signed and saved, not sent
        ("sqlite", "after_send", 1),  # anchor tx sent, not confirmed or recorded
        ("sqlite", "after_deliver", 2),  # some delivered
        # On PostgreSQL, the two points where the database holds half a batch (its rows, then
        # its anchor transaction) and resume must pick up exactly what is left.
        ("postgresql", "after_store", 4),
        ("postgresql", "after_send", 1),
    ],
    indirect=["sceau_env"],
)
def test_killed_issue_is_finished_by_resume(sceau_env: SceauEnv, point: str, nth: int) -> None:
    results = subset_of_sample(sceau_env.root / "results.csv", ROWS)
    client = sceau_env.chain.client()
    start_block = client.web3.eth.block_number + 1
    nonce = client.web3.eth.get_transaction_count(sceau_env.chain.issuer.address)

    killed = run_module(
        "tests.sceau.crash_runner", str(sceau_env.config_file), str(results), point, str(nth)
    )
    assert killed.returncode == 137, killed.stderr

    resumed = run_sceau(sceau_env.config_file, "resume")
    assert resumed.returncode == 0, resumed.stderr + resumed.stdout
    assert "1 unfinished batch(es) completed" in resumed.stdout

    records = certificates(sceau_env.settings.database_url)
    assert len(records) == ROWS
    assert {r.state for r in records} == {CertificateState.DELIVERED}
    assert max(Counter(r.result_id for r in records).values()) == 1

    delivered = read_outbox(sceau_env.settings.mail.outbox)
    assert sorted(d.receipt.certificate_id for d in delivered) == sorted(r.id for r in records)
    roots = {d.receipt.root for d in delivered}
    assert len(roots) == 1
    assert root_anchored_events(client, start_block) == list(roots)
    assert client.web3.eth.get_transaction_count(sceau_env.chain.issuer.address) == nonce + 1

    again = run_sceau(sceau_env.config_file, "issue", str(results))
    assert again.returncode == 0, again.stderr
    assert re.search(rf"skipped \(already issued\)\s+│\s+{ROWS}", again.stdout)
    assert len(certificates(sceau_env.settings.database_url)) == ROWS
