"""The issuer profile's hash published in a real registry on anvil: what `sceau profile` writes is
what the chain holds, once per change, whatever step a crash interrupted."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from contracts.abi import load_artifact
from contracts.client import PreparedTransaction, ProfileRecord, RegistryClient, deploy_registry
from contracts.errors import NotAuthorized
from issuer.dev_pki import _issuer_certificate, _root_certificate
from issuer.keys import register_keys_in_use
from issuer.profile_publication import (
    AUDIT_ACTION,
    ProfileFacts,
    ProfilePublication,
    current_profile,
    publish_current_profile,
)
from offchain_store.audit import AuditEntryRecord
from offchain_store.audit import append as append_audit
from offchain_store.records import create_schema, ensure_issuer, make_engine
from tests.conftest import AnvilChain

pytestmark = pytest.mark.chain
ISSUER = "test-centre"
_CA_TIME = datetime.now(UTC)
ADDRESS_A = "0x" + "aa" * 20


@dataclass(frozen=True)
class SigningCa:
    """A root that signs as many signing certificates as a test needs."""

    root_key: ec.EllipticCurvePrivateKey
    root: Any  # x509.Certificate

    @classmethod
    def create(cls) -> SigningCa:
        key = ec.generate_private_key(ec.SECP256R1())
        return cls(key, _root_certificate(key, issuer_name="Centre de test", now=_CA_TIME))

    def root_pem(self) -> str:
        return str(self.root.public_bytes(serialization.Encoding.PEM).decode())

    def signing_pem(self) -> str:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _issuer_certificate(
            key, self.root, self.root_key, issuer_name="Centre de test", now=_CA_TIME
        )
        return cert.public_bytes(serialization.Encoding.PEM).decode()


class Crash(Exception):
    """An injected fault: the process dies at this point."""


@dataclass
class Setup:
    engine: Engine
    admin: RegistryClient
    facts: ProfileFacts
    ca: SigningCa

    def publish(self, admin: RegistryClient | None = None) -> ProfilePublication:
        return publish_current_profile(
            self.engine,
            ISSUER,
            admin=admin or self.admin,
            facts=self.facts,
            audit=_audit,
            actor="test",
        )

    def document(self) -> bytes:
        """The profile's bytes, as `sceau profile --out` writes them."""
        return current_profile(self.engine, ISSUER, self.facts).to_json()

    def new_signing_key(self, at: datetime) -> None:
        pem = self.ca.signing_pem()
        register_keys_in_use(
            self.engine, ISSUER, signing_pem=pem, anchoring_address=ADDRESS_A, now=at
        )

    def publications(self) -> list[bytes]:
        """Every ProfilePublished hash of the registry, oldest first."""
        contract = self.admin.web3.eth.contract(address=self.admin.address, abi=load_artifact().abi)
        logs = contract.events.ProfilePublished.get_logs(from_block=0)
        return [bytes(log["args"]["profileHash"]) for log in logs]

    def nonce(self) -> int:
        assert self.admin.account is not None
        return self.admin.web3.eth.get_transaction_count(self.admin.account.address)


def _audit(
    session: Session, actor: str, action: str, subject: str, details: dict[str, Any]
) -> None:
    append_audit(
        session, actor=actor, action=action, subject=subject, details=details, now=datetime.now(UTC)
    )


@pytest.fixture
def setup(database_url: str, anvil_chain: AnvilChain) -> Setup:
    """Records with one signing certificate and anchoring address, and a registry of its own
    (on SQLite, then on PostgreSQL)."""
    engine = make_engine(database_url)
    create_schema(engine)
    with Session(engine) as session:
        ensure_issuer(session, ISSUER, "Centre de test")
    deployment = deploy_registry(
        anvil_chain.client().web3, anvil_chain.admin, anvil_chain.admin.address, poll_interval=0.05
    )
    admin = RegistryClient.connect(
        rpc_url=anvil_chain.rpc_url,
        address=deployment.address,
        chain_id=anvil_chain.chain_id,
        account=anvil_chain.admin,
        poll_interval=0.05,
    )
    ca = SigningCa.create()
    facts = ProfileFacts(
        name="Centre de test",
        public_base_url="https://certs.example.test",
        chain_id=anvil_chain.chain_id,
        contract=deployment.address,
        trust_root_pems=(ca.root_pem(),),
    )
    chosen = Setup(engine=engine, admin=admin, facts=facts, ca=ca)
    chosen.new_signing_key(at=datetime(2026, 3, 1, 9, 0, tzinfo=UTC))
    return chosen


