"""RegistryClient's suspension and status-list calls against a real anvil: round trips, the
prepare -> send -> wait path, typed errors, and refusals before anything is signed."""

from __future__ import annotations

import hashlib
import os

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from contracts.client import (
    RegistryClient,
    RevocationReason,
    Role,
    SuspensionReason,
    TxState,
)
from contracts.errors import (
    InvalidInput,
    LeafAlreadyRevoked,
    LeafAlreadySuspended,
    LeafNotSuspended,
    NotAuthorized,
    StatusListUnchanged,
)
from contracts.localchain import fund_account
from contracts.merkle import MerkleTree
from tests.conftest import AnvilChain

pytestmark = pytest.mark.chain


@pytest.fixture(scope="module")
def suspender_account(anvil_chain: AnvilChain) -> LocalAccount:
    """A funded account granted SUSPENDER_ROLE by the chain's admin."""
    account: LocalAccount = Account.create()
    fund_account(anvil_chain.rpc_url, account.address)
    anvil_chain.client(anvil_chain.admin).grant_role(Role.SUSPENDER, account.address)
    return account


@pytest.fixture
def suspender(anvil_chain: AnvilChain, suspender_account: LocalAccount) -> RegistryClient:
    return anvil_chain.client(suspender_account)


def test_suspend_batch_round_trip_records_time_reason_and_suspender(
    anvil_chain: AnvilChain, suspender: RegistryClient, suspender_account: LocalAccount
) -> None:
    a, b = os.urandom(32), os.urandom(32)
    outcome = suspender.suspend_batch([(a, SuspensionReason.APPEAL), (b, SuspensionReason.PAYMENT)])
    reader = anvil_chain.client()
    record = reader.suspension_of(a)
    assert record is not None
    assert record.reason is SuspensionReason.APPEAL
    assert record.suspended_at == outcome.block_timestamp
    assert record.suspended_by == suspender_account.address
    assert reader.suspension_of(b).reason is SuspensionReason.PAYMENT  # type: ignore[union-attr]
    assert reader.revocation_of(a) is None


def test_unsuspend_batch_lifts_the_suspension(
    anvil_chain: AnvilChain, suspender: RegistryClient
) -> None:
    a, b = os.urandom(32), os.urandom(32)
    suspender.suspend_batch([(a, SuspensionReason.INQUIRY), (b, SuspensionReason.INQUIRY)])
    suspender.unsuspend_batch([a])
    reader = anvil_chain.client()
    assert reader.suspension_of(a) is None
    assert reader.suspension_of(b) is not None


def test_check_certificate_reports_suspension_then_valid_then_revoked(
    anvil_chain: AnvilChain, suspender: RegistryClient, suspender_account: LocalAccount
) -> None:
    leaves = [os.urandom(32) for _ in range(3)]
    tree = MerkleTree(leaves)
    anvil_chain.client(anvil_chain.issuer).anchor(tree.root)
    leaf, proof = leaves[2], tree.proof(leaves[2])
    reader = anvil_chain.client()
    assert not reader.check_certificate(leaf, proof).is_suspended

    suspended_at = suspender.suspend_batch([(leaf, SuspensionReason.OTHER)]).block_timestamp
    status = reader.check_certificate(leaf, proof)
    assert status.is_anchored and status.is_suspended and not status.is_revoked
    assert status.suspension is not None
    assert status.suspension.reason is SuspensionReason.OTHER
    assert status.suspension.suspended_at == suspended_at
    assert status.suspension.suspended_by == suspender_account.address

    suspender.unsuspend_batch([leaf])
    assert not reader.check_certificate(leaf, proof).is_suspended

    suspender.suspend_batch([(leaf, SuspensionReason.APPEAL)])
    anvil_chain.client(anvil_chain.revoker).revoke(leaf, RevocationReason.FRAUD)
    revoked = reader.check_certificate(leaf, proof)
    assert revoked.is_revoked and not revoked.is_suspended
    assert revoked.revocation is not None
    assert revoked.revocation.reason is RevocationReason.FRAUD
    assert revoked.revocation.revoker == anvil_chain.revoker.address


def test_suspending_twice_raises_leaf_already_suspended(suspender: RegistryClient) -> None:
    leaf = os.urandom(32)
    suspender.suspend_batch([(leaf, SuspensionReason.APPEAL)])
    with pytest.raises(LeafAlreadySuspended) as caught:
        suspender.suspend_batch([(leaf, SuspensionReason.OTHER)])
    assert caught.value.error_args == (leaf,)
    assert caught.value.error_name == "RegistryLeafAlreadySuspended"


def test_a_revoked_leaf_cannot_be_suspended_or_unsuspended(
    anvil_chain: AnvilChain, suspender: RegistryClient
) -> None:
    leaf = os.urandom(32)
    anvil_chain.client(anvil_chain.revoker).revoke(leaf, RevocationReason.HOLDER_REQUEST)
    with pytest.raises(LeafAlreadyRevoked):
        suspender.suspend_batch([(leaf, SuspensionReason.APPEAL)])
    with pytest.raises(LeafAlreadyRevoked):
        suspender.unsuspend_batch([leaf])


