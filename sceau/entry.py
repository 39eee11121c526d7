"""The `sceau` command's first step: `sceau verify` starts without loading the rest of Sceau.

The independent verifier must be quick and must not import the database layer, web3 or the
issuer; every other command goes through the whole CLI (sceau.cli). Before anything else is
imported, `light_process` sets the verifier's process up so that it loads only what a check
needs (its two settings are explained there); the whole CLI keeps the libraries as they are.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from types import ModuleType

# pyHanko's `pyhanko.sign` package re-exports its signers, whose import loads the timestamp
# clients and aiohttp (two fifths of `import pyhanko.sign.validation`); a verifier never signs.
_SIGNING_FRONT = "pyhanko.sign"


def main() -> None:
    """Run `sceau verify` through its light entry, anything else through the whole CLI."""
    if sys.argv[1:2] == ["verify"]:
        run_light_verify([f"{sys.argv[0]} verify", *sys.argv[2:]])
        return
    from sceau.cli import main as cli_main

    cli_main()


def run_light_verify(argv: list[str]) -> None:
    """`sceau verify` with `argv` (program name first) in a light process; exits with its code."""
    light_process()
    from sceau.verify_command import main as verify_main

    sys.argv = argv
    verify_main()


def light_process() -> None:
    """Set this process up for the light verifier, before its first domain import.

    - pydantic reads every installed distribution's entry points for plugins when it builds the
      first model (a fifth of a second on a loaded machine); the verifier runs no plugin code in
      its checks, so plugins are off unless the caller's environment says otherwise.
    - `pyhanko.sign` is made a lazy package: its submodules (`pyhanko.sign.validation`, ...)
      import as usual, and its own `__init__` (the signers' re-exports) runs only when one of
      its names is asked for, so the signing half of pyHanko is not loaded to validate.
    """
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    if _SIGNING_FRONT not in sys.modules:
        lazy_package(_SIGNING_FRONT)


def lazy_package(name: str) -> ModuleType:
    """Register package `name` without running its `__init__`: its submodules import as usual,
    and the `__init__` runs, once, on the first attribute the package itself does not hold."""
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        raise ImportError(f"{name} is not a package that can be loaded lazily")
    package = importlib.util.module_from_spec(spec)
    loader = spec.loader

    def __getattr__(attribute: str) -> object:
        del package.__dict__["__getattr__"]  # from now on, the package as its __init__ makes it
        loader.exec_module(package)
        return getattr(package, attribute)

    package.__dict__["__getattr__"] = __getattr__
    sys.modules[name] = package
    parent, _, child = name.rpartition(".")
    if parent:
        setattr(sys.modules[parent], child, package)
    return package
