"""`sceau revoke` and `sceau revocations …`: decisions, then one on-chain batch and shredding."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table

from issuer.retention import purge
from issuer.revocation import approve_request, carry_out, decide, requests, revoke_and_shred
from offchain_store.records import RequestState
from sceau import compose
from sceau.console import out
from sceau.settings import Settings

revocations_app = typer.Typer(no_args_is_help=True, help="Revocation and erasure requests.")

NoteOption = Annotated[str, typer.Option("--note", help="The reason for the decision.")]


def _settings(ctx: typer.Context) -> Settings:
    from sceau.cli import settings_of

    return settings_of(ctx)


@revocations_app.command("list")
def list_requests(
    ctx: typer.Context,
    all_states: Annotated[bool, typer.Option("--all", help="Decided ones too.")] = False,
) -> None:
    """Pending revocation and erasure requests (the candidate's own words included)."""
    engine = compose.database(_settings(ctx))
    states = () if all_states else (RequestState.PENDING,)
    table = Table(title="Revocation requests")
    for column in ("id", "certificate", "kind", "category", "state", "asked", "explanation"):
        table.add_column(column, overflow="fold")
    for request in requests(engine, states=states):
        table.add_row(
            request.id,
            request.certificate_id,
            request.kind,
            request.category,
            request.state,
            f"{request.created_at:%Y-%m-%d %H:%M}",
            request.explanation,
        )
    out.print(table)


@revocations_app.command("approve")
def approve(ctx: typer.Context, request_id: str, note: NoteOption) -> None:
    """Approve a request: the certificate is revoked on chain and shredded now."""
    revocations = compose.revocations(_settings(ctx))
    count = approve_request(revocations, request_id, actor="cli", note=note, now=datetime.now(UTC))
    _say_revoked(count)


@revocations_app.command("refuse")
def refuse(ctx: typer.Context, request_id: str, note: NoteOption) -> None:
    """Refuse a request, with the reason the candidate will be told."""
    decide(
        compose.database(_settings(ctx)),
        request_id,
        approve=False,
        actor="cli",
        note=note,
        now=datetime.now(UTC),
        audit=compose.audit_hook(),
    )
    out.print(f"Request {request_id} refused.")


@revocations_app.command("run")
def run(ctx: typer.Context) -> None:
    """Carry out approved revocations (and finish any an interrupted run left)."""
    _say_revoked(carry_out(compose.revocations(_settings(ctx)), actor="cli"))


def revoke(
    ctx: typer.Context,
    certificate_id: str,
    reason: Annotated[str, typer.Option(help="issuer_error, fraud, superseded or holder_request.")],
    note: NoteOption,
) -> None:
    """Revoke a certificate on the issuer's initiative: on chain, then shredded."""
    count = revoke_and_shred(
        compose.revocations(_settings(ctx)),
        certificate_id,
        category=reason,
        note=note,
        actor="cli",
        now=datetime.now(UTC),
    )
    _say_revoked(count)


def _say_revoked(count: int) -> None:
    out.print(f"{count} certificate(s) revoked on chain and shredded.")


def purge_command(ctx: typer.Context) -> None:
    """Apply retention: old access-log entries deleted, expired certificates revoked."""
    settings = _settings(ctx)
    outcome = purge(
        compose.revocations(settings),
        now=datetime.now(UTC),
        access_log_days=settings.retention.access_log_days,
        certificate_years=settings.retention.certificate_years,
    )
    out.print(
        f"{outcome.access_entries_deleted} access-log entr(y/ies) deleted; "
        f"{outcome.certificates_expired} certificate(s) past retention revoked and shredded."
    )
