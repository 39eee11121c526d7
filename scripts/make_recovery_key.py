"""Create the issuer's recovery key pair (the private half must then be moved offline).

Usage: .venv/bin/python scripts/make_recovery_key.py [--dir var/keys]
The passphrase comes from SCEAU_RECOVERY_PASSPHRASE; without it a development-only
default is used, with a warning.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from offchain_store.crypto import create_recovery_keypair, public_key_fingerprint
from offchain_store.errors import StoreError

PASSPHRASE_VARIABLE = "SCEAU_RECOVERY_PASSPHRASE"
DEVELOPMENT_PASSPHRASE = "sceau-development-only-recovery-passphrase"
PRIVATE_NAME = "recovery-private.json"
PUBLIC_NAME = "recovery-public.json"


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--dir", type=Path, default=Path("var/keys"), help="where to write both files"
    )
    return parser.parse_args(argv)


def _passphrase() -> str:
    passphrase = os.environ.get(PASSPHRASE_VARIABLE)
    if passphrase:
        return passphrase
    print(
        f"WARNING: {PASSPHRASE_VARIABLE} is not set; the private key is protected by the "
        "built-in development passphrase. Use this key pair for development only.",
        file=sys.stderr,
    )
    return DEVELOPMENT_PASSPHRASE


def main(argv: list[str] | None = None) -> int:
    """Write the key pair under --dir and say where it went; 0 on success, 1 on failure."""
    arguments = _arguments(argv)
    directory: Path = arguments.dir
    passphrase = _passphrase()
    directory.mkdir(parents=True, exist_ok=True)
    private_path, public_path = directory / PRIVATE_NAME, directory / PUBLIC_NAME
    try:
        public_key = create_recovery_keypair(private_path, public_path, passphrase=passphrase)
    except StoreError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"Recovery public key:  {public_path} (fingerprint {public_key_fingerprint(public_key)})")
    print(f"Recovery private key: {private_path} (mode 0600, encrypted with the passphrase)")
    print(
        "Move the private key file offline now (e.g. to an encrypted USB key kept by the "
        "admin) and delete it from this server; it is needed only to re-send a lost link."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
