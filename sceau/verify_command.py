"""`sceau verify`: check a PDF and its receipt against the chain alone, trusting no Sceau server.

It reads only the files it is given and asks only the JSON-RPC node: no settings, no database.
Whatever happens, it prints a report (with `--json`, one JSON object on stdout) and exits with
the verdict's code; only a usage error (an unknown option) exits 2, as click does.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from contracts.profile import InvalidProfile, PublishedProfile
from contracts.receipt import InvalidReceipt, Receipt
from verifier.errors import VerificationError
from verifier.independent import REQUIRED_CHECKS, verify_with_receipt
from verifier.report import (
    CheckName,
    CheckResult,
    CheckStatus,
    Verdict,
    VerificationReport,
    build_report,
)

DEFAULT_RPC_URL = "http://127.0.0.1:8545"

# The one place a verdict becomes an exit code.
VERDICT_EXIT_CODES = {
    Verdict.VALID: 0,
    Verdict.INVALID: 10,
    Verdict.REVOKED: 11,
    Verdict.ERROR: 12,
    Verdict.SUSPENDED: 13,
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
    Verdict.SUSPENDED: "bold black on orange1",
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
        Verdict.SUSPENDED: "SUSPENDU",
        Verdict.INVALID: "INVALIDE",
        Verdict.ERROR: "INDÉCIS (erreur)",
    },
    "en": {
        Verdict.VALID: "VALID",
        Verdict.REVOKED: "REVOKED",
        Verdict.SUSPENDED: "SUSPENDED",
        Verdict.INVALID: "INVALID",
        Verdict.ERROR: "COULD NOT DECIDE (error)",
    },
}


class Lang(enum.StrEnum):
    """The language of the messages."""

    fr = "fr"
    en = "en"


def verify(
    pdf: Annotated[Path, typer.Argument(help="The signed PDF.")],
    receipt: Annotated[Path, typer.Option("--receipt", help="Its receipt (JSON).")],
    rpc: Annotated[
        str,
        typer.Option("--rpc", envvar="SCEAU_CHAIN__RPC_URL", help="JSON-RPC URL of a chain node."),
    ] = DEFAULT_RPC_URL,
    profile: Annotated[
        Path | None, typer.Option("--profile", help="The issuer's profile (JSON file).")
    ] = None,
    trust_root: Annotated[
        list[Path] | None, typer.Option("--trust-root", help="A CA root (PEM or DER).")
    ] = None,
    json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    lang: Annotated[Lang, typer.Option("--lang", help="Language of the messages.")] = Lang.fr,
) -> None:
    """Verify a certificate with its receipt, asking the chain directly."""
    inputs = _read_inputs(pdf, receipt, profile, trust_root or [])
    if isinstance(inputs, VerificationReport):
        report = inputs
    else:
        try:
            report = verify_with_receipt(
                inputs.pdf,
                inputs.receipt,
                rpc_url=rpc,
                profile=inputs.profile,
                trust_roots=inputs.trust_roots,
            )
        except VerificationError as exc:
            unusable = _unusable(CheckName.SIGNATURE, "trust_root_unreadable", exc)
            report = _refused(inputs.receipt.certificate_id, (unusable,))
    if json:
        typer.echo(report.to_json().decode(), nl=False)
    else:
        _show(report, lang.value)
    raise typer.Exit(VERDICT_EXIT_CODES[report.verdict])


@dataclass(frozen=True)
class _Inputs:
    pdf: bytes
    receipt: Receipt
    profile: PublishedProfile | None
    trust_roots: list[bytes]


def _read_inputs(
    pdf: Path, receipt: Path, profile: Path | None, trust_roots: list[Path]
) -> _Inputs | VerificationReport:
    """The files, parsed; or the report saying which cannot be used (INVALID for a malformed
    receipt, ERROR for what leaves the verifier unable to decide)."""
    problems: list[CheckResult] = []
    files = {path: _read(path, problems) for path in (pdf, receipt, *trust_roots)}
    if profile is not None:
        files[profile] = _read(profile, problems)
    parsed_receipt = parsed_profile = None
    if files[receipt] is not None:
        try:
            parsed_receipt = Receipt.from_json(files[receipt] or b"")
        except InvalidReceipt as exc:
            problems.append(_unusable(CheckName.INTEGRITY, "receipt_malformed", exc))
    if profile is not None and files[profile] is not None:
        try:
            parsed_profile = PublishedProfile.from_bytes(files[profile] or b"")
        except InvalidProfile as exc:
            problems.append(_unusable(CheckName.ISSUER_IDENTITY, "profile_malformed", exc))
    if problems or parsed_receipt is None:
        certificate_id = parsed_receipt.certificate_id if parsed_receipt else None
        return _refused(certificate_id, problems)
    roots = [content for path in trust_roots if (content := files[path]) is not None]
    return _Inputs(files[pdf] or b"", parsed_receipt, parsed_profile, roots)


def _read(path: Path, problems: list[CheckResult]) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        problems.append(
            CheckResult.of(
                CheckName.INTEGRITY, CheckStatus.ERROR, "file_unreadable", file=path.name
            )
        )
        return None


def _unusable(name: CheckName, code: str, error: Exception) -> CheckResult:
    status = CheckStatus.INVALID if code == "receipt_malformed" else CheckStatus.ERROR
    return CheckResult.of(name, status, code, problem=str(error))


def _refused(certificate_id: str | None, problems: Sequence[CheckResult]) -> VerificationReport:
    """A report of inputs that could not be used: one result per check at most."""
    first: dict[CheckName, CheckResult] = {}
    for problem in sorted(problems, key=lambda p: p.status is not CheckStatus.INVALID):
        first.setdefault(problem.name, problem)
    return build_report(
        certificate_id=certificate_id,
        checks=first.values(),
        required=REQUIRED_CHECKS,
        checked_at=datetime.now(UTC),
    )


def _show(report: VerificationReport, lang: str) -> None:
    """A table of the checks, then the verdict in large type."""
    out = Console()
    title = "Certificat" if lang == "fr" else "Certificate"
    table = Table(title=f"{title} {report.certificate_id or '?'}", show_lines=False)
    for column in _COLUMNS[lang]:
        table.add_column(column)
    for check in report.checks:
        status = Text(check.status.value, style=_STATUS_STYLES[check.status])
        table.add_row(check.name.value, status, check.code, check.message(lang))
    out.print(table)
    label = Text(_VERDICT_LABELS[lang][report.verdict], style=_VERDICT_STYLES[report.verdict])
    out.print(Panel(label, expand=False, padding=(1, 6)))


def main() -> None:
    """`python -m sceau.verify_command PDF --receipt …`: `sceau verify` alone, loading none of
    the other commands (no settings, no database, no issuer, no web3)."""
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    app.command()(verify)
    app()


if __name__ == "__main__":
    main()
