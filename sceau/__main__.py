"""`python -m sceau` is the `sceau` command."""

from sceau.cli import main

main()
