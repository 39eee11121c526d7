"""RegistryClient against a real anvil: round trips, vectors through the contract, typed errors."""

from __future__ import annotations

import hashlib
import json
import os
import time
from datetime import UTC
from pathlib import Path

import pytest
from eth_account import Account

from contracts.client import RegistryClient, RevocationReason, Role, TxState
from contracts.errors import (
    InvalidInput,
    LeafAlreadyRevoked,
    NotAuthorized,
    NotDeployed,
    ProfileUnchanged,
    RootAlreadyAnchored,
    RpcUnavailable,
    WrongChain,
)
from contracts.merkle import MerkleTree
from tests.conftest import AnvilChain, free_port

pytestmark = pytest.mark.chain
VECTORS = json.loads((Path(__file__).parents[1] / "vectors" / "merkle.json").read_text())


def _b(hex0x: str) -> bytes:
    return bytes.fromhex(hex0x.removeprefix("0x"))


def test_anchor_round_trip_records_issuer_block_and_time(anvil_chain: AnvilChain) -> None:
    root = os.urandom(32)
    outcome = anvil_chain.client(anvil_chain.issuer).anchor(root)
    record = anvil_chain.client().anchor_of(root)
    assert record is not None
    assert record.issuer == anvil_chain.issuer.address
    assert record.block_number == outcome.block_number
    assert record.anchored_at == outcome.block_timestamp
    assert record.anchored_at.tzinfo is UTC
    assert outcome.gas_used > 0


def test_unknown_root_and_leaf_read_as_none(anvil_chain: AnvilChain) -> None:
    reader = anvil_chain.client()
    assert reader.anchor_of(os.urandom(32)) is None
    assert reader.revocation_of("0x" + os.urandom(32).hex()) is None


def test_revoke_and_batch_round_trip(anvil_chain: AnvilChain) -> None:
    revoker = anvil_chain.client(anvil_chain.revoker)
    single, a, b = os.urandom(32), os.urandom(32), os.urandom(32)
    revoker.revoke(single, RevocationReason.FRAUD)
    revoker.revoke_batch([(a, RevocationReason.HOLDER_REQUEST), (b, RevocationReason.SUPERSEDED)])
    reader = anvil_chain.client()
    record = reader.revocation_of(single)
    assert record is not None and record.reason is RevocationReason.FRAUD
    assert record.revoker == anvil_chain.revoker.address
    assert reader.revocation_of(b).reason is RevocationReason.SUPERSEDED  # type: ignore[union-attr]
    with pytest.raises(LeafAlreadyRevoked):
        revoker.revoke(a, RevocationReason.FRAUD)


def test_check_certificate_reports_anchor_and_revocation(anvil_chain: AnvilChain) -> None:
    leaves = [os.urandom(32) for _ in range(5)]
    tree = MerkleTree(leaves)
    anvil_chain.client(anvil_chain.issuer).anchor(tree.root)
    anvil_chain.client(anvil_chain.revoker).revoke(leaves[1], RevocationReason.ISSUER_ERROR)
    reader = anvil_chain.client()
    fine = reader.check_certificate(leaves[0], tree.proof(leaves[0]))
    assert fine.root == tree.root and fine.is_anchored and not fine.is_revoked
    revoked = reader.check_certificate(leaves[1], tree.proof(leaves[1]))
    assert revoked.is_anchored and revoked.revocation is not None
    assert revoked.revocation.reason is RevocationReason.ISSUER_ERROR
    assert revoked.revocation.revoker == anvil_chain.revoker.address


def test_every_vector_proof_checks_through_the_contract(anvil_chain: AnvilChain) -> None:
    issuer, reader = anvil_chain.client(anvil_chain.issuer), anvil_chain.client()
    for tree in VECTORS["trees"]:
        if reader.anchor_of(tree["root"]) is None:
            issuer.anchor(tree["root"])
        for entry in tree["proofs"]:
            status = reader.check_certificate(entry["leaf"], entry["proof"])
            assert status.root == _b(tree["root"]) and status.is_anchored
    for case in VECTORS["invalid"]:
        status = reader.check_certificate(case["leaf"], case["proof"])
        assert status.root != _b(case["root"]) and not status.is_anchored, case["name"]


