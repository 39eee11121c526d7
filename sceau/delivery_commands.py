"""`sceau letters …`: delivery packs of printed letters for candidates without an e-mail address.

`list` shows the packs waiting, `pack ID --out FILE` writes one to print, `confirm ID` records
that it was handed over: the pack is deleted and nothing kept opens its certificates any more.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from issuer.delivery_pack import DeliveryPacks, confirm_handover, pack_bytes, pending_packs
from sceau.admin_commands import cli_actor
from sceau.compose import delivery_packs
from sceau.console import console, out

letters_app = typer.Typer(
    no_args_is_help=True,
    help="Printed letters for candidates without an e-mail address, and their hand-over.",
)


def _packs(ctx: typer.Context) -> DeliveryPacks:
    from sceau.cli import settings_of

    return delivery_packs(settings_of(ctx))


@letters_app.command("list")
def list_packs(ctx: typer.Context) -> None:
    """Delivery packs whose letters are not yet handed over."""
    waiting = pending_packs(_packs(ctx))
    if not waiting:
        out.print("No letter is waiting to be handed over.")
        return
    table = Table(title="Delivery packs waiting to be handed over")
    for column in ("pack", "results file", "issued", "letters"):
        table.add_column(column, overflow="fold")
    for pack in waiting:
        table.add_row(
            pack.pack_id, pack.source_name, f"{pack.created_at:%Y-%m-%d %H:%M}", str(pack.letters)
        )
    out.print(table)


@letters_app.command("pack")
def write_pack_command(
    ctx: typer.Context,
    pack_id: Annotated[str, typer.Argument(help="The pack's id (its batch's), from `list`.")],
    output: Annotated[
        Path, typer.Option("--out", help="Where to write the PDF to print (created 0600).")
    ],
) -> None:
    """Write a delivery pack to print: one page per letter, each with its private link."""
    pdf = pack_bytes(_packs(ctx), pack_id)
    output.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pdf)
    os.chmod(output, 0o600)
    console.print(
        f"Delivery pack written to {output}. [bold yellow]Each page opens a certificate:[/] "
        "print it, hand each letter to its candidate, delete this file, then run "
        f"`sceau letters confirm {pack_id}`."
    )


@letters_app.command("confirm")
def confirm_command(
    ctx: typer.Context,
    pack_id: Annotated[str, typer.Argument(help="The pack's id, from `list`.")],
) -> None:
    """Record that a pack was handed over: it is deleted, with every key that could open it."""
    handed = confirm_handover(_packs(ctx), pack_id, actor=cli_actor(), now=datetime.now(UTC))
    out.print(
        f"{handed} letter(s) of pack {pack_id} confirmed as handed over; the pack is deleted "
        "and only the candidates' letters open their certificates now."
    )
