"""A light `sceau verify`: a whole verification process, started as users start it, loads
neither the database layer, nor web3 or its helpers, nor the issuer, nor the whole CLI's
libraries, nor pyHanko's signing half; the modules it loaded are read after a real VALID run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from contracts.profile import IssuerProfile
from tests.conftest import AnvilChain
from tests.verifier.conftest import Issued, publish

ROOT = Path(__file__).parents[2]
SCEAU_SCRIPT = Path(sys.executable).with_name("sceau")  # [project.scripts] `sceau`
FORBIDDEN = {
    # the database layer, the server and the issuer
    "sqlalchemy",
    "sqlmodel",
    "fastapi",
    "starlette",
    "offchain_store",
    "issuer",
    # web3 and what it brings (eth_abi, eth_utils: contracts.abi_words and contracts.keccak)
    "web3",
    "eth_account",
    "eth_abi",
    "eth_utils",
    "requests",  # verifier.rpc posts with http.client
    "Crypto",  # pycryptodome: its keccak is for a batch's tree, never a verification's
    "cffi",
    # the whole CLI's libraries: `sceau verify` is argparse and plain text
    "typer",
    "click",
    "rich",
    # pyHanko's signing half and its HTTP clients (sceau.entry.light_process)
    "aiohttp",
    "pyhanko.sign.signers",
    "pyhanko.sign.timestamps",
}


def loaded_modules(importtime_log: str) -> set[str]:
    """Every module a process imported, read from its `python -X importtime` log: each name,
    and each of its packages (`a.b.c` gives `a`, `a.b` and `a.b.c`)."""
    names = set()
    for line in importtime_log.splitlines():
        if line.startswith("import time:") and "|" in line:
            name = line.rsplit("|", 1)[1].strip()
            parts = name.split(".")
            names |= {".".join(parts[: n + 1]) for n in range(len(parts))}
    names.discard("package")  # the log's header line
    return names


@pytest.mark.chain
@pytest.mark.parametrize(
    "entry",
    [[str(SCEAU_SCRIPT), "verify"], ["-m", "sceau.verify_command"]],
    ids=["sceau-console-script", "python-m-verify-command"],
)
def test_a_whole_verify_process_loads_none_of_the_forbidden_modules(
    entry: list[str],
    tmp_path: Path,
    valid_certificate: Issued,
    anvil_chain: AnvilChain,
    issuer_profile: IssuerProfile,
) -> None:
    assert SCEAU_SCRIPT.is_file(), "the `sceau` console script is not installed beside Python"
    (tmp_path / "c.pdf").write_bytes(valid_certificate.pdf)
    (tmp_path / "r.json").write_bytes(valid_certificate.receipt.to_json())
    (tmp_path / "p.json").write_bytes(issuer_profile.to_json())
    publish(anvil_chain, issuer_profile)
    args = [str(tmp_path / "c.pdf"), "--receipt", str(tmp_path / "r.json")]
    args += ["--profile", str(tmp_path / "p.json"), "--rpc", anvil_chain.rpc_url, "--json"]

    done = subprocess.run(
        [sys.executable, "-X", "importtime", *entry, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )

    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    assert json.loads(done.stdout)["verdict"] == "VALID"
    loaded = loaded_modules(done.stderr)
    assert {"sceau.verify_command", "pyhanko.sign.validation"} <= loaded  # it did validate
    assert sorted(FORBIDDEN & loaded) == []


def test_the_lazy_signing_front_still_gives_pyhankos_names_when_asked() -> None:
    # A light process validates without pyhanko.sign's __init__; code that asks the package for
    # a name it re-exports (a signer) still gets it, the __init__ then running once.
    script = """
import sys
from sceau.entry import light_process
light_process()
import pyhanko.sign.validation
before = "pyhanko.sign.signers" in sys.modules
from pyhanko.sign import SimpleSigner
from pyhanko.sign.signers import SimpleSigner as Direct
import pyhanko.sign
print(before, "pyhanko.sign.signers" in sys.modules, SimpleSigner is Direct,
      pyhanko.sign.__getattr__ if "__getattr__" in vars(pyhanko.sign) else None)
try:
    pyhanko.sign.no_such_name
except AttributeError:
    print("AttributeError")
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=120
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "True", "True", "None", "AttributeError"]


def test_a_light_process_keeps_the_callers_pydantic_plugin_setting() -> None:
    script = """
import os
from sceau.entry import light_process
light_process()
print(os.environ["PYDANTIC_DISABLE_PLUGINS"])
"""
    env = {"PYDANTIC_DISABLE_PLUGINS": "some_plugin", "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, env=env
    )

    assert done.stdout.strip() == "some_plugin", done.stderr