def test_second_anchor_raises_root_already_anchored(anvil_chain: AnvilChain) -> None:
    issuer = anvil_chain.client(anvil_chain.issuer)
    root = os.urandom(32)
    issuer.anchor(root)
    with pytest.raises(RootAlreadyAnchored):
        issuer.anchor(root)


@pytest.mark.parametrize("who", ["outsider", "revoker", "admin"])
def test_anchor_without_issuer_role_is_refused_before_sending(
    anvil_chain: AnvilChain, who: str
) -> None:
    client = anvil_chain.client(getattr(anvil_chain, who))
    with pytest.raises(NotAuthorized) as caught:
        client.prepare_anchor(os.urandom(32))
    assert caught.value.role == "ISSUER_ROLE"


def test_revoke_without_revoker_role_and_read_only_client_are_refused(
    anvil_chain: AnvilChain,
) -> None:
    with pytest.raises(NotAuthorized):
        anvil_chain.client(anvil_chain.issuer).revoke(os.urandom(32), RevocationReason.FRAUD)
    with pytest.raises(NotAuthorized):
        anvil_chain.client().anchor(os.urandom(32))


def test_role_grant_and_revoke_round_trip(anvil_chain: AnvilChain) -> None:
    admin, newcomer = anvil_chain.client(anvil_chain.admin), Account.create()
    admin.grant_role(Role.REVOKER, newcomer.address)
    assert admin.has_role(Role.REVOKER, newcomer.address)
    admin.revoke_role(Role.REVOKER, newcomer.address)
    assert not admin.has_role(Role.REVOKER, newcomer.address)


@pytest.mark.parametrize(
    "root",
    [b"\x01" * 31, "0x" + "zz" * 32, "0x" + "01" * 31, bytes(32), 12345],
    ids=["31_bytes", "bad_hex", "short_hex", "zero_root", "not_bytes"],
)
def test_malformed_root_raises_invalid_input(anvil_chain: AnvilChain, root: object) -> None:
    with pytest.raises(InvalidInput):
        anvil_chain.client(anvil_chain.issuer).prepare_anchor(root)  # type: ignore[arg-type]


def test_malformed_proof_element_and_reason_raise_invalid_input(anvil_chain: AnvilChain) -> None:
    reader, revoker = anvil_chain.client(), anvil_chain.client(anvil_chain.revoker)
    with pytest.raises(InvalidInput, match=r"proof\[1\]"):
        reader.check_certificate(os.urandom(32), [os.urandom(32), os.urandom(33)])
    with pytest.raises(InvalidInput):
        revoker.prepare_revoke(os.urandom(32), RevocationReason.UNSPECIFIED)
    with pytest.raises(InvalidInput):
        revoker.prepare_revoke(os.urandom(32), 9)
    with pytest.raises(InvalidInput):
        revoker.prepare_revoke_batch([])


def test_prepare_then_send_twice_sends_one_transaction(anvil_chain: AnvilChain) -> None:
    issuer = anvil_chain.client(anvil_chain.issuer)
    web3 = issuer.web3
    nonce_before = web3.eth.get_transaction_count(anvil_chain.issuer.address)
    prepared = issuer.prepare_anchor(os.urandom(32))
    assert issuer.transaction_state(prepared.tx_hash) is TxState.UNKNOWN
    assert issuer.send(prepared) == prepared.tx_hash
    assert issuer.send(prepared) == prepared.tx_hash
    assert issuer.resend(prepared.raw) == prepared.tx_hash
    issuer.wait(prepared.tx_hash)
    assert issuer.transaction_state(prepared.tx_hash) is TxState.MINED
    assert web3.eth.get_transaction_count(anvil_chain.issuer.address) == nonce_before + 1


