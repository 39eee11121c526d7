"""`sceau admin token …` (bearer tokens for the admin API) and `sceau audit …` (the audit log)."""

from __future__ import annotations

import getpass
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy.engine import Engine

from offchain_store import audit
from offchain_store.tokens import AdminRole, create_token, get_token, list_tokens, revoke_token
from sceau import compose
from sceau.console import console, out

# Exit code of `sceau audit verify` on a tampered log; 1 to 5 mean other things (console.py).
AUDIT_TAMPERED = 6
HEX = "0123456789abcdef"

admin_app = typer.Typer(no_args_is_help=True, help="Administration: API tokens.")
token_app = typer.Typer(no_args_is_help=True, help="Bearer tokens for the admin API, by role.")
admin_app.add_typer(token_app, name="token")
audit_app = typer.Typer(no_args_is_help=True, help="The hash-chained log of admin actions.")


def _engine(ctx: typer.Context) -> Engine:
    from sceau.cli import settings_of

    return compose.database(settings_of(ctx))


def cli_actor() -> str:
    """Who runs the command, as the audit log names them: their login on this machine."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no login name (some containers)
        return "cli"


def _when(value: datetime | None) -> str:
    if value is None:
        return "—"
    return value.strftime("%Y-%m-%d %H:%M UTC")  # stored and read back as UTC


@token_app.command("create")
def token_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Option(help="What the token is for, e.g. 'jury-portal'.")],
    role: Annotated[AdminRole, typer.Option(help="What it may do; admin may do everything.")],
) -> None:
    """Create a token and print it once: only its hash is kept."""
    now = datetime.now(UTC)
    with audit.transaction(_engine(ctx)) as session:
        record, token = create_token(session, name=name, role=role, now=now)
        details = {"name": record.name, "role": record.role.value}
        audit.append(
            session,
            actor=cli_actor(),
            action="token.created",
            subject=record.id,
            details=details,
            now=now,
        )
    console.print(
        f"Token {record.id} ({record.role.value}) created. [bold yellow]Copy it now: it is not "
        "shown again[/] (only a hash is stored). Send it as 'Authorization: Bearer <token>'."
    )
    typer.echo(token)  # alone on stdout, so that scripts can capture it


@token_app.command("list")
def token_list(ctx: typer.Context) -> None:
    """Every token, its role and when it was last used; never the secret."""
    records = list_tokens(_engine(ctx))
    if not records:
        out.print("No admin tokens yet: `sceau admin token create --name … --role …`.")
        return
    table = Table(title="Admin API tokens")
    for column in ("id", "name", "role", "created", "last used", "revoked"):
        table.add_column(column)
    for record in records:
        table.add_row(
            record.id,
            escape(record.name),
            record.role.value,
            _when(record.created_at),
            _when(record.last_used_at),
            _when(record.revoked_at),
        )
    out.print(table)


@token_app.command("revoke")
def token_revoke(
    ctx: typer.Context,
    token_id: Annotated[str, typer.Argument(help="The token's id, as `token list` shows it.")],
) -> None:
    """Revoke a token at once and for good."""
    now = datetime.now(UTC)
    with audit.transaction(_engine(ctx)) as session:
        record = get_token(session, token_id)
        if record.revoked_at is not None:
            out.print(f"Token {record.id} was already revoked on {_when(record.revoked_at)}.")
            return
        revoke_token(session, record.id, now=now)
        audit.append(
            session,
            actor=cli_actor(),
            action="token.revoked",
            subject=record.id,
            details={"name": record.name, "role": record.role.value},
            now=now,
        )
    out.print(f"Token {record.id} ({escape(record.name)}) revoked.")


@audit_app.command("verify")
def audit_verify(
    ctx: typer.Context,
    recorded_head: Annotated[
        str | None,
        typer.Option(
            "--recorded-head",
            metavar="SEQ:HASH",
            help="A head printed by an earlier verify: also check the log still holds it.",
        ),
    ] = None,
) -> None:
    """Check the whole chain; exit 6 and name the first bad entry if it was tampered with."""
    recorded = _parse_head(recorded_head) if recorded_head else None
    result = audit.verify_chain(_engine(ctx), recorded_head=recorded)
    if not result.ok:
        console.print(
            f"[bold red]The audit log was tampered with:[/] {result.problem} "
            f"({result.entries} entries read)."
        )
        raise typer.Exit(AUDIT_TAMPERED)
    out.print(f"Audit log intact: {result.entries} entries.")
    out.print(
        f"Head: {result.head_seq}:{result.head_hash}\nKeep a copy of it elsewhere; "
        "`sceau audit verify --recorded-head` with it later also shows a rewritten log."
    )


def _parse_head(text: str) -> tuple[int, str]:
    seq, _, entry_hash = text.strip().lower().partition(":")
    if not (seq.isdigit() and len(entry_hash) == 64 and set(entry_hash) <= set(HEX)):
        console.print("--recorded-head is SEQ:HASH, as `sceau audit verify` prints it.")
        raise typer.Exit(2)
    return int(seq), entry_hash


@audit_app.command("show")
def audit_show(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(min=1, help="How many of the latest entries.")] = 20,
) -> None:
    """The latest entries, newest first."""
    rows = audit.entries(_engine(ctx), limit=limit, newest_first=True)
    if not rows:
        out.print("The audit log is empty.")
        return
    table = Table(title=f"Audit log (latest {len(rows)})")
    for column in ("seq", "at", "actor", "action", "subject", "details"):
        table.add_column(column, overflow="fold")
    for entry in rows:
        table.add_row(
            str(entry.seq),
            entry.at.strftime("%Y-%m-%d %H:%M:%S UTC"),
            escape(entry.actor),
            escape(entry.action),
            escape(entry.subject),
            escape(entry.details),
        )
    out.print(table)
