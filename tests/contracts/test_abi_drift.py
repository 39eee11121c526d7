"""The committed ABI must come from the current Solidity source (fast check, no node needed)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from contracts.abi import load_artifact, source_sha256

SOURCE = Path(__file__).parents[2] / "contracts" / "CertificateRegistry.sol"


def test_committed_abi_matches_the_solidity_source() -> None:
    actual = hashlib.sha256(SOURCE.read_bytes()).hexdigest()
    assert actual == load_artifact().source_sha256, (
        "contracts/abi/CertificateRegistry.json is out of date with "
        "contracts/CertificateRegistry.sol: run `npm run export-abi` and commit the JSON"
    )
    assert source_sha256() == actual


def test_committed_abi_has_the_registry_interface() -> None:
    artifact = load_artifact()
    names = {entry.get("name") for entry in artifact.abi}
    expected = {
        "anchorBatch",
        "revoke",
        "revokeBatch",
        "publishProfile",
        "anchorOf",
        "revocationOf",
        "checkCertificate",
        "currentProfile",
    }
    assert expected <= names
    assert artifact.bytecode.startswith("0x") and len(artifact.bytecode) > 100
