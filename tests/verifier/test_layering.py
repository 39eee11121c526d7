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
