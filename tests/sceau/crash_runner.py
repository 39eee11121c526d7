"""Runs `sceau issue` in-process and kills the process at the Nth pass through a named point.

Used by the crash tests: `python -m tests.sceau.crash_runner CONFIG RESULTS POINT N [GROUP]`,
GROUP the certificates stored per commit (default: issuer.storing.STORE_GROUP), so that a
small batch can be killed between two commits.
"""

from __future__ import annotations

import os
import sys
from datetime import date
from pathlib import Path

import issuer.storing
from issuer.intake import read_results
from issuer.pipeline import run_batch, stage_results
from sceau import compose
from sceau.settings import load_settings

KILLED = 137


def main() -> None:
    config, results, point, nth = (
        Path(sys.argv[1]),
        Path(sys.argv[2]),
        sys.argv[3],
        int(sys.argv[4]),
    )
    if len(sys.argv) > 5:
        issuer.storing.STORE_GROUP = int(sys.argv[5])
    seen = 0

    def fault(name: str) -> None:
        nonlocal seen
        if name == point:
            seen += 1
            if seen == nth:
                os._exit(KILLED)  # no clean-up, no flush: as a kill -9 would

    issuance = compose.issuance(load_settings(config), fault=fault)
    report = read_results(results, today=date.today())
    outcome = stage_results(issuance, report, results.read_bytes())
    for batch_id in outcome.batch_ids:
        run_batch(issuance, batch_id)
    sys.exit(0)


if __name__ == "__main__":
    main()
