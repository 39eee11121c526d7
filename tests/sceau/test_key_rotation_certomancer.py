"""Both keys rotated with the real certomancer servers (OCSP, CRLs, TSA): B-LTA certificates
issued before and after verify with the published profile alone; a root anchored by the retired
address after its retirement does not."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from contracts.client import Role
from contracts.keystore import create_keystore, keystore_address
from contracts.localchain import fund_account
from sceau.settings import load_settings
from tests.conftest import TEST_PASSPHRASE, SceauEnv
from tests.pki.certomancer_pki import ServedPki
from tests.sceau.helpers import read_outbox
from tests.sceau.test_key_rotation import (
    ADMIN_PASSPHRASE,
    anchor_with_retired_address,
    checks,
    rows_of_sample,
    sceau,
    verify,
)


@dataclass(frozen=True)
class CertomancerRotation:
    env: SceauEnv
    pki: Path  # the configured copies of the certomancer files (rotate-signing replaces them)
    served: ServedPki
    issuer: LocalAccount  # the anchoring account before the rotation


@pytest.fixture
def certomancer_rotation(
    sceau_env: SceauEnv, certomancer_pki: ServedPki
) -> Iterator[CertomancerRotation]:
    """sceau_env signing at B-LTA with certomancer's signer and TSA, with its own anchoring
    account and the registry admin's keystore configured."""
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

    files = certomancer_pki.files
    pki = sceau_env.root / "pki"
    pki.mkdir()
    # Copies: rotate-signing writes over the configured files, the session PKI stays as it is.
    for source, name in (
        (files.signer_key, "issuer.key.pem"),
        (files.signer_cert, "issuer.pem"),
        (files.interm_cert, "interm.pem"),
        (files.root_cert, "root.pem"),
    ):
        shutil.copy2(source, pki / name)
    signing = sceau_env.settings.signing
    assert signing.key is not None and signing.certificate is not None
    config = sceau_env.config_file.read_text()
    chain_line = "chain = [" + ", ".join(json.dumps(str(p)) for p in signing.chain) + "]"
    assert chain_line in config, config
    config = config.replace(
        chain_line, "chain = " + json.dumps([str(pki / "interm.pem"), str(pki / "root.pem")])
    )
    for old, new in (
        (signing.key, pki / "issuer.key.pem"),
        (signing.certificate, pki / "issuer.pem"),
        (signing.trust_root, pki / "root.pem"),
    ):
        config = config.replace(json.dumps(str(old)), json.dumps(str(new)))
    config = config.replace(
        "[signing]\n",
        f'[signing]\nlevel = "B-LTA"\ntsa_url = {json.dumps(certomancer_pki.tsa_url)}\n'
        "tsa_timeout_seconds = 5.0\n",
    )
    config = config.replace(
        "[chain]\n", f"[chain]\nadmin_keystore = {json.dumps(str(admin_keystore))}\n"
    )
    sceau_env.config_file.write_text(config)
    configured = load_settings(sceau_env.config_file).signing
    assert configured.certificate == pki / "issuer.pem"
    assert configured.chain == [pki / "interm.pem", pki / "root.pem"]
    assert configured.trust_root == pki / "root.pem"
    assert configured.tsa_url == certomancer_pki.tsa_url and configured.level == "B-LTA"
    yield CertomancerRotation(env=sceau_env, pki=pki, served=certomancer_pki, issuer=issuer)


def signature_details(report: dict[str, object]) -> dict[str, object]:
    found = report["checks"]
    assert isinstance(found, list)
    (signature,) = (c for c in found if c["name"] == "signature")
    details: dict[str, object] = signature["details"]
    return details


@pytest.mark.chain
def test_b_lta_certificates_before_and_after_both_rotations_on_certomancer_verify(
    certomancer_rotation: CertomancerRotation,
) -> None:
    setup, config = certomancer_rotation, certomancer_rotation.env.config_file
    settings, chain, files = setup.env.settings, setup.env.chain, setup.served.files
    first = sceau(config, "issue", str(rows_of_sample(setup.env.root / "a.csv", 1, 2)))
    assert first.returncode == 0, first.stdout + first.stderr
    before = read_outbox(settings.mail.outbox)
    assert before

    admin_env = {"SCEAU_ADMIN_KEYSTORE_PASSPHRASE": ADMIN_PASSPHRASE}
    signing = sceau(
        config,
        "keys",
        "rotate-signing",
        "--key",
        str(files.signer2_key),
        "--certificate",
        str(files.signer2_cert),
        extra_env=admin_env,
    )
    assert signing.returncode == 0, signing.stdout + signing.stderr
    assert "published in the registry" in signing.stdout, signing.stdout
    assert (setup.pki / "issuer.pem").read_bytes() == files.signer2_cert.read_bytes()
    assert (setup.pki / "issuer.key.pem").stat().st_mode & 0o777 == 0o600
    assert len(list(setup.pki.glob("issuer.pem.retired-*"))) == 1

    anchoring = sceau(config, "keys", "rotate-anchoring", "--create", extra_env=admin_env)
    assert anchoring.returncode == 0, anchoring.stdout + anchoring.stderr
    new_address = keystore_address(settings.chain.keystore)
    reader = chain.client()
    assert new_address != setup.issuer.address
    assert reader.has_role(Role.ISSUER, new_address)
    assert not reader.has_role(Role.ISSUER, setup.issuer.address)

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

    signers = {}
    for name, message in (("before", before[0]), ("after", after[0])):
        report = verify(setup.env, wallet, name, message.pdf, message.receipt)
        assert report["verdict"] == "VALID", (name, checks(report))
        details = signature_details(report)
        assert details["pades_level"] == "B-LTA", (name, details)
        signers[name] = details["signer_subject"]
    assert "new key" not in str(signers["before"]) and "new key" in str(signers["after"])

    retired = anchor_with_retired_address(setup.env.chain, setup.issuer, after[0])
    report = verify(setup.env, wallet, "retired", after[0].pdf, retired)
    assert report["verdict"] == "INVALID"
    assert checks(report)["issuer_identity"] == ("invalid", "anchoring_address_retired")
    assert checks(report)["anchoring"][0] == "valid"  # the chain alone cannot tell
    assert checks(report)["signature"][0] == "valid"  # the PDF itself is genuine