def _audited(engine: Engine) -> list[AuditEntryRecord]:
    with Session(engine) as session:
        query = select(AuditEntryRecord).where(AuditEntryRecord.action == AUDIT_ACTION)
        return list(session.exec(query).all())


def test_the_chain_holds_the_sha256_of_the_profile_document(setup: Setup) -> None:
    publication = setup.publish()

    digest = hashlib.sha256(setup.document()).digest()
    record = setup.admin.current_profile()
    assert record is not None and record.profile_sha256 == digest
    assert publication.sent and publication.profile_sha256 == digest
    assert publication.published_at == record.published_at
    assert setup.publications() == [digest]
    [entry] = _audited(setup.engine)
    assert entry.subject == digest.hex() and publication.tx_hash in entry.details


def test_a_second_call_sends_nothing(setup: Setup) -> None:
    first = setup.publish()
    nonce = setup.nonce()

    again = setup.publish()

    assert not again.sent and again.profile_sha256 == first.profile_sha256
    assert again.published_at == first.published_at
    assert setup.nonce() == nonce and len(_audited(setup.engine)) == 1


def test_each_change_of_the_key_history_publishes_the_new_hash(setup: Setup) -> None:
    first = setup.publish()
    setup.new_signing_key(at=datetime(2026, 4, 1, 9, 0, tzinfo=UTC))

    second = setup.publish()

    assert second.sent and second.profile_sha256 != first.profile_sha256
    assert second.profile_sha256 == hashlib.sha256(setup.document()).digest()
    assert setup.publications() == [first.profile_sha256, second.profile_sha256]


class FaultyAdmin(RegistryClient):
    """The real client, with a crash injected at one step of a publication."""

    def __init__(self, real: RegistryClient, *, crash_in: str) -> None:
        super().__init__(
            web3=real.web3, address=real.address, account=real.account, poll_interval=0.05
        )
        self.crash_in = crash_in

    def send(self, prepared: PreparedTransaction) -> str:
        if self.crash_in == "send":
            raise Crash("killed after prepare and record, before sending")
        return super().send(prepared)

    def wait(self, tx_hash: str) -> Any:
        if self.crash_in == "wait":
            raise Crash("killed after sending, before the confirmation")
        return super().wait(tx_hash)


@pytest.mark.parametrize("crash_in", ["send", "wait"])
def test_a_call_after_a_crash_ends_with_the_hash_published_once(
    setup: Setup, crash_in: str
) -> None:
    with pytest.raises(Crash):
        setup.publish(FaultyAdmin(setup.admin, crash_in=crash_in))

    finished = setup.publish()

    digest = hashlib.sha256(setup.document()).digest()
    assert setup.publications() == [digest]
    assert finished.sent is (crash_in == "send")  # sent before the crash: nothing more to send
    assert setup.admin.current_profile().profile_sha256 == digest  # type: ignore[union-attr]


class StaleAdmin(RegistryClient):
    """Reads the profile as it was before a concurrent run published it (an injected race)."""

    def __init__(self, real: RegistryClient) -> None:
        super().__init__(
            web3=real.web3, address=real.address, account=real.account, poll_interval=0.05
        )
        self.reads: list[ProfileRecord | None] = []

    def current_profile(self) -> ProfileRecord | None:
        fresh = super().current_profile()
        self.reads.append(fresh)
        return None if len(self.reads) == 1 else fresh


def test_a_concurrent_publication_of_the_same_hash_is_not_an_error(setup: Setup) -> None:
    first = setup.publish()
    nonce = setup.nonce()

    raced = setup.publish(StaleAdmin(setup.admin))

    assert not raced.sent and raced.profile_sha256 == first.profile_sha256
    assert setup.nonce() == nonce  # the registry refused it at the estimate: nothing was sent
    assert setup.publications() == [first.profile_sha256]


def test_only_the_registry_admin_publishes(setup: Setup, anvil_chain: AnvilChain) -> None:
    issuer = RegistryClient.connect(
        rpc_url=anvil_chain.rpc_url,
        address=setup.admin.address,
        chain_id=anvil_chain.chain_id,
        account=anvil_chain.issuer,
    )

    with pytest.raises(NotAuthorized):
        setup.publish(issuer)

    assert setup.admin.current_profile() is None and _audited(setup.engine) == []
