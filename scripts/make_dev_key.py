"""Create a development signing key (encrypted keystore) for the local chain.

The passphrase comes from SCEAU_KEYSTORE_PASSPHRASE, else the development default.
Run: .venv/bin/python scripts/make_dev_key.py [--out var/keys/issuer.json]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from contracts.errors import KeystoreError
from contracts.keystore import create_keystore

DEV_PASSPHRASE = "sceau-dev-only"


def main() -> int:
    parser = argparse.ArgumentParser(description="Create a development issuer key.")
    parser.add_argument("--out", type=Path, default=Path("var/keys/issuer.json"))
    args = parser.parse_args()
    passphrase = os.environ.get("SCEAU_KEYSTORE_PASSPHRASE")
    if not passphrase:
        passphrase = DEV_PASSPHRASE
        print(
            "warning: SCEAU_KEYSTORE_PASSPHRASE is not set; using the development passphrase. "
            "This key is for development only.",
            file=sys.stderr,
        )
    try:
        address = create_keystore(args.out, passphrase)
    except KeystoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"created {args.out} for address {address}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
