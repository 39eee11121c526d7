"""The `sceau` command: every admin job, with progress on long work and clear errors."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import click
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text
from typer._click.exceptions import ClickException as TyperClickException

from contracts.receipt import Receipt
from issuer.columns import ColumnPlan, load_column_mapping, nearest_names
from issuer.intake import IntakeReport, read_results
from issuer.pipeline import Issuance, StageOutcome, run_batch, stage_results, unfinished_batches
from issuer.recovery import recover_link
from offchain_store.crypto import load_recovery_private_key
from sceau import compose
from sceau.admin_commands import admin_app, audit_app
from sceau.chain_commands import chain_app, ensure_dev_environment
from sceau.console import RichProgress, console, exit_code_for, out
from sceau.delivery_commands import letters_app
from sceau.keys_commands import keys_app
from sceau.revocation_commands import purge_command, revocations_app, revoke
from sceau.settings import Settings, load_settings
from sceau.trust_commands import trust_app
from sceau.verify_command import verify

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="Sceau: signed PDF certificates, anchored on chain, verified from a shared link.",
)
app.add_typer(chain_app, name="chain")
app.command("verify")(verify)
app.add_typer(revocations_app, name="revocations")
app.command("revoke")(revoke)
app.command("purge")(purge_command)
app.add_typer(admin_app, name="admin")
app.add_typer(audit_app, name="audit")
app.add_typer(keys_app, name="keys")
app.add_typer(trust_app, name="trust")
app.add_typer(letters_app, name="letters")

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", envvar="SCEAU_CONFIG", help="TOML settings file."),
]


@app.callback()
def _options(ctx: typer.Context, config: ConfigOption = None) -> None:
    ctx.obj = config


def settings_of(ctx: typer.Context) -> Settings:
    """Settings are built once per command, from --config and SCEAU_* variables."""
    root = ctx.find_root()
    if not isinstance(root.obj, Settings):
        root.obj = load_settings(root.obj)
    return root.obj


@app.command()
def init(ctx: typer.Context) -> None:
    """Development set-up: test PKI, keys, recovery key, local chain with the registry."""
    ensure_dev_environment(settings_of(ctx))


@app.command()
def issue(
    ctx: typer.Context,
    results: Annotated[Path, typer.Argument(help="Jury-approved results: CSV, XLSX, ODS or JSON.")],
    issue_valid_rows: Annotated[
        bool, typer.Option(help="Issue the valid rows even when others are rejected.")
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Show how the columns and rows were understood; issue nothing."
        ),
    ] = False,
    columns: Annotated[
        Path | None,
        typer.Option(
            "--columns",
            metavar="MAP.toml",
            help='Column mapping: a \\[columns] table of lines  our_field = "Your header".',
        ),
    ] = None,
) -> None:
    """Issue certificates for a results file: sign, encrypt, anchor, deliver."""
    settings = settings_of(ctx)
    report = read_results(
        results,
        today=date.today(),
        columns=load_column_mapping(columns) if columns else None,
        default_language=settings.issuer_language,
    )
    if dry_run:
        _show_dry_run(report)
        raise typer.Exit(1 if report.rejected else 0)
    _show_understanding_notes(report)
    if report.rejected and not issue_valid_rows:
        _show_rejected(report)
        console.print(
            f"[bold red]Nothing issued:[/] {len(report.rejected)} row(s) rejected. Fix them and "
            "import the file again (rows already issued are skipped), or pass --issue-valid-rows."
        )
        raise typer.Exit(1)
    with RichProgress() as progress:
        issuance = compose.issuance(settings, progress=progress)
        _finish_earlier_batches(issuance)
        outcome = stage_results(issuance, report, results.read_bytes())
        for batch_id in outcome.batch_ids:
            run_batch(issuance, batch_id)
    _show_summary(report, outcome)
    _show_locations(settings)
    if report.rejected:
        raise typer.Exit(1)


@app.command()
def resume(ctx: typer.Context) -> None:
    """Finish every batch an earlier run left unfinished (after a crash or an outage)."""
    with RichProgress() as progress:
        issuance = compose.issuance(settings_of(ctx), progress=progress)
        done = _finish_earlier_batches(issuance)
    out.print(f"{done} unfinished batch(es) completed." if done else "Nothing to resume.")


@app.command()
def demo(ctx: typer.Context) -> None:
    """Set up the development environment and issue the sample batch, end to end."""
    settings = settings_of(ctx)
    ensure_dev_environment(settings)
    sample = Path(__file__).parent / "samples" / "results-sample.csv"
    ctx.invoke(issue, ctx=ctx, results=sample)
    _show_proof_check(settings)
    profile_file = settings.receipts_dir.parent / "issuer-profile.json"
    from sceau.keys_commands import describe_publication, publish_profile

    # The profile verifiers trust is the one whose hash the registry holds (nothing sent if so).
    console.print(describe_publication(publish_profile(settings, admin_passphrase=None)))
    profile_file.write_bytes(compose.profile(settings).to_json())
    out.print(
        f"Issuer profile: {profile_file}. Verify a certificate on your own, against the chain "
        "alone: save the PDF and receipt attached to a message in the outbox, then run\n"
        f"  sceau verify certificate.pdf --receipt receipt.json --profile {profile_file} "
        f"--rpc {settings.chain.rpc_url}"
    )


def _show_proof_check(settings: Settings) -> None:
    """Check one delivered receipt against the chain, as any verifier could."""
    receipts = sorted(settings.receipts_dir.glob("*.json"), key=lambda p: p.stat().st_mtime)
    if not receipts:
        return
    receipt = Receipt.from_json(receipts[-1].read_bytes())
    status = compose.registry(settings).check_certificate(
        receipt.leaf, [bytes.fromhex(p[2:]) for p in receipt.proof]
    )
    table = Table(title=f"Proof check of certificate {receipt.certificate_id} on chain")
    table.add_column("check")
    table.add_column("answer", overflow="fold")
    table.add_row("anchoring transaction", receipt.transaction)
    table.add_row("root computed by the contract", "0x" + status.root.hex())
    table.add_row(
        "same root as the receipt", "yes" if "0x" + status.root.hex() == receipt.root else "NO"
    )
    anchored = status.anchor
    table.add_row(
        "anchored",
        f"yes, block {anchored.block_number} at {anchored.anchored_at:%Y-%m-%d %H:%M:%S} UTC "
        f"by {anchored.issuer}"
        if anchored
        else "NO",
    )
    table.add_row("revoked", "yes" if status.revocation else "no")
    out.print(table)


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Serve the pages and the JSON API (an access log without ids, keys or bodies)."""
    from sceau.web.server import run_server

    run_server(settings_of(ctx), host=host, port=port)


