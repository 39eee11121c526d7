"""`sceau verify`: check a PDF and its receipt against the chain alone, trusting no Sceau server.

It reads only the files it is given and asks only the JSON-RPC node: no settings, no database.
"""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from contracts.profile import InvalidProfile, IssuerProfile
from contracts.receipt import InvalidReceipt, Receipt
from verifier.errors import VerificationError
from verifier.independent import verify_with_receipt
from verifier.report import CheckStatus, Verdict, VerificationReport

DEFAULT_RPC_URL = "http://127.0.0.1:8545"
USAGE_EXIT_CODE = 2  # as click's own usage errors

# The one place a verdict becomes an exit code.
VERDICT_EXIT_CODES = {
    Verdict.VALID: 0,
    Verdict.INVALID: 10,
    Verdict.REVOKED: 11,
    Verdict.ERROR: 12,
}
_STATUS_STYLES = {
    CheckStatus.VALID: "green",
    CheckStatus.INVALID: "bold red",
    CheckStatus.ERROR: "yellow",
    CheckStatus.SKIPPED: "dim",
}
_VERDICT_STYLES = {
    Verdict.VALID: "bold white on green",
    Verdict.REVOKED: "bold white on dark_orange",
    Verdict.INVALID: "bold white on red",
    Verdict.ERROR: "bold black on yellow",
}
_COLUMNS = {
    "fr": ("contrôle", "statut", "code", "message"),
    "en": ("check", "status", "code", "message"),
}
_VERDICT_LABELS = {
    "fr": {
        Verdict.VALID: "VALIDE",
        Verdict.REVOKED: "RÉVOQUÉ",
        Verdict.INVALID: "INVALIDE",
        Verdict.ERROR: "INDÉCIS (erreur)",
    },
    "en": {
        Verdict.VALID: "VALID",
        Verdict.REVOKED: "REVOKED",
        Verdict.INVALID: "INVALID",
        Verdict.ERROR: "COULD NOT DECIDE (error)",
    },
}


class Lang(enum.StrEnum):
    """The language of the messages."""

    fr = "fr"
    en = "en"


def verify(
    pdf: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="The signed PDF.")
    ],
    receipt: Annotated[
        Path,
        typer.Option(
            "--receipt", exists=True, dir_okay=False, readable=True, help="Its receipt (JSON)."
        ),
    ],
    rpc: Annotated[
        str,
        typer.Option("--rpc", envvar="SCEAU_CHAIN__RPC_URL", help="JSON-RPC URL of a chain node."),
    ] = DEFAULT_RPC_URL,
    profile: Annotated[
        Path | None,
        typer.Option(
            "--profile", exists=True, dir_okay=False, help="The issuer's profile (JSON file)."
        ),
    ] = None,
    trust_root: Annotated[
        list[Path] | None,
        typer.Option("--trust-root", exists=True, dir_okay=False, help="A CA root (PEM or DER)."),
    ] = None,
    json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    lang: Annotated[Lang, typer.Option("--lang", help="Language of the messages.")] = Lang.fr,
) -> None:
    """Verify a certificate with its receipt, asking the chain directly."""
    parsed_receipt, parsed_profile = _read_receipt(receipt), _read_profile(profile)
    try:
        report = verify_with_receipt(
            pdf.read_bytes(),
            parsed_receipt,
            rpc_url=rpc,
            profile=parsed_profile,
            trust_roots=[path.read_bytes() for path in trust_root or ()],
        )
    except VerificationError as exc:
        _usage_error(exc.message)
    if json:
        typer.echo(report.to_json().decode(), nl=False)
    else:
        _show(report, lang.value)
    raise typer.Exit(VERDICT_EXIT_CODES[report.verdict])


def _read_receipt(path: Path) -> Receipt:
    try:
        return Receipt.from_json(path.read_bytes())
    except InvalidReceipt as exc:
        _usage_error(f"{path}: {exc}")


def _read_profile(path: Path | None) -> IssuerProfile | None:
    if path is None:
        return None
    try:
        return IssuerProfile.from_json(path.read_bytes())
    except InvalidProfile as exc:
        _usage_error(f"{path}: {exc}")


def _usage_error(message: str) -> NoReturn:
    Console(stderr=True).print(f"[bold red]Error:[/] {message}", highlight=False)
    raise typer.Exit(USAGE_EXIT_CODE)


def _show(report: VerificationReport, lang: str) -> None:
    """A table of the checks, then the verdict in large type."""
    out = Console()
    title = "Certificat" if lang == "fr" else "Certificate"
    table = Table(title=f"{title} {report.certificate_id}", show_lines=False)
    for column in _COLUMNS[lang]:
        table.add_column(column)
    for check in report.checks:
        status = Text(check.status.value, style=_STATUS_STYLES[check.status])
        table.add_row(check.name.value, status, check.code, check.message(lang))
    out.print(table)
    label = Text(_VERDICT_LABELS[lang][report.verdict], style=_VERDICT_STYLES[report.verdict])
    out.print(Panel(label, expand=False, padding=(1, 6)))
