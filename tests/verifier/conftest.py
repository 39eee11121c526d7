"""Real artifacts for verifier tests: signed PDFs anchored on the session anvil, named after
their defect. Tests may import issuer/; the verifier library may not."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak

from contracts.chain_facts import current_profile_hash
from contracts.client import RegistryClient, RevocationReason, Role, deploy_registry, make_web3
from contracts.localchain import fund_account
from contracts.merkle import MerkleTree, leaf_hash
from contracts.profile import AnchoringAddress, IssuerProfile, SigningCertificate
from contracts.receipt import Receipt, ReceiptIssuer
from issuer.content import CefrLevel, CertificateContent, IssuerBranding, SkillResult
from issuer.dev_pki import DevPki, create_dev_pki
from issuer.render import render_certificate
from issuer.signing import load_signer
from tests.conftest import AnvilChain
from verifier.chain import DEFAULT_TIMEOUT, ChainCache

ISSUER_NAME = "Institut Linguistique de Lyon"
BASE_URL = "https://certs.ill.example.org"
BRANDING = IssuerBranding(name=ISSUER_NAME, public_base_url=BASE_URL)
SINCE = datetime.now(UTC) - timedelta(days=1)  # the profile's periods start here


@dataclass(frozen=True)
class Issued:
    """A signed PDF and its receipt."""

    pdf: bytes
    receipt: Receipt


@pytest.fixture(scope="session")
def issuer_pki(tmp_path_factory: pytest.TempPathFactory) -> DevPki:
    """The genuine issuer's development PKI."""
    return create_dev_pki(
        tmp_path_factory.mktemp("verifier-pki"), issuer_name=ISSUER_NAME, passphrase=None
    )


@pytest.fixture(scope="session")
def rogue_pki(tmp_path_factory: pytest.TempPathFactory) -> DevPki:
    """Another body's PKI: its signatures must not pass for the issuer's."""
    return create_dev_pki(
        tmp_path_factory.mktemp("rogue-pki"),
        issuer_name="Officine de Faux Diplômes",
        passphrase=None,
    )


@pytest.fixture(scope="session")
def issuer_profile(issuer_pki: DevPki, anvil_chain: AnvilChain) -> IssuerProfile:
    """The issuer's published profile: its registry, anchoring account and signing certificate."""
    return IssuerProfile(
        name=ISSUER_NAME,
        public_base_url=BASE_URL,
        chain_id=anvil_chain.chain_id,
        contract=anvil_chain.contract_address,
        anchoring_addresses=(
            AnchoringAddress(address=anvil_chain.issuer.address, valid_from=SINCE),
        ),
        signing_certificates=(
            SigningCertificate(pem=issuer_pki.issuer_cert.read_text(), valid_from=SINCE),
        ),
        trust_roots=(issuer_pki.root_cert.read_text(),),
    )


def sign_certificate(pki: DevPki, certificate_id: str) -> bytes:
    """Render and PAdES-sign a realistic certificate with `pki`'s key."""
    content = CertificateContent(
        certificate_id=certificate_id,
        result_id=f"R-{certificate_id[:8]}",
        candidate_name="Łukasz Żółć",
        date_of_birth=date(1998, 3, 12),
        candidate_number="LYO-2026-00042",
        exam="Diplôme de compétence en langue (DCL) — Anglais",
        language="Anglais / English",
        level=CefrLevel.B2,
        score=Decimal("78.50"),
        score_max=Decimal("100"),
        skills=(SkillResult(skill="Production orale / Speaking", level=CefrLevel.B1),),
        session_date=date(2026, 10, 14),
        centre="Centre d'examen de Lyon Part-Dieu",
        issued_on=date(2026, 11, 20),
    )
    return load_signer(pki.identity).sign(render_certificate(content, branding=BRANDING))