@app.command("profile")
def profile_command(
    ctx: typer.Context,
    output: Annotated[Path | None, typer.Option("--out", help="Write to this file.")] = None,
    publish: Annotated[
        bool,
        typer.Option(
            "--publish", help="Make its SHA-256 the registry's current profile (admin key)."
        ),
    ] = False,
    admin_passphrase: Annotated[
        str | None,
        typer.Option(
            envvar="SCEAU_ADMIN_KEYSTORE_PASSPHRASE",
            help="Passphrase of chain.admin_keystore (the registry admin), with --publish.",
        ),
    ] = None,
) -> None:
    """Print the issuer's public profile (what verifiers trust), as JSON; --publish anchors it."""
    settings = settings_of(ctx)
    if publish:
        from sceau.keys_commands import describe_publication, publish_profile

        publication = publish_profile(settings, admin_passphrase=admin_passphrase)
        console.print(describe_publication(publication))
    document = compose.profile(settings).to_json()
    if output is None and publish:
        return
    if output is None:
        sys.stdout.write(document.decode())
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(document)
    out.print(f"Issuer profile written to {output}")


@app.command("recover-link")
def recover_link_command(
    ctx: typer.Context,
    certificate_id: Annotated[str, typer.Argument(help="The certificate's id (32 hex).")],
    recovery_key: Annotated[
        Path, typer.Option(help="The offline recovery private key file.", exists=True)
    ],
    passphrase: Annotated[
        str,
        typer.Option(
            envvar="SCEAU_RECOVERY_PASSPHRASE",
            prompt="Recovery key passphrase",
            hide_input=True,
            help="Passphrase of the recovery key (or SCEAU_RECOVERY_PASSPHRASE).",
        ),
    ],
) -> None:
    """Send the candidate a new private link; the old link stops working."""
    key = load_recovery_private_key(recovery_key, passphrase)
    sent_to = recover_link(compose.recovery(settings_of(ctx)), certificate_id, key)
    out.print(f"A new private link for {certificate_id} was sent to {sent_to}.")


def _finish_earlier_batches(issuance: Issuance) -> int:
    pending = unfinished_batches(issuance)
    for batch_id in pending:
        run_batch(issuance, batch_id)
    return len(pending)


def _show_rejected(report: IntakeReport, *, to: Console = console) -> None:
    table = Table(title=Text(f"Rejected rows of {report.source_name}"), show_lines=False)
    table.add_column("line", justify="right")
    table.add_column("result id")
    table.add_column("reasons")
    for row in report.rejected:
        table.add_row(str(row.line), Text(row.result_id or "—"), Text("\n".join(row.reasons)))
    to.print(table)


