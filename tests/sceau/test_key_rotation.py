"""Both keys rotated on a real anvil: certificates issued before and after verify with the
published profile alone; a root anchored by the retired address after its retirement does not."""

from __future__ import annotations

import hashlib
import json
import secrets
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from sqlmodel import Session, select

from contracts.client import Role
from contracts.keystore import create_keystore, keystore_address
from contracts.localchain import fund_account
from contracts.merkle import leaf_hash
from contracts.receipt import Receipt
from offchain_store.audit import AuditEntryRecord
from offchain_store.records import make_engine
from tests.conftest import TEST_PASSPHRASE, AnvilChain, SceauEnv
from tests.issuer.test_keys import KeptRootCa, make_test_ca
from tests.sceau.helpers import SAMPLE, Delivered, read_outbox, run_sceau

ADMIN_PASSPHRASE = "admin-passphrase-not-secret"


def sceau(
    config: Path, *args: str, extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return run_sceau(config, *args, timeout=240, extra_env=extra_env)


@dataclass(frozen=True)
class RotationSetup:
    env: SceauEnv
    ca: KeptRootCa
    issuer: LocalAccount  # the anchoring account before the rotation
    pki: Path


@pytest.fixture
def rotation_setup(sceau_env: SceauEnv) -> Iterator[RotationSetup]:
    """sceau_env with its own anchoring account (the session one stays untouched), a CA whose
    key the test keeps, and the registry admin's keystore configured."""
    chain = sceau_env.chain
    issuer: LocalAccount = Account.create()
    fund_account(chain.rpc_url, issuer.address)
    chain.client(chain.admin).grant_role(Role.ISSUER, issuer.address)
    keystore = sceau_env.settings.chain.keystore
    keystore.unlink()
    create_keystore(keystore, TEST_PASSPHRASE, private_key=bytes(issuer.key), iterations=2)
    admin_keystore = sceau_env.root / "keys" / "admin-eth.json"
    create_keystore(
        admin_keystore, ADMIN_PASSPHRASE, private_key=bytes(chain.admin.key), iterations=2
    )

    ca = make_test_ca(now=datetime.now(UTC))
    pki = sceau_env.root / "pki"
    pki.mkdir()
    key_pem, cert_pem = ca.leaf(now=datetime.now(UTC))
    (pki / "root.pem").write_text(ca.root_pem())
    (pki / "issuer.pem").write_bytes(cert_pem)
    (pki / "issuer.key.pem").write_bytes(key_pem)
    (pki / "issuer.key.pem").chmod(0o600)
    signing = sceau_env.settings.signing
    config = sceau_env.config_file.read_text()
    assert signing.key is not None and signing.certificate is not None
    for old, new in (
        (signing.key, pki / "issuer.key.pem"),
        (signing.certificate, pki / "issuer.pem"),
        (signing.trust_root, pki / "root.pem"),
    ):
        config = config.replace(json.dumps(str(old)), json.dumps(str(new)))
    config = config.replace(
        "[chain]\n", f"[chain]\nadmin_keystore = {json.dumps(str(admin_keystore))}\n"
    )
    sceau_env.config_file.write_text(config)
    yield RotationSetup(env=sceau_env, ca=ca, issuer=issuer, pki=pki)


def rows_of_sample(path: Path, first: int, count: int) -> Path:
    lines = SAMPLE.read_text().splitlines(keepends=True)
    path.write_text("".join([lines[0], *lines[first : first + count]]))
    return path


def verify(
    env: SceauEnv, wallet: Path, name: str, pdf: bytes, receipt: Receipt
) -> dict[str, object]:
    """`sceau verify --json` with nothing but the PDF, the receipt, the profile and the chain."""
    (wallet / f"{name}.pdf").write_bytes(pdf)
    (wallet / f"{name}.json").write_bytes(receipt.to_json())
    done = sceau(
        env.config_file,
        "verify",
        str(wallet / f"{name}.pdf"),
        "--receipt",
        str(wallet / f"{name}.json"),
        "--profile",
        str(wallet / "issuer-profile.json"),
        "--rpc",
        env.chain.rpc_url,
        "--json",
    )
    assert done.stdout, done.stderr
    report: dict[str, object] = json.loads(done.stdout)
    return report


def checks(report: dict[str, object]) -> dict[str, tuple[str, str]]:
    found = report["checks"]
    assert isinstance(found, list)
    return {c["name"]: (c["status"], c["code"]) for c in found}


@pytest.mark.chain
def test_certificates_before_and_after_both_rotations_verify_and_a_retired_anchorer_does_not(
    rotation_setup: RotationSetup,
) -> None:
    setup, config = rotation_setup, rotation_setup.env.config_file
    settings, chain = setup.env.settings, setup.env.chain
    first = sceau(config, "issue", str(rows_of_sample(setup.env.root / "a.csv", 1, 2)))
    assert first.returncode == 0, first.stdout + first.stderr
    before = read_outbox(settings.mail.outbox)

    new_dir = setup.env.root / "new-signing"
    new_dir.mkdir()
    key_pem, cert_pem = setup.ca.leaf(now=datetime.now(UTC))
    (new_dir / "key.pem").write_bytes(key_pem)
    (new_dir / "cert.pem").write_bytes(cert_pem)
    admin_env = {"SCEAU_ADMIN_KEYSTORE_PASSPHRASE": ADMIN_PASSPHRASE}
    signing = sceau(
        config,
        "keys",
        "rotate-signing",
        "--key",
        str(new_dir / "key.pem"),
        "--certificate",
        str(new_dir / "cert.pem"),
        extra_env=admin_env,
    )
    assert signing.returncode == 0, signing.stdout + signing.stderr
    assert "published in the registry" in signing.stdout, signing.stdout
    assert (setup.pki / "issuer.pem").read_bytes() == cert_pem
    assert (setup.pki / "issuer.key.pem").stat().st_mode & 0o777 == 0o600
    assert len(list(setup.pki.glob("issuer.pem.retired-*"))) == 1
    assert len(list(setup.pki.glob("issuer.key.pem.retired-*"))) == 1

    anchoring = sceau(config, "keys", "rotate-anchoring", "--create", extra_env=admin_env)
    assert anchoring.returncode == 0, anchoring.stdout + anchoring.stderr
    new_address = keystore_address(settings.chain.keystore)
    reader = chain.client()
    assert new_address != setup.issuer.address
    assert reader.has_role(Role.ISSUER, new_address)
    assert not reader.has_role(Role.ISSUER, setup.issuer.address)
    again = sceau(config, "keys", "rotate-anchoring", extra_env=admin_env)
    assert again.returncode == 2 and "--create" in again.stderr, again.stderr  # nothing pending

    second = sceau(config, "issue", str(rows_of_sample(setup.env.root / "b.csv", 3, 2)))
    assert second.returncode == 0, second.stdout + second.stderr
    after = [m for m in read_outbox(settings.mail.outbox) if m.path not in {b.path for b in before}]
    assert after and {m.receipt.root for m in after}.isdisjoint({m.receipt.root for m in before})
    wallet = setup.env.root / "wallet"
    profile = sceau(config, "profile", "--out", str(wallet / "issuer-profile.json"))
    assert profile.returncode == 0, profile.stderr
    published = json.loads((wallet / "issuer-profile.json").read_text())
    on_chain = chain.client().current_profile()  # what the last rotation published
    document = (wallet / "issuer-profile.json").read_bytes()
    assert on_chain is not None and on_chain.profile_sha256 == hashlib.sha256(document).digest()
    assert len(published["signing_certificates"]) == 2
    assert [a["valid_until"] is None for a in published["anchoring_addresses"]] == [False, True]

    for name, message in (("before", before[0]), ("after", after[0])):
        report = verify(setup.env, wallet, name, message.pdf, message.receipt)
        assert report["verdict"] == "VALID", (name, checks(report))

    retired = anchor_with_retired_address(setup.env.chain, setup.issuer, after[0])
    report = verify(setup.env, wallet, "retired", after[0].pdf, retired)
    assert report["verdict"] == "INVALID"
    assert checks(report)["issuer_identity"] == ("invalid", "anchoring_address_retired")
    assert checks(report)["anchoring"][0] == "valid"  # the chain alone cannot tell

    assert _audited_actions(settings.database_url) >= {
        "keys.signing_rotated",
        "keys.anchoring_rotated",
        "profile.publishing",
    }


def anchor_with_retired_address(
    chain: AnvilChain, retired: LocalAccount, delivered: Delivered
) -> Receipt:
    """The case the profile must catch: the retired address regains ISSUER_ROLE (a mistake, or a
    stolen admin key) without any period recorded, and anchors a fresh root."""
    admin = chain.client(chain.admin)
    admin.grant_role(Role.ISSUER, retired.address)
    try:
        receipt = delivered.receipt
        salt = secrets.token_bytes(32)
        leaf = leaf_hash(
            bytes.fromhex(receipt.certificate_id), salt, bytes.fromhex(receipt.pdf_sha256)
        )
        outcome = chain.client(retired).anchor(leaf)
    finally:
        admin.revoke_role(Role.ISSUER, retired.address)
    return Receipt.model_validate(
        receipt.model_dump()
        | {
            "salt": "0x" + salt.hex(),
            "leaf": "0x" + leaf.hex(),
            "proof": (),
            "root": "0x" + leaf.hex(),
            "transaction": outcome.tx_hash,
            "block_number": outcome.block_number,
            "anchored_at": outcome.block_timestamp,
        }
    )


def _audited_actions(database_url: str) -> set[str]:
    engine = make_engine(database_url)
    with Session(engine) as session:
        actions = set(session.exec(select(AuditEntryRecord.action)).all())
    engine.dispose()
    return actions


@pytest.mark.chain
def test_a_rotation_cut_short_is_finished_by_running_again_and_a_foreign_certificate_is_refused(
    rotation_setup: RotationSetup,
) -> None:
    setup, config = rotation_setup, rotation_setup.env.config_file
    settings, chain = setup.env.settings, setup.env.chain
    first = sceau(config, "issue", str(rows_of_sample(setup.env.root / "a.csv", 1, 1)))
    assert first.returncode == 0, first.stdout + first.stderr
    # A run that died right after granting the role to the staged account.
    staged = settings.chain.keystore.with_name(settings.chain.keystore.name + ".next")
    new_address = create_keystore(staged, TEST_PASSPHRASE, iterations=2)
    fund_account(chain.rpc_url, new_address)
    chain.client(chain.admin).grant_role(Role.ISSUER, new_address)

    admin_env = {"SCEAU_ADMIN_KEYSTORE_PASSPHRASE": ADMIN_PASSPHRASE}
    finished = sceau(config, "keys", "rotate-anchoring", extra_env=admin_env)

    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert keystore_address(settings.chain.keystore) == new_address and not staged.exists()
    assert not chain.client().has_role(Role.ISSUER, setup.issuer.address)

    foreign = make_test_ca(now=datetime.now(UTC), name="Officine de Faux Diplômes")
    key_pem, cert_pem = foreign.leaf(now=datetime.now(UTC))
    (setup.env.root / "foreign.key.pem").write_bytes(key_pem)
    (setup.env.root / "foreign.pem").write_bytes(cert_pem)
    installed = (setup.pki / "issuer.pem").read_bytes()
    refused = sceau(
        config,
        "keys",
        "rotate-signing",
        "--key",
        str(setup.env.root / "foreign.key.pem"),
        "--certificate",
        str(setup.env.root / "foreign.pem"),
    )
    assert refused.returncode == 5 and "trust root" in refused.stderr, refused.stderr
    assert (setup.pki / "issuer.pem").read_bytes() == installed
    assert not list(setup.pki.glob("*.retired-*"))