def anchor_certificate(pdf: bytes, certificate_id: str, client: RegistryClient) -> Receipt:
    """Put the PDF's leaf in a small batch with random others, anchor it, return its receipt."""
    salt = secrets.token_bytes(32)
    digest = hashlib.sha256(pdf).digest()
    leaf = leaf_hash(bytes.fromhex(certificate_id), salt, digest)
    tree = MerkleTree([leaf, *(secrets.token_bytes(32) for _ in range(4))])
    outcome = client.anchor(tree.root)
    chain_id = int(client.web3.eth.chain_id)
    return Receipt(
        certificate_id=certificate_id,
        salt="0x" + salt.hex(),
        pdf_sha256=digest.hex(),
        leaf="0x" + leaf.hex(),
        proof=tuple("0x" + p.hex() for p in tree.proof(leaf)),
        root="0x" + tree.root.hex(),
        chain_id=chain_id,
        contract=client.address,
        transaction=outcome.tx_hash,
        block_number=outcome.block_number,
        anchored_at=outcome.block_timestamp,
        issuer=ReceiptIssuer(
            name=ISSUER_NAME, profile_url=BASE_URL + "/.well-known/sceau-issuer.json"
        ),
    )


def issue(pki: DevPki, client: RegistryClient) -> Issued:
    """Sign a fresh certificate with `pki` and anchor it with `client`."""
    certificate_id = secrets.token_hex(16)
    pdf = sign_certificate(pki, certificate_id)
    return Issued(pdf=pdf, receipt=anchor_certificate(pdf, certificate_id, client))


def funded_account(chain: AnvilChain) -> LocalAccount:
    """A new account with gas money and no role."""
    account: LocalAccount = Account.create()
    fund_account(chain.rpc_url, account.address)
    return account


@pytest.fixture(scope="session")
def valid_certificate(issuer_pki: DevPki, anvil_chain: AnvilChain) -> Issued:
    """Signed by the issuer's key, anchored by the issuer's published account."""
    return issue(issuer_pki, anvil_chain.client(anvil_chain.issuer))


@pytest.fixture(scope="session")
def pdf_one_byte_flipped(valid_certificate: Issued) -> Issued:
    """The valid certificate with one byte of its page content changed."""
    pdf = valid_certificate.pdf
    position = pdf.index(b"stream\n") + 20
    flipped = pdf[:position] + bytes([pdf[position] ^ 0x01]) + pdf[position + 1 :]
    return Issued(pdf=flipped, receipt=valid_certificate.receipt)


@pytest.fixture(scope="session")
def signed_by_rogue_pki(rogue_pki: DevPki, anvil_chain: AnvilChain) -> Issued:
    """Signed by another body's key, yet anchored by the issuer's own account."""
    return issue(rogue_pki, anvil_chain.client(anvil_chain.issuer))


@pytest.fixture(scope="session")
def anchored_by_unlisted_issuer(issuer_pki: DevPki, anvil_chain: AnvilChain) -> Issued:
    """Anchored by an account that holds ISSUER_ROLE but is not in the issuer's profile."""
    unlisted = funded_account(anvil_chain)
    anvil_chain.client(anvil_chain.admin).grant_role(Role.ISSUER, unlisted.address)
    return issue(issuer_pki, anvil_chain.client(unlisted))


@pytest.fixture(scope="session")
def anchored_on_rogue_registry(valid_certificate: Issued, anvil_chain: AnvilChain) -> Issued:
    """A genuine signed PDF anchored again on a registry an outsider deployed for itself."""
    outsider = anvil_chain.outsider
    deployment = deploy_registry(
        make_web3(anvil_chain.rpc_url), outsider, outsider.address, poll_interval=0.05
    )
    rogue = RegistryClient.connect(
        rpc_url=anvil_chain.rpc_url,
        address=deployment.address,
        chain_id=anvil_chain.chain_id,
        account=outsider,
        poll_interval=0.05,
    )
    rogue.grant_role(Role.ISSUER, outsider.address)
    certificate_id = valid_certificate.receipt.certificate_id
    receipt = anchor_certificate(valid_certificate.pdf, certificate_id, rogue)
    return Issued(pdf=valid_certificate.pdf, receipt=receipt)


