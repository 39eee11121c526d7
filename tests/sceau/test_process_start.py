"""How a process of the whole of Sceau starts (sceau.entry): py_ecc's BLS code, which eth_keyfile
imports and Sceau never uses, is not computed at start yet still works when asked for, and the
modules imported at start are frozen out of the garbage collector's walks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sceau.entry import signing_pool_wanted
from tests.verifier.test_light_verify import loaded_modules

ROOT = Path(__file__).parents[2]
BLS_TABLES = {
    "py_ecc.bls.ciphersuites",
    "py_ecc.optimized_bls12_381.optimized_pairing",
    "py_ecc.bls12_381.bls12_381_pairing",
}


def run_python(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, cwd=ROOT, timeout=120
    )


def test_the_whole_cli_starts_without_computing_the_bls_tables() -> None:
    done = run_python("-X", "importtime", "-m", "sceau", "--help")

    assert done.returncode == 0, done.stderr[-3000:]
    loaded = loaded_modules(done.stderr)
    assert {"sceau.cli", "eth_account", "eth_keyfile.keyfile", "web3"} <= loaded  # all of it
    assert sorted(BLS_TABLES & loaded) == []


def test_keystores_decrypt_and_bls_answers_as_without_the_stand_ins() -> None:
    probe = """
import sys
{setup}
from eth_account import Account
keystore = Account.encrypt("0x" + "11" * 32, "pass", kdf="pbkdf2", iterations=2)
print(Account.decrypt(keystore, "pass").hex())
import eth_keyfile.keyfile as keyfile
print(keyfile.MAX_V4_PRIVATE_KEY, keyfile.bls.SkToPk(5).hex())
from py_ecc.bls import G2ProofOfPossession
from py_ecc.bls12_381 import G1, curve_order
print(G2ProofOfPossession.SkToPk(7).hex(), curve_order, G1[0])
"""
    plain = run_python("-c", probe.format(setup=""))
    deferred = run_python(
        "-c", probe.format(setup="from sceau.entry import whole_process\nwhole_process()")
    )

    assert plain.returncode == 0, plain.stderr
    assert deferred.returncode == 0, deferred.stderr
    assert deferred.stdout.splitlines()[0] == "11" * 32
    assert deferred.stdout == plain.stdout


def test_the_stand_in_is_replaced_by_the_real_module_on_first_use() -> None:
    probe = """
import sys
from sceau.entry import whole_process
whole_process()
import eth_account
print("py_ecc.bls.ciphersuites" in sys.modules)
from py_ecc.bls import G2ProofOfPossession
G2ProofOfPossession.SkToPk(3)
print("py_ecc.bls.ciphersuites" in sys.modules, sys.modules["py_ecc.bls"].__spec__ is not None)
"""
    done = run_python("-c", probe)

    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "True", "True"]


def test_imports_for_life_freezes_what_it_imported_and_restores_the_collector() -> None:
    probe = """
import gc
from sceau.entry import imports_for_life
with imports_for_life():
    during = gc.isenabled()
    import json, email.message
print(during, gc.isenabled(), gc.get_freeze_count() > 0)
gc.disable()
with imports_for_life():
    import decimal
print(gc.isenabled())
"""
    done = run_python("-c", probe)

    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "True", "True", "False"]


@pytest.mark.parametrize(
    ("args", "toml", "environ", "wanted"),
    [
        (["--config", "{file}", "issue", "r.csv"], "issue_workers = 2", {}, True),
        (["--config={file}", "resume"], "issue_workers = 4", {}, True),
        (["worker", "--once"], "issue_workers = 2", {"SCEAU_CONFIG": "{file}"}, True),
        (["--config", "{file}", "issue", "r.csv"], "issue_workers = 1", {}, False),
        (["--config", "{file}", "issue", "r.csv", "--enqueue"], "issue_workers = 2", {}, False),
        (["--config", "{file}", "serve"], "issue_workers = 2", {}, False),
        (["--config", "{file}", "issue", "r.csv"], "issue_workers = 1",
         {"SCEAU_ISSUE_WORKERS": "3"}, True),
        (["--config", "{file}", "issue", "r.csv"], "issue_workers = 2",
         {"SCEAU_ISSUE_WORKERS": "many"}, False),
        (["--config", "{file}", "issue", "r.csv"], "issue_workers = [", {}, False),
        (["--config", "{missing}", "issue", "r.csv"], "", {}, False),
    ],
)  # fmt: skip
def test_a_signing_command_with_several_signers_starts_the_fork_server_first(
    tmp_path: Path, args: list[str], toml: str, environ: dict[str, str], wanted: bool
) -> None:
    config = tmp_path / "sceau.toml"
    config.write_text(toml + "\n")
    names = {"file": str(config), "missing": str(tmp_path / "missing.toml")}
    args = [arg.format(**names) for arg in args]
    environ = {name: value.format(**names) for name, value in environ.items()}

    assert signing_pool_wanted(args, environ) is wanted


def test_a_signing_process_imports_neither_the_database_nor_the_chain_client() -> None:
    done = run_python(
        "-X", "importtime", "-c", "import issuer.signing_server, issuer.signing_worker"
    )

    assert done.returncode == 0, done.stderr[-3000:]
    loaded = loaded_modules(done.stderr)
    assert "issuer.render" in loaded and "pyhanko.sign.signers" in loaded
    assert (
        sorted(loaded & {"sqlalchemy", "sqlmodel", "web3", "eth_account", "issuer.pipeline"}) == []
    )
