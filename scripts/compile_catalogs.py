"""Compiles the pages' words, sceau/locale/*/LC_MESSAGES/*.po, into the .mo files read at run time.

Run by ./scripts/install. A catalog with an empty or fuzzy word is refused, so that a page
never shows a key where its words should be.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).resolve().parent.parent / "sceau" / "locale"


class CatalogRefused(Exception):
    """A .po file that must not be compiled; the message names the file and the word."""


def read_catalog(po_file: Path) -> Catalog:
    """The catalog of one .po file, refused if a word is empty or marked fuzzy."""
    with po_file.open("rb") as source:
        catalog = read_po(source, abort_invalid=True)
    for message in catalog:
        if not message.id:
            continue  # the header
        if not message.string or message.fuzzy:
            raise CatalogRefused(f"{po_file}: no final words for {message.id!r}")
    return catalog


def compile_catalog(po_file: Path) -> Path:
    """Writes the .mo file next to `po_file` (atomically: a running server reads whole files)."""
    catalog = read_catalog(po_file)
    mo_file = po_file.with_suffix(".mo")
    handle, temporary = tempfile.mkstemp(dir=po_file.parent, suffix=".mo.tmp")
    try:
        with os.fdopen(handle, "wb") as target:
            write_mo(target, catalog, use_fuzzy=False)
        os.replace(temporary, mo_file)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return mo_file


def compile_all(locale_dir: Path) -> list[Path]:
    """Compiles every catalog under `locale_dir`; none is written if one is refused."""
    po_files = sorted(locale_dir.glob("*/LC_MESSAGES/*.po"))
    if not po_files:
        raise CatalogRefused(f"no catalog under {locale_dir}")
    for po_file in po_files:
        read_catalog(po_file)  # check them all before writing any
    return [compile_catalog(po_file) for po_file in po_files]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--locale-dir", type=Path, default=LOCALE_DIR)
    args = parser.parse_args(argv)
    try:
        written = compile_all(args.locale_dir)
    except CatalogRefused as refused:
        print(f"compile_catalogs: {refused}", file=sys.stderr)
        return 1
    print(f"compiled {len(written)} catalogs under {args.locale_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
