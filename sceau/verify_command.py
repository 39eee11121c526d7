"""`sceau verify`: check a PDF and its receipt against the chain alone, trusting no Sceau server.

It reads only the files it is given and asks only the JSON-RPC node: no settings, no database.
Whatever happens, it prints a report (with `--json`, one JSON object on stdout) and exits with
the verdict's code; only a usage error (an unknown option) exits 2, as click does.

`sceau verify` starts through `main` (argparse): it loads neither typer, nor rich, nor click,
which cost a fifth of a second; the whole CLI (sceau.cli) takes the typer command `verify`,
built on first use by the module's `__getattr__`. Both run `run_verify`. `sceau verify` and
`python -m sceau.verify_command` start a light process first (`sceau.entry.light_process`).
"""

import sys

if __name__ == "__main__":  # `python -m sceau.verify_command`: the light process, then this module
    from sceau.entry import run_light_verify

    run_light_verify(sys.argv)  # exits

import argparse
import enum
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any, TextIO

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

# No `from __future__ import annotations` here: the typer command's annotations must be
# objects when it is defined, as typer reads them from the module that holds no typer.

DEFAULT_RPC_URL = "http://127.0.0.1:8545"
RPC_URL_ENV = "SCEAU_CHAIN__RPC_URL"

# The one place a verdict becomes an exit code.
VERDICT_EXIT_CODES = {
    Verdict.VALID: 0,
    Verdict.INVALID: 10,
    Verdict.REVOKED: 11,
    Verdict.ERROR: 12,
    Verdict.SUSPENDED: 13,
}
# ANSI SGR codes, used on a terminal only (and never with NO_COLOR set).
_STATUS_STYLES = {
    CheckStatus.VALID: "32",
    CheckStatus.INVALID: "1;31",
    CheckStatus.ERROR: "33",
    CheckStatus.SKIPPED: "2",
}
_VERDICT_STYLES = {
    Verdict.VALID: "1;97;42",
    Verdict.REVOKED: "1;97;48;5;208",
    Verdict.SUSPENDED: "1;30;48;5;214",
    Verdict.INVALID: "1;97;41",
    Verdict.ERROR: "1;30;43",
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


@dataclass(frozen=True)
class VerifyRequest:
    """What `sceau verify` was asked: the files, the node, the output's form and language."""

    pdf: Path
    receipt: Path
    rpc: str = DEFAULT_RPC_URL
    profile: Path | None = None
    trust_roots: tuple[Path, ...] = ()
    json: bool = False
    lang: Lang = Lang.fr


def run_verify(request: VerifyRequest, out: TextIO) -> int:
    """Verify, print the report on `out` (JSON, or a table), and return the verdict's exit code."""
    report = verification_report(request)
    if request.json:
        out.write(report.to_json().decode())
    else:
        out.write(report_table(report, request.lang.value, colour=_colours(out)))
    out.flush()
    return VERDICT_EXIT_CODES[report.verdict]


def verification_report(request: VerifyRequest) -> VerificationReport:
    """The report of the request: of the chain's answers, or of the inputs that are unusable."""
    inputs = _read_inputs(request.pdf, request.receipt, request.profile, list(request.trust_roots))
    if isinstance(inputs, VerificationReport):
        return inputs
    try:
        return verify_with_receipt(
            inputs.pdf,
            inputs.receipt,
            rpc_url=request.rpc,
            profile=inputs.profile,
            trust_roots=inputs.trust_roots,
        )
    except VerificationError as exc:
        unusable = _unusable(CheckName.SIGNATURE, "trust_root_unreadable", exc)
        return _refused(inputs.receipt.certificate_id, (unusable,))


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


def report_table(report: VerificationReport, lang: str, *, colour: bool = False) -> str:
    """The checks as a text table under the certificate's id, then the verdict."""
    title = "Certificat" if lang == "fr" else "Certificate"
    rows = [
        (check.name.value, check.status.value, check.code, check.message(lang))
        for check in report.checks
    ]
    widths = [max(len(row[i]) for row in (_COLUMNS[lang], *rows)) for i in range(3)]
    lines = [f"{title} {report.certificate_id or '?'}", ""]
    lines.append(_row(_COLUMNS[lang], widths, _paint("1", colour)))
    lines.append("  ".join("─" * width for width in (*widths, len(_COLUMNS[lang][3]))))
    for check, row in zip(report.checks, rows, strict=True):
        status_paint = _paint(_STATUS_STYLES[check.status], colour)
        lines.append(_row(row, widths, lambda text: text, status=status_paint))
    label = f"   {_VERDICT_LABELS[lang][report.verdict]}   "
    lines += ["", _paint(_VERDICT_STYLES[report.verdict], colour)(label), ""]
    return "\n".join(lines)


def _row(
    cells: Sequence[str],
    widths: Sequence[int],
    paint: Callable[[str], str],
    *,
    status: Callable[[str], str] | None = None,
) -> str:
    padded = [cell.ljust(width) for cell, width in zip(cells, widths, strict=False)]
    if status is not None:
        padded[1] = status(padded[1])
    return paint("  ".join([*padded, cells[3]]))


def _paint(style: str, colour: bool) -> Callable[[str], str]:
    if not colour:
        return lambda text: text
    return lambda text: f"\x1b[{style}m{text}\x1b[0m"


def _colours(out: TextIO) -> bool:
    """Colours on a terminal, unless NO_COLOR (https://no-color.org) is set."""
    return out.isatty() and not os.environ.get("NO_COLOR")


def _arguments() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Verify a certificate with its receipt, asking the chain directly."
    )
    parser.add_argument("pdf", type=Path, help="The signed PDF.")
    parser.add_argument("--receipt", type=Path, required=True, help="Its receipt (JSON).")
    parser.add_argument(
        "--rpc",
        default=os.environ.get(RPC_URL_ENV, DEFAULT_RPC_URL),
        help=f"JSON-RPC URL of a chain node (env {RPC_URL_ENV}; default {DEFAULT_RPC_URL}).",
    )
    parser.add_argument("--profile", type=Path, help="The issuer's profile (JSON file).")
    parser.add_argument(
        "--trust-root", type=Path, action="append", default=[], help="A CA root (PEM or DER)."
    )
    parser.add_argument(
        "--json", action=argparse.BooleanOptionalAction, default=False, help="Print JSON."
    )
    parser.add_argument(
        "--lang", type=Lang, choices=list(Lang), default=Lang.fr, help="Language of the messages."
    )
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    """`sceau verify PDF --receipt …` (and `python -m sceau.verify_command …`): this command
    alone, loading none of the others (no settings, no database, no issuer, no web3, no typer)."""
    options = _arguments().parse_args(argv)
    request = VerifyRequest(
        pdf=options.pdf,
        receipt=options.receipt,
        rpc=options.rpc,
        profile=options.profile,
        trust_roots=tuple(options.trust_root),
        json=options.json,
        lang=options.lang,
    )
    sys.exit(run_verify(request, sys.stdout))


@cache
def _typer_command() -> Callable[..., None]:
    """`verify` as a typer command, for the whole CLI; typer is imported only here."""
    from typing import Annotated

    import typer

    def verify(
        pdf: Annotated[Path, typer.Argument(help="The signed PDF.")],
        receipt: Annotated[Path, typer.Option("--receipt", help="Its receipt (JSON).")],
        rpc: Annotated[
            str,
            typer.Option("--rpc", envvar=RPC_URL_ENV, help="JSON-RPC URL of a chain node."),
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
        request = VerifyRequest(pdf, receipt, rpc, profile, tuple(trust_root or ()), json, lang)
        raise typer.Exit(run_verify(request, sys.stdout))

    return verify


def __getattr__(name: str) -> Any:
    """`verify`, the typer command (`from sceau.verify_command import verify`), made on demand."""
    if name == "verify":
        return _typer_command()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
