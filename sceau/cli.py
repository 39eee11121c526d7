"""The `sceau` command: every admin job, with progress on long work and clear errors."""

from __future__ import annotations

import dataclasses
import signal
import sys
import threading
from collections.abc import Mapping
from datetime import UTC, date, datetime
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
from issuer.batches import batch_progress
from issuer.columns import ColumnPlan, load_column_mapping, nearest_names
from issuer.intake import IntakeReport, read_results
from issuer.pipeline import Issuance, StageOutcome, stage_results, unfinished_batch_ids
from issuer.recovery import recover_link
from issuer.work_queue import (
    WorkerOptions,
    WorkerSummary,
    progress_line,
    run_worker,
    when_database_answers,
)
from offchain_store.crypto import load_recovery_private_key
from offchain_store.work_claims import DEFAULT_LEASE_SECONDS, WorkerLockHeld
from sceau import compose
from sceau.admin_commands import admin_app, audit_app
from sceau.chain_commands import chain_app, ensure_dev_environment
from sceau.console import RichProgress, console, exit_code_for, out
from sceau.db_commands import db_app
from sceau.delivery_commands import letters_app
from sceau.keys_commands import keys_app
from sceau.revocation_commands import purge_command, revocations_app, revoke
from sceau.settings import Settings, load_settings
from sceau.suspension_commands import (
    publish_status_list_command,
    suspend_command,
    unsuspend_command,
)
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
app.add_typer(db_app, name="db")
app.command("suspend")(suspend_command)
app.command("unsuspend")(unsuspend_command)
app.command("publish-status-list")(publish_status_list_command)
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
    enqueue: Annotated[
        bool,
        typer.Option("--enqueue", help="Only stage the certificates: running workers issue them."),
    ] = False,
) -> None:
    """Issue certificates for a results file: sign, encrypt, anchor, deliver (or, with
    --enqueue, stage them for `sceau worker` processes)."""
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
        outcome = stage_results(issuance, report, results.read_bytes())
        if enqueue:
            _show_enqueued(outcome)
        else:
            _work_until_done(issuance, staged=outcome)
    _show_summary(report, outcome, enqueued=enqueue)
    if not enqueue:
        _show_locations(settings)
    if report.rejected:
        raise typer.Exit(1)


@app.command()
def resume(ctx: typer.Context) -> None:
    """Finish every batch an earlier run left unfinished (after a crash or an outage)."""
    with RichProgress() as progress:
        issuance = compose.issuance(settings_of(ctx), progress=progress)
        done = len(_work_until_done(issuance).delivered_batches)
    out.print(f"{done} unfinished batch(es) completed." if done else "Nothing to resume.")


@app.command()
def worker(
    ctx: typer.Context,
    once: Annotated[
        bool, typer.Option("--once", help="Work until nothing is left to issue, then exit.")
    ] = False,
    cores: Annotated[
        int | None,
        typer.Option(min=1, help="Signing processes (default: issue_workers, else every core)."),
    ] = None,
    lease_seconds: Annotated[
        float,
        typer.Option(
            min=1.0,
            help="How long a claim lasts unless renewed: a killed worker's work is "
            "taken again after this.",
        ),
    ] = DEFAULT_LEASE_SECONDS,
    poll_seconds: Annotated[
        float, typer.Option(min=0.1, help="How often to look for work when there is none.")
    ] = 2.0,
) -> None:
    """Issue what is staged in the database (by `sceau issue --enqueue`), beside other workers.

    On PostgreSQL any number of workers share the work; on SQLite, one at a time. Stops cleanly
    on SIGTERM or Ctrl-C, after the piece of work in hand.
    """
    settings = settings_of(ctx)
    stop = threading.Event()
    _stop_on_signals(stop)
    issuance = when_database_answers(lambda: compose.issuance(settings), stop=stop, say=_say)
    if cores is not None:
        issuance = dataclasses.replace(issuance, workers=cores)
    options = WorkerOptions(once=once, lease_seconds=lease_seconds, poll_seconds=poll_seconds)
    console.print(
        f"Worker started: {issuance.workers} signing process(es); "
        + ("until nothing is left." if once else "until stopped (SIGTERM or Ctrl-C).")
    )
    summary = run_worker(issuance, options=options, stop=stop, say=_say)
    out.print(
        f"Worker stopped: {summary.stored} certificate(s) signed and stored, "
        f"{len(summary.delivered_batches)} batch(es) delivered by this worker."
    )


@app.command("progress")
def progress_command(
    ctx: typer.Context,
    batch_ids: Annotated[
        list[str] | None, typer.Argument(help="Batches to show (default: the unfinished ones).")
    ] = None,
) -> None:
    """Show how far batches got, as read from the database (by any process, on any machine)."""
    settings = settings_of(ctx)
    engine = compose.database(settings)
    wanted = batch_ids or unfinished_batch_ids(engine, settings.issuer_id)
    if not wanted:
        out.print("No unfinished batch.")
        return
    for batch_id in wanted:
        progress = batch_progress(engine, batch_id)
        out.print(progress_line(progress) if progress else f"No batch {batch_id}.", markup=False)


def _work_until_done(issuance: Issuance, *, staged: StageOutcome | None = None) -> WorkerSummary:
    """Issue what is staged (with any workers running), until no batch is left unfinished."""
    try:
        return run_worker(
            issuance, options=WorkerOptions(once=True), stop=threading.Event(), say=_quiet
        )
    except WorkerLockHeld:
        if staged is None or not staged.batch_ids:
            raise
        # A worker already runs on this SQLite database: it issues what was just staged.
        _show_enqueued(staged, running=True)
        return WorkerSummary()


def _show_enqueued(outcome: StageOutcome, *, running: bool = False) -> None:
    who = "The worker already running" if running else "Workers (`sceau worker`)"
    for batch_id in outcome.batch_ids:
        out.print(f"Staged batch {batch_id}.")
    out.print(
        f"{who} will sign, anchor and deliver the {outcome.staged} staged certificate(s). "
        "Follow with `sceau progress`."
    )


def _stop_on_signals(stop: threading.Event) -> None:
    """SIGTERM or a first Ctrl-C: stop after the piece in hand; a second Ctrl-C: at once."""

    def asked_to_stop(signum: int, _frame: object) -> None:
        if signum == signal.SIGINT and stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        console.print("Stopping after the piece of work in hand (its claims are released).")

    signal.signal(signal.SIGTERM, asked_to_stop)
    signal.signal(signal.SIGINT, asked_to_stop)


def _say(line: str) -> None:
    console.print(f"{datetime.now(UTC):%H:%M:%S} {line}", markup=False, highlight=False)


def _quiet(_line: str) -> None:
    return None


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
    workers: Annotated[
        int,
        typer.Option(
            min=1, help="Server processes; each builds its own engine, keys and chain client."
        ),
    ] = 1,
) -> None:
    """Serve the pages and the JSON API (an access log without ids, keys or bodies)."""
    from sceau.web.server import run_server

    config_file = ctx.find_root().obj if isinstance(ctx.find_root().obj, Path) else None
    settings = settings_of(ctx)
    compose.database(settings).dispose()  # an old schema stops here, with the command to run
    run_server(settings, host=host, port=port, workers=workers, config_file=config_file)


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


def _show_summary(report: IntakeReport, outcome: StageOutcome, *, enqueued: bool) -> None:
    if report.rejected:
        _show_rejected(report)
    table = Table(title=f"Issuance of {report.source_name}")
    table.add_column("outcome")
    table.add_column("count", justify="right")
    table.add_row("staged for the workers" if enqueued else "issued", str(outcome.staged))
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
