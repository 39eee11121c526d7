"""The `sceau` command's first step: `sceau verify` starts without loading the rest of Sceau.

The independent verifier must be quick and must not import the database layer, web3 or the
issuer; every other command goes through the whole CLI (sceau.cli). Before anything else is
imported, `light_process` sets the verifier's process up so that it loads only what a check
needs (its two settings are explained there); the whole CLI keeps the libraries as they are.
"""

from __future__ import annotations

import gc
import importlib
import importlib.util
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

# pyHanko's `pyhanko.sign` package re-exports its signers, whose import loads the timestamp
# clients and aiohttp (two fifths of `import pyhanko.sign.validation`); a verifier never signs.
_SIGNING_FRONT = "pyhanko.sign"

# eth_keyfile (under eth_account) imports py_ecc's BLS signatures and curve at its own import,
# for EIP-2335 validator keystores: their tables take 0.4 s to compute. Sceau's keystores are
# Web3 Secret Storage ones (secp256k1), so BLS loads only if one of its names is used; of the
# curve, eth_keyfile reads its order alone, which its small module holds.
_BLS_SIGNATURES = "py_ecc.bls"
_BLS_NAMES = ("G2Basic", "G2MessageAugmentation", "G2ProofOfPossession")
_BLS_CURVE = "py_ecc.bls12_381"
_BLS_CURVE_ORDER = ("py_ecc.bls12_381.bls12_381_curve", "curve_order")


def main() -> None:
    """Run `sceau verify` through its light entry, anything else through the whole CLI."""
    if sys.argv[1:2] == ["verify"]:
        run_light_verify([f"{sys.argv[0]} verify", *sys.argv[2:]])
        return
    with imports_for_life():
        whole_process()
        from sceau.cli import main as cli_main

    cli_main()


@contextmanager
def imports_for_life() -> Iterator[None]:
    """Import a process's modules with the cyclic garbage collector paused, then freeze them.

    What a process imports lives as long as it does: the collector would walk those objects
    again and again while they are made (a fifth of a start) and once more at exit; frozen,
    they are left out of every collection. What the process makes afterwards is collected as
    usual.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()


def whole_process() -> None:
    """Set a process of the whole of Sceau (commands, servers) up, before its first import:
    py_ecc's BLS code, which eth_keyfile imports and Sceau never uses, loads on first use."""
    if _BLS_SIGNATURES not in sys.modules:
        deferred_names(_BLS_SIGNATURES, _BLS_NAMES)
    if _BLS_CURVE not in sys.modules:
        curve = lazy_package(_BLS_CURVE)
        module, name = _BLS_CURVE_ORDER
        setattr(curve, name, getattr(importlib.import_module(module), name))


def deferred_names(name: str, names: tuple[str, ...]) -> ModuleType:
    """Register module `name` as a stand-in whose `names` are proxies: the real module is
    imported, once, when one of them is first used, and takes the stand-in's place."""
    stand_in = ModuleType(name, f"Stand-in for {name}, imported on first use of {names}.")
    real: list[ModuleType] = []

    def load() -> ModuleType:
        if not real:
            if sys.modules.get(name) is stand_in:
                del sys.modules[name]
            real.append(importlib.import_module(name))
        return real[0]

    class OnFirstUse:
        def __init__(self, attribute: str) -> None:
            self._attribute = attribute

        def __getattr__(self, item: str) -> object:
            return getattr(getattr(load(), self._attribute), item)

        def __call__(self, *args: object, **kwargs: object) -> object:
            return getattr(load(), self._attribute)(*args, **kwargs)

        def __repr__(self) -> str:
            return f"<{name}.{self._attribute}, imported on first use>"

    for attribute in names:
        setattr(stand_in, attribute, OnFirstUse(attribute))

    def other_name(attribute: str) -> object:
        if attribute.startswith("__"):  # asked by the import system itself (`__path__`, ...)
            raise AttributeError(attribute)
        return getattr(load(), attribute)

    stand_in.__dict__["__getattr__"] = other_name
    sys.modules[name] = stand_in
    return stand_in


def run_light_verify(argv: list[str]) -> None:
    """`sceau verify` with `argv` (program name first) in a light process; exits with its code."""
    with imports_for_life():
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
