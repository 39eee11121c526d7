"""`python -m sceau` is the `sceau` command."""

from sceau.entry import main

main()
