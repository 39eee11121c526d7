"""The verifier stands alone: importing it pulls in neither issuer/, sceau/ nor FastAPI."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import sys
import verifier.independent, verifier.checks.share
bad = sorted(m for m in sys.modules if m.split(".")[0] in {"issuer", "sceau", "fastapi"})
assert not bad, bad
"""


def test_verifier_imports_neither_issuer_nor_sceau_nor_fastapi() -> None:
    done = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_no_verifier_module_imports_web3() -> None:
    """The chain is asked in raw JSON-RPC (verifier/rpc.py, verifier/registry_reads.py)."""
    from pathlib import Path

    root = Path(__file__).parents[2]
    users = {
        path
        for path in (root / "verifier").rglob("*.py")
        if "import web3" in path.read_text() or "from web3" in path.read_text()
    }
    assert not users, sorted(str(p.relative_to(root)) for p in users)