def test_unsuspending_a_valid_leaf_raises_leaf_not_suspended(suspender: RegistryClient) -> None:
    leaf = os.urandom(32)
    with pytest.raises(LeafNotSuspended) as caught:
        suspender.unsuspend_batch([leaf])
    assert caught.value.error_args == (leaf,)


def test_prepared_suspension_is_sent_once_and_mined(suspender: RegistryClient) -> None:
    leaf = os.urandom(32)
    prepared = suspender.prepare_suspend_batch([(leaf, SuspensionReason.INQUIRY)])
    assert prepared.kind == "suspend_batch"
    assert suspender.transaction_state(prepared.tx_hash) is TxState.UNKNOWN
    assert suspender.suspension_of(leaf) is None  # prepared is not sent
    suspender.send(prepared)
    suspender.send(prepared)
    suspender.wait(prepared.tx_hash)
    assert suspender.suspension_of(leaf) is not None
    lift = suspender.prepare_unsuspend_batch([leaf])
    assert lift.kind == "unsuspend_batch"
    suspender.wait(suspender.resend(lift.raw))
    assert suspender.suspension_of(leaf) is None


@pytest.mark.parametrize("who", ["admin", "issuer", "outsider"])  # the session revoker suspends too
def test_suspension_without_suspender_role_is_refused_before_signing(
    anvil_chain: AnvilChain, who: str
) -> None:
    client = anvil_chain.client(getattr(anvil_chain, who))
    with pytest.raises(NotAuthorized) as caught:
        client.prepare_suspend_batch([(os.urandom(32), SuspensionReason.APPEAL)])
    assert caught.value.role == "SUSPENDER_ROLE"
    with pytest.raises(NotAuthorized):
        client.prepare_unsuspend_batch([os.urandom(32)])


@pytest.mark.parametrize(
    "items",
    [
        [],
        [(bytes(32), SuspensionReason.APPEAL)],
        [(b"\x01" * 32, SuspensionReason.UNSPECIFIED)],
        [(b"\x01" * 32, 9)],
        [(b"\x01" * 32, SuspensionReason.APPEAL), (b"\x01" * 32, SuspensionReason.OTHER)],
    ],
    ids=["empty", "zero_leaf", "unspecified", "unknown_reason", "duplicate"],
)
def test_malformed_suspension_batch_raises_invalid_input(
    suspender: RegistryClient, items: list[tuple[bytes, int]]
) -> None:
    with pytest.raises(InvalidInput):
        suspender.prepare_suspend_batch(items)


@pytest.mark.parametrize("leaves", [[], [bytes(32)], [b"\x02" * 32, b"\x02" * 32], ["0xzz"]])
def test_malformed_unsuspension_batch_raises_invalid_input(
    suspender: RegistryClient, leaves: list[bytes | str]
) -> None:
    with pytest.raises(InvalidInput):
        suspender.prepare_unsuspend_batch(leaves)


# --- the status list's hash ----------------------------------------------------------------------


def test_status_list_reads_none_until_published_then_its_hash_and_time(
    own_registry: RegistryClient, anvil_chain: AnvilChain
) -> None:
    own_registry.grant_role(Role.ISSUER, anvil_chain.issuer.address)
    issuer = RegistryClient.connect(
        rpc_url=anvil_chain.rpc_url,
        address=own_registry.address,
        chain_id=anvil_chain.chain_id,
        account=anvil_chain.issuer,
        poll_interval=0.05,
    )
    assert issuer.current_status_list() is None
    first = hashlib.sha256(b"status list token 1").digest()
    prepared = issuer.prepare_publish_status_list(first)
    assert prepared.kind == "publish_status_list"
    outcome = issuer.wait(issuer.send(prepared))
    record = issuer.current_status_list()
    assert record is not None
    assert record.list_hash == first
    assert record.published_at == outcome.block_timestamp
    second = "0x" + hashlib.sha256(b"status list token 2").hexdigest()
    issuer.publish_status_list(second)
    assert issuer.current_status_list().list_hash.hex() == second[2:]  # type: ignore[union-attr]
    with pytest.raises(StatusListUnchanged) as caught:
        issuer.publish_status_list(second)
    assert caught.value.error_args == (bytes.fromhex(second[2:]),)
    assert own_registry.current_profile() is None  # the list is not the profile


@pytest.mark.parametrize("who", ["admin", "revoker", "outsider"])
def test_status_list_publication_without_issuer_role_is_refused_before_signing(
    anvil_chain: AnvilChain, who: str
) -> None:
    client = anvil_chain.client(getattr(anvil_chain, who))
    with pytest.raises(NotAuthorized) as caught:
        client.prepare_publish_status_list(os.urandom(32))
    assert caught.value.role == "ISSUER_ROLE"


@pytest.mark.parametrize("digest", [bytes(32), b"\x01" * 31, "0x" + "zz" * 32])
def test_malformed_status_list_hash_raises_invalid_input(
    anvil_chain: AnvilChain, digest: bytes | str
) -> None:
    with pytest.raises(InvalidInput):
        anvil_chain.client(anvil_chain.issuer).prepare_publish_status_list(digest)
