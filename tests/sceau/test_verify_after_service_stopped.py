"""A certificate issued on the local chain verifies with `sceau verify` alone: no service, no DB."""

from __future__ import annotations

import json
import shutil

import pytest

from contracts.keystore import create_keystore
from tests.conftest import SceauEnv
from tests.sceau.helpers import read_outbox, run_sceau, subset_of_sample

ADMIN_PASSPHRASE = "admin-passphrase-not-secret"


# About the verifier, which reads no database: the service's backend is not what is tested,
# and the SQLite file is what can be deleted to show the service's state is gone.
@pytest.mark.parametrize("sceau_env", ["sqlite"], indirect=True)
def test_cli_verifies_an_issued_certificate_with_only_pdf_receipt_profile_and_chain(
    sceau_env: SceauEnv,
) -> None:
    results = subset_of_sample(sceau_env.root / "results.csv", 3)
    assert run_sceau(sceau_env.config_file, "issue", str(results)).returncode == 0
    profile = sceau_env.root / "wallet" / "issuer-profile.json"
    # The registry admin publishes the profile's hash: verifiers trust the profile it names.
    admin_keystore = sceau_env.root / "admin" / "admin-eth.json"
    create_keystore(
        admin_keystore, ADMIN_PASSPHRASE, private_key=bytes(sceau_env.chain.admin.key), iterations=2
    )
    config = sceau_env.config_file
    config.write_text(
        config.read_text().replace(
            "[chain]\n", f"[chain]\nadmin_keystore = {json.dumps(str(admin_keystore))}\n"
        )
    )
    done = run_sceau(
        config,
        "profile",
        "--publish",
        "--out",
        str(profile),
        extra_env={"SCEAU_ADMIN_KEYSTORE_PASSPHRASE": ADMIN_PASSPHRASE},
    )
    assert done.returncode == 0, done.stderr + done.stdout
    assert "published in the registry" in done.stdout + done.stderr

    message = read_outbox(sceau_env.settings.mail.outbox)[0]
    wallet = profile.parent
    (wallet / "cert.pdf").write_bytes(message.pdf)
    (wallet / "cert.json").write_bytes(message.receipt.to_json())
    # The service's state is gone: only the wallet files and the chain remain.
    for gone in ("sceau.db", "blobs", "outbox", "receipts", "keys", "sceau.toml"):
        path = sceau_env.root / gone
        shutil.rmtree(path) if path.is_dir() else path.unlink()

    empty_config = sceau_env.root / "empty.toml"
    empty_config.write_text("")
    args = [
        "verify",
        str(wallet / "cert.pdf"),
        "--receipt",
        str(wallet / "cert.json"),
        "--profile",
        str(profile),
        "--rpc",
        sceau_env.chain.rpc_url,
        "--json",
    ]
    valid = run_sceau(empty_config, *args)
    assert valid.returncode == 0, valid.stdout + valid.stderr
    report = json.loads(valid.stdout)
    assert report["verdict"] == "VALID"
    assert {c["status"] for c in report["checks"]} == {"valid"}

    tampered = bytearray(message.pdf)
    tampered[len(tampered) // 2] ^= 0x01
    (wallet / "cert.pdf").write_bytes(bytes(tampered))
    invalid = run_sceau(empty_config, *args)
    assert invalid.returncode == 10 and json.loads(invalid.stdout)["verdict"] == "INVALID"
