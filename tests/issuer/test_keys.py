"""The issuer's key history: periods opened and closed, the profile built from them, checks on a
new signing certificate, and how the verifier judges a retired key."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy.engine import Engine
from sqlmodel import Session

from contracts.client import RegistryClient, deploy_registry
from contracts.profile import AnchoringAddress, IssuerProfile, SigningCertificate
from contracts.receipt import Receipt
from issuer.dev_pki import _issuer_certificate, _root_certificate
from issuer.keys import (
    KeyRotationError,
    check_signing_certificate,
    close_key_period,
    issuer_profile,
    next_period_start,
    open_key_period,
    record_signing_rotation,
    register_keys_in_use,
    switch_key,
)
from issuer.profile_publication import ProfileFacts
from offchain_store.records import KeyKind, create_schema, ensure_issuer, make_engine
from tests.conftest import AnvilChain
from verifier.checks.identity import check_issuer_identity
from verifier.report import CheckStatus

ISSUER = "test-centre"
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
ADDRESS_A = "0x" + "aa" * 20
ADDRESS_B = "0x" + "bb" * 20


@dataclass(frozen=True)
class KeptRootCa:
    """A root whose key we keep, so a test can issue a second signing certificate under it."""

    root: x509.Certificate
    root_key: ec.EllipticCurvePrivateKey

    def leaf(self, *, now: datetime, name: str = "Centre de test") -> tuple[bytes, bytes]:
        """(key PEM, certificate PEM) of a new document-signing certificate under this root."""
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _issuer_certificate(key, self.root, self.root_key, issuer_name=name, now=now)
        key_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return key_pem, cert.public_bytes(serialization.Encoding.PEM)

    def root_pem(self) -> str:
        return self.root.public_bytes(serialization.Encoding.PEM).decode()


def make_test_ca(*, now: datetime, name: str = "Centre de test") -> KeptRootCa:
    key = ec.generate_private_key(ec.SECP256R1())
    return KeptRootCa(root=_root_certificate(key, issuer_name=name, now=now), root_key=key)


@pytest.fixture
def engine(database_url: str) -> Engine:
    """The records on SQLite, then on PostgreSQL."""
    engine = make_engine(database_url)
    create_schema(engine)
    with Session(engine) as session:
        ensure_issuer(session, ISSUER, "Centre de test")
    return engine


@pytest.fixture(scope="module")
def ca() -> KeptRootCa:
    return make_test_ca(now=datetime.now(UTC))


def _profile(engine: Engine, ca: KeptRootCa) -> IssuerProfile:
    return issuer_profile(
        engine,
        ISSUER,
        name="Centre de test",
        public_base_url="https://certs.example.test",
        chain_id=31337,
        contract="0x" + "cc" * 20,
        trust_root_pems=(ca.root_pem(),),
    )


def _register(engine: Engine, pem: str, address: str, at: datetime) -> None:
    register_keys_in_use(engine, ISSUER, signing_pem=pem, anchoring_address=address, now=at)


# --- periods -----------------------------------------------------------------------------------


def test_the_same_keys_registered_twice_keep_one_open_period(
    engine: Engine, ca: KeptRootCa
) -> None:
    cert = ca.leaf(now=T0)[1].decode()
    _register(engine, cert, ADDRESS_A, T0)
    _register(engine, cert + "\n", ADDRESS_A.upper().replace("0X", "0x"), T0 + timedelta(days=1))

    profile = _profile(engine, ca)

    assert [(c.valid_from, c.valid_until) for c in profile.signing_certificates] == [(T0, None)]
    assert [(a.valid_from, a.valid_until) for a in profile.anchoring_addresses] == [(T0, None)]


def test_switching_key_closes_the_old_period_where_the_new_one_opens(
    engine: Engine, ca: KeptRootCa
) -> None:
    old, new = ca.leaf(now=T0)[1].decode(), ca.leaf(now=T0)[1].decode()
    _register(engine, old, ADDRESS_A, T0)
    switch_at = T0 + timedelta(days=30)
    with Session(engine) as session:
        retired = switch_key(session, ISSUER, KeyKind.SIGNING, new, at=switch_at)
        again = switch_key(session, ISSUER, KeyKind.SIGNING, new, at=switch_at + timedelta(days=1))
        session.commit()

    profile = _profile(engine, ca)

    assert retired == (old.strip(),) and again is None
    assert [(c.pem.strip(), c.valid_from, c.valid_until) for c in profile.signing_certificates] == [
        (old.strip(), T0, switch_at),
        (new.strip(), switch_at, None),
    ]
    assert profile.signing_certificate_at(_der(old), switch_at - timedelta(seconds=1))
    assert not profile.signing_certificate_at(_der(old), switch_at)
    assert profile.signing_certificate_at(_der(new), switch_at)


def test_anchoring_periods_overlap_between_grant_and_revocation(
    engine: Engine, ca: KeptRootCa
) -> None:
    _register(engine, ca.leaf(now=T0)[1].decode(), ADDRESS_A, T0)
    granted, revoked = T0 + timedelta(days=10), T0 + timedelta(days=10, seconds=12)
    with Session(engine) as session:
        assert open_key_period(session, ISSUER, KeyKind.ANCHORING, ADDRESS_B, since=granted)
        assert not open_key_period(session, ISSUER, KeyKind.ANCHORING, ADDRESS_B, since=revoked)
        assert close_key_period(session, ISSUER, KeyKind.ANCHORING, ADDRESS_A, until=revoked)
        assert not close_key_period(session, ISSUER, KeyKind.ANCHORING, ADDRESS_A, until=revoked)
        session.commit()

    profile = _profile(engine, ca)

    assert [(a.address, a.valid_from, a.valid_until) for a in profile.anchoring_addresses] == [
        (ADDRESS_A, T0, revoked),
        (ADDRESS_B, granted, None),
    ]
    assert profile.anchoring_address_at(ADDRESS_A, granted)
    assert not profile.anchoring_address_at(ADDRESS_A, revoked)


def test_a_period_closed_where_it_opened_still_lasts_a_second(
    engine: Engine, ca: KeptRootCa
) -> None:
    _register(engine, ca.leaf(now=T0)[1].decode(), ADDRESS_A, T0)
    _register(engine, ca.leaf(now=T0)[1].decode(), ADDRESS_B, T0)  # same block time

    profile = _profile(engine, ca)  # would refuse valid_until <= valid_from

    assert profile.anchoring_addresses[0].valid_until == T0 + timedelta(seconds=1)


def test_the_profile_lists_periods_oldest_first(engine: Engine, ca: KeptRootCa) -> None:
    pems = [ca.leaf(now=T0)[1].decode() for _ in range(3)]
    for days, pem in zip((20, 0, 10), pems, strict=True):
        with Session(engine) as session:
            open_key_period(session, ISSUER, KeyKind.SIGNING, pem, since=T0 + timedelta(days=days))
            session.commit()
    with Session(engine) as session:
        open_key_period(session, ISSUER, KeyKind.ANCHORING, ADDRESS_A, since=T0)
        session.commit()

    starts = [c.valid_from for c in _profile(engine, ca).signing_certificates]

    assert starts == sorted(starts) and len(starts) == 3


def test_the_next_period_starts_after_the_latest_block() -> None:
    naive = datetime(2026, 3, 1, 9, 0)  # as SQLite gives it back

    assert next_period_start(naive) == T0 + timedelta(seconds=1)


# --- a new signing certificate -----------------------------------------------------------------


def test_a_certificate_under_the_trust_root_is_accepted(ca: KeptRootCa) -> None:
    cert = x509.load_pem_x509_certificate(ca.leaf(now=datetime.now(UTC))[1])

    check_signing_certificate(cert, [ca.root], trust_root_pem=ca.root_pem(), at=datetime.now(UTC))


def test_a_certificate_under_another_root_is_refused(ca: KeptRootCa) -> None:
    other = make_test_ca(now=datetime.now(UTC), name="Officine de Faux Diplômes")
    cert = x509.load_pem_x509_certificate(other.leaf(now=datetime.now(UTC))[1])

    with pytest.raises(KeyRotationError, match="does not chain to the configured trust root"):
        check_signing_certificate(
            cert, [other.root], trust_root_pem=ca.root_pem(), at=datetime.now(UTC)
        )


def test_an_expired_certificate_is_refused(ca: KeptRootCa) -> None:
    long_ago = datetime.now(UTC) - timedelta(days=4 * 365)
    old_ca = make_test_ca(now=long_ago)
    cert = x509.load_pem_x509_certificate(old_ca.leaf(now=long_ago)[1])

    with pytest.raises(KeyRotationError, match="not at chain time"):
        check_signing_certificate(
            cert, [old_ca.root], trust_root_pem=old_ca.root_pem(), at=datetime.now(UTC)
        )


# --- each rotation publishes the new profile's hash ----------------------------------------------


def _no_audit(*_: object) -> None:
    return None


@pytest.mark.chain
def test_a_signing_rotation_publishes_the_new_profile_and_a_rerun_sends_nothing(
    engine: Engine, ca: KeptRootCa, anvil_chain: AnvilChain
) -> None:
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
    facts = ProfileFacts(
        name="Centre de test",
        public_base_url="https://certs.example.test",
        chain_id=anvil_chain.chain_id,
        contract=deployment.address,
        trust_root_pems=(ca.root_pem(),),
    )
    _register(engine, ca.leaf(now=T0)[1].decode(), ADDRESS_A, T0)
    new = ca.leaf(now=T0)[1].decode()
    at = T0 + timedelta(days=30)

    def rotate() -> Any:
        return record_signing_rotation(
            engine,
            ISSUER,
            pem=new,
            at=at,
            audit=_no_audit,
            actor="test",
            admin=admin,
            profile=facts,
        )

    first, again = rotate(), rotate()

    document = issuer_profile(
        engine,
        ISSUER,
        name=facts.name,
        public_base_url=facts.public_base_url,
        chain_id=facts.chain_id,
        contract=facts.contract,
        trust_root_pems=facts.trust_root_pems,
    )
    assert len(document.signing_certificates) == 2
    on_chain = admin.current_profile()
    assert on_chain is not None
    assert on_chain.profile_sha256 == hashlib.sha256(document.to_json()).digest()
    assert first.retired is not None and first.profile.sent
    assert again.retired is None and not again.profile.sent
    assert again.profile.profile_sha256 == first.profile.profile_sha256


# --- how the verifier judges a retired key -----------------------------------------------------


def _retired_profile(ca: KeptRootCa, old: str, new: str, until: datetime) -> IssuerProfile:
    return IssuerProfile(
        name="Centre de test",
        public_base_url="https://certs.example.test",
        chain_id=31337,
        contract="0x" + "cc" * 20,
        anchoring_addresses=(
            AnchoringAddress(address=ADDRESS_A, valid_from=T0, valid_until=until),
            AnchoringAddress(address=ADDRESS_B, valid_from=until),
        ),
        signing_certificates=(
            SigningCertificate(pem=old, valid_from=T0, valid_until=until),
            SigningCertificate(pem=new, valid_from=until),
        ),
        trust_roots=(ca.root_pem(),),
    )


def _receipt(anchored_at: datetime) -> Receipt:
    from contracts.merkle import leaf_hash

    certificate_id, salt, digest = bytes(16), bytes(32), bytes(32)
    leaf = "0x" + leaf_hash(certificate_id, salt, digest).hex()
    return Receipt(
        certificate_id=certificate_id.hex(),
        salt="0x" + salt.hex(),
        pdf_sha256=digest.hex(),
        leaf=leaf,
        proof=(),
        root=leaf,
        chain_id=31337,
        contract="0x" + "cc" * 20,
        transaction="0x" + "11" * 32,
        block_number=1,
        anchored_at=anchored_at,
        issuer={"name": "Centre de test"},
    )


@pytest.mark.parametrize(
    ("signer", "anchorer", "days", "status", "code"),
    [
        ("old", ADDRESS_A, 5, CheckStatus.VALID, "issuer_matches"),
        ("new", ADDRESS_B, 15, CheckStatus.VALID, "issuer_matches"),
        ("old", ADDRESS_B, 15, CheckStatus.INVALID, "signing_certificate_retired"),
        ("new", ADDRESS_A, 15, CheckStatus.INVALID, "anchoring_address_retired"),
        ("new", ADDRESS_B, 5, CheckStatus.INVALID, "signing_certificate_not_published"),
        ("old", "0x" + "dd" * 20, 5, CheckStatus.INVALID, "anchoring_address_not_published"),
    ],
)
def test_a_retired_key_is_judged_by_the_anchoring_time(
    ca: KeptRootCa, signer: str, anchorer: str, days: int, status: CheckStatus, code: str
) -> None:
    old, new = ca.leaf(now=T0)[1].decode(), ca.leaf(now=T0)[1].decode()
    profile = _retired_profile(ca, old, new, until=T0 + timedelta(days=10))
    anchored_at = T0 + timedelta(days=days)

    result = check_issuer_identity(
        profile,
        _receipt(anchored_at),
        signer_der=_der(old if signer == "old" else new),
        anchored_by=anchorer,
        anchored_at=anchored_at,
    )

    assert (result.status, result.code) == (status, code)
    if code.endswith("_retired"):
        assert (T0 + timedelta(days=10)).isoformat() in result.message_en


def _der(pem: str) -> bytes:
    return x509.load_pem_x509_certificate(pem.encode()).public_bytes(serialization.Encoding.DER)
