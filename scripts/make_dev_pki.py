"""Create a development PKI (root CA + issuer signing certificate) for Sceau.

The key passphrase comes from SCEAU_SIGNING_KEY_PASSPHRASE; without it the key is written
unencrypted, which is acceptable for development only.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from issuer.dev_pki import create_dev_pki
from issuer.errors import IssuanceError

PASSPHRASE_VARIABLE = "SCEAU_SIGNING_KEY_PASSPHRASE"


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, create the PKI and print where it went; return the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=Path("var/pki"), help="output directory")
    parser.add_argument("--issuer-name", required=True, help="organisation name (subject O=)")
    parser.add_argument("--force", action="store_true", help="overwrite existing files")
    args = parser.parse_args(argv)
    passphrase = os.environ.get(PASSPHRASE_VARIABLE) or None
    if passphrase is None:
        print(
            f"warning: {PASSPHRASE_VARIABLE} is not set; the signing key is NOT encrypted. "
            "Development only.",
            file=sys.stderr,
        )
    try:
        pki = create_dev_pki(
            args.dir, issuer_name=args.issuer_name, passphrase=passphrase, force=args.force
        )
    except IssuanceError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"root CA certificate:     {pki.root_cert}")
    print(f"issuer certificate:      {pki.issuer_cert}")
    print(f"issuer private key:      {pki.issuer_key} (mode 0600)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