def test_unreachable_rpc_raises_rpc_unavailable_quickly(anvil_chain: AnvilChain) -> None:
    started = time.monotonic()
    with pytest.raises(RpcUnavailable):
        RegistryClient.connect(
            rpc_url=f"http://127.0.0.1:{free_port()}",
            address=anvil_chain.contract_address,
            chain_id=anvil_chain.chain_id,
            http_timeout=1.0,
        )
    assert time.monotonic() - started < 30  # a hang guard, not a speed test


def test_wrong_chain_id_and_missing_code_are_refused(anvil_chain: AnvilChain) -> None:
    with pytest.raises(WrongChain) as caught:
        RegistryClient.connect(
            rpc_url=anvil_chain.rpc_url, address=anvil_chain.contract_address, chain_id=1
        )
    assert caught.value.actual == anvil_chain.chain_id
    with pytest.raises(NotDeployed):
        RegistryClient.connect(
            rpc_url=anvil_chain.rpc_url, address=Account.create().address,
            chain_id=anvil_chain.chain_id,
        )  # fmt: skip


def test_a_mined_revert_is_decoded_into_its_typed_error(anvil_chain: AnvilChain) -> None:
    issuer, root = anvil_chain.client(anvil_chain.issuer), os.urandom(32)
    provider = issuer.web3.provider
    provider.make_request("evm_setAutomine", [False])  # type: ignore[arg-type]
    try:
        first = issuer.prepare_anchor(root)
        issuer.send(first)
        second = issuer.prepare_anchor(root)  # estimated against the latest block: passes
        assert second.nonce == first.nonce + 1
        issuer.send(second)
        provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    finally:
        provider.make_request("evm_setAutomine", [True])  # type: ignore[arg-type]
    issuer.wait(first.tx_hash)
    with pytest.raises(RootAlreadyAnchored) as caught:
        issuer.wait(second.tx_hash)
    assert caught.value.tx_hash == second.tx_hash


def test_profile_is_none_until_published_then_reads_its_hash_and_time(
    own_registry: RegistryClient,
) -> None:
    assert own_registry.current_profile() is None
    first = hashlib.sha256(b'{"profile": 1}\n').digest()
    outcome = own_registry.publish_profile(first)
    record = own_registry.current_profile()
    assert record is not None
    assert record.profile_sha256 == first
    assert record.published_at == outcome.block_timestamp
    second = "0x" + hashlib.sha256(b'{"profile": 2}\n').hexdigest()
    own_registry.publish_profile(second)
    assert own_registry.current_profile().profile_sha256.hex() == second[2:]  # type: ignore[union-attr]


def test_publishing_the_current_profile_again_raises_profile_unchanged(
    own_registry: RegistryClient,
) -> None:
    digest = os.urandom(32)
    own_registry.publish_profile(digest)
    admin = own_registry.account
    assert admin is not None
    nonce = own_registry.web3.eth.get_transaction_count(admin.address)
    with pytest.raises(ProfileUnchanged) as caught:
        own_registry.publish_profile(digest)  # refused by the gas estimate: nothing is sent
    assert caught.value.error_args == (digest,)
    assert own_registry.web3.eth.get_transaction_count(admin.address) == nonce


@pytest.mark.parametrize("who", ["issuer", "revoker", "outsider"])
def test_profile_publication_without_admin_role_is_refused_before_sending(
    anvil_chain: AnvilChain, who: str
) -> None:
    client = anvil_chain.client(getattr(anvil_chain, who))
    with pytest.raises(NotAuthorized) as caught:
        client.prepare_publish_profile(os.urandom(32))
    assert caught.value.role == "DEFAULT_ADMIN_ROLE"


@pytest.mark.parametrize("digest", [bytes(32), b"\x01" * 31, "0x" + "zz" * 32])
def test_malformed_profile_hash_raises_invalid_input(
    anvil_chain: AnvilChain, digest: bytes | str
) -> None:
    with pytest.raises(InvalidInput):
        anvil_chain.client(anvil_chain.admin).prepare_publish_profile(digest)