def _show_understanding_notes(report: IntakeReport, *, to: Console = console) -> None:
    """What an admin should know before issuing: ignored columns, repeated results."""
    ignored = report.columns.ignored if report.columns else ()
    if ignored:
        names = ", ".join(repr(c.header or f"column {c.index + 1}") for c in ignored)
        hint = "" if to is out else " (see --dry-run)"
        to.print(f"Columns ignored: {names}{hint}", markup=False)
    for repeat in report.repeats:
        to.print(f"Repeated: {repeat}", markup=False)


def _show_dry_run(report: IntakeReport) -> None:
    """Columns as understood, then what each row would issue; nothing is signed."""
    out.print(f"{report.source_name}: read as {report.read_as}", markup=False)
    if report.columns:
        out.print(_columns_table(report.columns))
        for note in report.columns.notes:
            out.print(f"Note: {note}", markup=False)
    out.print(_rows_table(report))
    _show_understanding_notes(report, to=out)
    if report.rejected:
        _show_rejected(report, to=out)
    out.print(
        f"Dry run: {len(report.rows)} certificate(s) would be issued, "
        f"{len(report.rejected)} row(s) rejected. Nothing was signed, anchored or sent "
        "(rows already issued by an earlier import would be skipped)."
    )


def _columns_table(plan: ColumnPlan) -> Table:
    table = Table(title="Columns")
    table.add_column("#", justify="right")
    table.add_column("your column")
    table.add_column("understood as")
    table.add_column("how")
    for column in plan.columns:
        near = nearest_names(column.header) if column.field is None and column.header else []
        how = column.how + (f" (nearest: {', '.join(near)})" if near else "")
        header = Text(column.header or "—")
        table.add_row(str(column.index + 1), header, column.field or "ignored", Text(how))
    return table


def _rows_table(report: IntakeReport) -> Table:
    """One line per certificate to issue, one column per skill found in the file."""
    skills = list(dict.fromkeys(s.skill for r in report.rows for s in r.fields["skills"]))
    table = Table(title=Text(f"What {report.source_name} would issue"))
    for name in ("line", "result id", "name", "level", *skills, "delivery"):
        table.add_column(name, justify="right" if name == "line" else "left", overflow="fold")
    for row in report.rows:
        results = {s.skill: str(s.level or s.score) for s in row.fields["skills"]}
        table.add_row(
            str(row.line),
            Text(row.result_id),
            Text(str(row.fields["candidate_name"])),
            _grade_text(row.fields),
            *(results.get(skill, "—") for skill in skills),
            f"e-mail ({row.message_language})" if row.email else f"letter ({row.message_language})",
        )
    return table


def _grade_text(fields: Mapping[str, Any]) -> str:
    parts = [str(fields["level"])] if fields.get("level") else []
    if fields.get("score") is not None:
        top = fields.get("score_max")
        parts.append(f"{fields['score']}" + (f"/{top}" if top is not None else ""))
    return " ".join(parts)


def _show_summary(report: IntakeReport, outcome: StageOutcome) -> None:
    if report.rejected:
        _show_rejected(report)
    table = Table(title=f"Issuance of {report.source_name}")
    table.add_column("outcome")
    table.add_column("count", justify="right")
    table.add_row("issued", str(outcome.staged))
    table.add_row("skipped (already issued)", str(len(outcome.duplicates)))
    table.add_row("rejected", str(len(report.rejected)))
    out.print(table)


def _show_locations(settings: Settings) -> None:
    out.print(
        f"Messages to candidates (signed PDF + receipt + private link): {settings.mail.outbox}"
        if not settings.mail.smtp_host
        else f"Messages sent through {settings.mail.smtp_host}"
    )
    out.print(f"Receipts for independent verification: {settings.receipts_dir}")
    out.print(f"Encrypted certificates: {settings.blob_store_url}")


def main() -> None:
    """Entry point: runs the app and maps errors to exit codes in this one place."""
    compose.restrict_new_files()
    try:
        result = app(standalone_mode=False)
    except typer.Exit as done:
        sys.exit(done.exit_code)
    except (click.ClickException, TyperClickException) as usage:
        usage.show()
        sys.exit(usage.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        console.print("Interrupted; run `sceau resume` to finish what was started.")
        sys.exit(130)
    except Exception as error:  # mapped below; unknown errors keep their traceback
        mapped = exit_code_for(error)
        if mapped is None:
            raise
        code, label = mapped
        console.print(f"[bold red]{label} error:[/] {escape(str(error))}")  # [columns] is text
        sys.exit(code)
    sys.exit(result if isinstance(result, int) else 0)  # click returns Exit codes here