@pytest.fixture(scope="session")
def leaf_revoked(issuer_pki: DevPki, anvil_chain: AnvilChain) -> Issued:
    """A genuine certificate whose leaf the revoker revoked for fraud."""
    issued = issue(issuer_pki, anvil_chain.client(anvil_chain.issuer))
    anvil_chain.client(anvil_chain.revoker).revoke(issued.receipt.leaf, RevocationReason.FRAUD)
    return issued


@pytest.fixture(scope="session")
def root_never_anchored(issuer_pki: DevPki, anvil_chain: AnvilChain) -> Issued:
    """A well-formed receipt whose root was never anchored."""
    certificate_id = secrets.token_hex(16)
    pdf = sign_certificate(issuer_pki, certificate_id)
    salt = secrets.token_bytes(32)
    digest = hashlib.sha256(pdf).digest()
    leaf = leaf_hash(bytes.fromhex(certificate_id), salt, digest)
    template = anvil_chain_receipt_template(anvil_chain)
    receipt = Receipt.model_validate(
        {
            **template,
            "certificate_id": certificate_id,
            "salt": "0x" + salt.hex(),
            "pdf_sha256": digest.hex(),
            "leaf": "0x" + leaf.hex(),
            "proof": (),
            "root": "0x" + leaf.hex(),
        }
    )
    return Issued(pdf=pdf, receipt=receipt)


def anvil_chain_receipt_template(chain: AnvilChain) -> dict[str, object]:
    """The receipt fields that do not depend on the certificate."""
    return {
        "chain_id": chain.chain_id,
        "contract": chain.contract_address,
        "transaction": "0x" + "ab" * 32,
        "block_number": 1,
        "anchored_at": datetime.now(UTC),
        "issuer": {"name": ISSUER_NAME, "profile_url": None},
    }


def with_chain_id(receipt: Receipt, chain_id: int) -> Receipt:
    """The same receipt claiming another chain id."""
    return Receipt.model_validate({**receipt.model_dump(), "chain_id": chain_id})


@pytest.fixture(scope="session")
def issuer_pki_root(issuer_pki: DevPki) -> bytes:
    """The issuer's root CA, PEM, as a `--trust-root` file holds it."""
    return issuer_pki.root_cert.read_bytes()


PUBLISH_PROFILE = keccak(text="publishProfile(bytes32)")[:4]


def publish_profile(
    rpc_url: str, admin: LocalAccount, registry: str, profile: IssuerProfile | bytes
) -> None:
    """The registry's admin publishes the SHA-256 of the profile's bytes (a raw transaction,
    so the test depends on the contract, not on a Python client of it)."""
    raw = profile.to_json() if isinstance(profile, IssuerProfile) else profile
    web3 = make_web3(rpc_url)
    current = current_profile_hash(web3, registry)
    if current is not None and current.sha256 == hashlib.sha256(raw).digest():
        return  # already current: the registry refuses to publish it again
    tx: Any = {
        "to": registry,
        "data": "0x" + PUBLISH_PROFILE.hex() + hashlib.sha256(raw).hexdigest(),
        "chainId": int(web3.eth.chain_id),
        "nonce": web3.eth.get_transaction_count(admin.address, "pending"),
        "gas": 200_000,
        "maxFeePerGas": 20 * 10**9,
        "maxPriorityFeePerGas": 10**9,
    }
    sent = web3.eth.send_raw_transaction(admin.sign_transaction(tx).raw_transaction)
    assert web3.eth.wait_for_transaction_receipt(sent, timeout=30)["status"] == 1


def publish(chain: AnvilChain, profile: IssuerProfile | bytes) -> None:
    """`publish_profile` on the session registry."""
    publish_profile(chain.rpc_url, chain.admin, chain.contract_address, profile)


def count_rpc_posts(cache: ChainCache, rpc_url: str, timeout: float = DEFAULT_TIMEOUT) -> list[str]:
    """The JSON-RPC method of every HTTP POST the cache's client of `rpc_url` sends from now."""
    session = cache.node(rpc_url, timeout).session
    sent: list[str] = []
    post = session.post

    def counting_post(url: str, **kwargs: Any) -> Any:
        sent.append(str(kwargs["json"]["method"]))
        return post(url, **kwargs)

    session.post = counting_post  # type: ignore[method-assign, assignment]
    return sent
