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
import tomllib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
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

# The commands that sign certificates, in a pool of processes when more than one is set.
_SIGNING_COMMANDS = frozenset({"issue", "resume", "worker"})


def main() -> None:
    """Run `sceau verify` through its light entry, anything else through the whole CLI."""
    if sys.argv[1:2] == ["verify"]:
        run_light_verify([f"{sys.argv[0]} verify", *sys.argv[2:]])
        return
    if signing_pool_wanted(sys.argv[1:], os.environ):
        # Before this process imports the CLI: the fork server imports the signing code on
        # the other core meanwhile, and the pool's processes fork from it ready to sign.
        from issuer.signing_server import start_signing_server

        start_signing_server()
    with imports_for_life():
        whole_process()
        from sceau.cli import main as cli_main

    cli_main()


def signing_pool_wanted(args: list[str], environ: Mapping[str, str]) -> bool:
    """Whether these arguments run a command that will sign in a pool of processes: `issue`
    (not `--enqueue`, which only stages), `resume` or `worker`, with more than one signing
    process set (`issue_workers`, from SCEAU_ISSUE_WORKERS, else the TOML file, else one per
    core). Anything unclear answers False: the command then starts the pool itself, later."""
    config = environ.get("SCEAU_CONFIG")
    command = None
    given = iter(args)
    for arg in given:
        if arg == "--config":
            config = next(given, None)
        elif arg.startswith("--config="):
            config = arg.partition("=")[2]
        elif not arg.startswith("-"):
            command = arg
            break
    if command not in _SIGNING_COMMANDS or "--enqueue" in args:
        return False
    workers: object = environ.get("SCEAU_ISSUE_WORKERS")
    if workers is None and config:
        try:
            workers = tomllib.loads(Path(config).read_text(encoding="utf-8")).get("issue_workers")
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            return False  # the command says what is wrong with the file
    if workers is None:
        return (os.cpu_count() or 1) > 1
    if isinstance(workers, bool) or not isinstance(workers, int | str):
        return False
    try:
        return int(workers) > 1
    except ValueError:
        return False


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
