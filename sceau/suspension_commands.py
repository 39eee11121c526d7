"""`sceau suspend`, `sceau unsuspend` and `sceau publish-status-list`: suspension on chain at
once, and the issuer's status list signed again with its hash published."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated

import typer

from issuer.status_list import StatusListPublication, publish_status_list
from issuer.suspension import SuspensionOutcome, Suspensions, lift_now, suspend_now
from sceau import compose
from sceau.console import out
from sceau.settings import Settings

NoteOption = Annotated[str, typer.Option("--note", help="Why (kept in the audit log).")]


class ReasonChoice(StrEnum):
    """Why a certificate is suspended (contracts.values.SuspensionReason)."""

    appeal = "appeal"
    inquiry = "inquiry"
    payment = "payment"
    other = "other"


def _settings(ctx: typer.Context) -> Settings:
    from sceau.cli import settings_of

    return settings_of(ctx)


def status_list_publication(settings: Settings) -> StatusListPublication:
    """The issuer's list, on a database of the command's own (see compose)."""
    return compose.status_list_publication(settings, engine=compose.database(settings))


def suspensions(settings: Settings) -> Suspensions:
    """What suspending needs, on a database of the command's own (see compose)."""
    return compose.suspensions(settings, engine=compose.database(settings))


def suspend_command(
    ctx: typer.Context,
    certificate_id: str,
    reason: Annotated[ReasonChoice, typer.Option("--reason", help="Why it is suspended.")],
    note: NoteOption,
) -> None:
    """Suspend a certificate (reversible: nothing is shredded; shares show the suspension)."""
    outcome = suspend_now(
        suspensions(_settings(ctx)),
        certificate_id,
        reason=reason.value,
        note=note,
        actor="cli",
        now=datetime.now(UTC),
    )
    _show(outcome)


def unsuspend_command(ctx: typer.Context, certificate_id: str, note: NoteOption) -> None:
    """Lift a certificate's suspension: it verifies VALID again."""
    outcome = lift_now(
        suspensions(_settings(ctx)), certificate_id, note=note, actor="cli", now=datetime.now(UTC)
    )
    _show(outcome)


def publish_status_list_command(ctx: typer.Context) -> None:
    """Sign the status list again if a status changed or it nears expiry; publish its hash."""
    signed = publish_status_list(status_list_publication(_settings(ctx)), now=datetime.now(UTC))
    if signed is None:
        out.print("The status list is current: nothing to publish.")
    else:
        out.print(f"Status list signed and published: sha256 {signed.sha256.hex()}.")


def _show(outcome: SuspensionOutcome) -> None:
    if outcome.suspended:
        since = f"{outcome.since:%Y-%m-%d %H:%M} UTC" if outcome.since else "?"
        out.print(
            f"Certificate {outcome.certificate_id} suspended since {since} ({outcome.reason})."
        )
    else:
        out.print(f"Certificate {outcome.certificate_id} is not suspended.")
