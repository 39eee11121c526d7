"""A light `sceau verify`: a whole verification process loads neither the database layer, nor
web3, nor the issuer; the modules it loaded are listed after a real VALID run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from contracts.profile import IssuerProfile
from tests.conftest import AnvilChain
from tests.verifier.conftest import Issued, publish

pytestmark = pytest.mark.chain

ROOT = Path(__file__).parents[2]
FORBIDDEN = {
    "sqlalchemy",
    "sqlmodel",
    "offchain_store",
    "issuer",
    "web3",
    "eth_account",
    "fastapi",
    "starlette",
}
RUN = """
import json, runpy, sys
module, sys.argv = sys.argv[1], ["sceau", *sys.argv[2:]]
try:
    runpy.run_module(module, run_name="__main__", alter_sys=True)
except SystemExit as done:
    code = done.code
loaded = sorted({name.split(".")[0] for name in sys.modules})
print("\\n" + json.dumps({"exit": code, "loaded": loaded}))
"""


@pytest.mark.parametrize(
    "entry", [("sceau.verify_command",), ("sceau", "verify")], ids=["light-entry", "sceau-verify"]
)
def test_a_whole_verify_process_loads_no_database_web3_or_issuer(
    entry: tuple[str, ...],
    tmp_path: Path,
    valid_certificate: Issued,
    anvil_chain: AnvilChain,
    issuer_profile: IssuerProfile,
) -> None:
    (tmp_path / "c.pdf").write_bytes(valid_certificate.pdf)
    (tmp_path / "r.json").write_bytes(valid_certificate.receipt.to_json())
    (tmp_path / "p.json").write_bytes(issuer_profile.to_json())
    publish(anvil_chain, issuer_profile)
    args = [str(tmp_path / "c.pdf"), "--receipt", str(tmp_path / "r.json")]
    args += ["--profile", str(tmp_path / "p.json"), "--rpc", anvil_chain.rpc_url, "--json"]

    done = subprocess.run(
        [sys.executable, "-c", RUN, *entry, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )

    outcome = json.loads(done.stdout.rstrip().rsplit("\n", 1)[-1])
    report = json.loads(done.stdout.rstrip().rsplit("\n", 1)[0])
    assert outcome["exit"] == 0 and report["verdict"] == "VALID", done.stdout + done.stderr
    assert "pyhanko" in outcome["loaded"]  # the run did validate a signature
    assert sorted(FORBIDDEN & set(outcome["loaded"])) == []
