"""The `sceau` command's first step: `sceau verify` starts without loading the rest of Sceau.

The independent verifier must be quick and must not import the database layer, web3 or the
issuer; every other command goes through the whole CLI (sceau.cli).
"""

from __future__ import annotations

import sys


def main() -> None:
    """Run `sceau verify` through its light entry, anything else through the whole CLI."""
    if sys.argv[1:2] == ["verify"]:
        from sceau.verify_command import main as verify_main

        sys.argv = [f"{sys.argv[0]} verify", *sys.argv[2:]]
        verify_main()
        return
    from sceau.cli import main as cli_main

    cli_main()
