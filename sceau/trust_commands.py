"""`sceau trust …`: the test PKI and its trust services (CRLs, OCSP, RFC 3161 time-stamping)
for development, so `sceau issue` signs PAdES B-LTA on a laptop."""

from __future__ import annotations

import json
import shlex
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated

import typer

from sceau.console import console
from sceau.settings import ConfigurationError, Environment

if TYPE_CHECKING:
    from issuer.dev_trust_services import LocalPki

trust_app = typer.Typer(
    no_args_is_help=True, help="Test trust services for development: PKI, OCSP, CRLs, TSA."
)


@trust_app.command("serve")
def trust_serve(
    ctx: typer.Context,
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.", min=1, max=65535)] = 8090,
    directory: Annotated[
        Path, typer.Option("--dir", help="Where the keys and certificates are kept.")
    ] = Path("var/trust"),
) -> None:
    """Serve a test PKI on 127.0.0.1 until Ctrl-C: built on the first run, reused after."""
    from sceau.cli import settings_of

    if settings_of(ctx).environment is not Environment.DEVELOPMENT:
        raise ConfigurationError("`sceau trust serve` is for development only")
    try:
        from issuer.dev_trust_services import PkiServer, local_base_url, open_or_build_pki
    except ImportError as error:
        raise ConfigurationError(
            f"the test trust services need the development extras ({error.name} is missing): "
            "pip install -e '.[dev]'"
        ) from error
    pki = open_or_build_pki(directory.resolve(), local_base_url(port))
    state = "Reusing the test PKI" if pki.reused else "Built a new test PKI"
    console.print(f"{state} in {directory} (private keys stay there, readable by you only).")
    server = PkiServer(pki.arch, port)
    try:
        server.start()
    except OSError as error:
        raise ConfigurationError(
            f"cannot listen on 127.0.0.1:{port} ({error.strerror}): pick another --port"
        ) from error
    try:
        _print_settings(pki)
        console.print(f"Serving CRLs, OCSP and time-stamping on {pki.base_url}; Ctrl-C to stop.")
        _wait_for_stop()
    finally:
        server.stop()
    console.print("Test trust services stopped.")


def _print_settings(pki: LocalPki) -> None:
    """The settings that make `sceau issue` sign B-LTA here: paths only, never a key."""
    files = pki.files
    settings = {
        "SCEAU_SIGNING__KEY": str(files.signer_key),
        "SCEAU_SIGNING__CERTIFICATE": str(files.signer_cert),
        "SCEAU_SIGNING__CHAIN": json.dumps([str(files.interm_cert), str(files.root_cert)]),
        "SCEAU_SIGNING__TRUST_ROOT": str(files.root_cert),
        "SCEAU_SIGNING__TSA_URL": pki.tsa_url,
    }
    typer.echo("# Settings for `sceau issue` to sign PAdES B-LTA against these services:")
    for name, value in settings.items():
        typer.echo(f"{name}={shlex.quote(value)}")  # quoted: pastable into a shell


def _wait_for_stop() -> None:
    """Block until Ctrl-C (SIGINT) or SIGTERM."""
    stop = threading.Event()
    with _on_signals((signal.SIGINT, signal.SIGTERM), stop):
        stop.wait()


@contextmanager
def _on_signals(signals: tuple[signal.Signals, ...], stop: threading.Event) -> Iterator[None]:
    def handle(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, handle) for sig in signals}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
