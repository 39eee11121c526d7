"""`sceau db …`: bring the database schema up to date, or say where it is."""

from __future__ import annotations

import typer

from offchain_store.schema import (
    SchemaUpgrade,
    current_revision,
    head_revision,
    require_current,
    upgrade,
)
from sceau import compose
from sceau.console import console, out
from sceau.settings import Settings

db_app = typer.Typer(no_args_is_help=True, help="The database schema (migrations).")


def _settings(ctx: typer.Context) -> Settings:
    from sceau.cli import settings_of

    return settings_of(ctx)


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Apply every migration the database lacks (safe to run again, and from several hosts)."""
    console.print(f"Upgrading the database schema to {head_revision()}...")
    out.print(describe_upgrade(upgrade_database(_settings(ctx))))


@db_app.command("current")
def db_current(ctx: typer.Context) -> None:
    """Print the database's schema revision; exit non-zero unless it is the latest."""
    engine = compose.open_database(_settings(ctx))
    try:
        current = current_revision(engine)
        out.print(f"Database schema: {current or 'none'} (this Sceau's latest: {head_revision()})")
        require_current(engine)
    finally:
        engine.dispose()


def upgrade_database(settings: Settings) -> SchemaUpgrade:
    """The configured database brought to the latest revision."""
    engine = compose.open_database(settings)
    try:
        return upgrade(engine)
    finally:
        engine.dispose()


def describe_upgrade(done: SchemaUpgrade) -> str:
    """What an upgrade did, in a few lines for the admin."""
    if not done.applied and not done.stamped_legacy:
        return f"The database schema is up to date ({done.after})."
    lines: list[str] = []
    if done.stamped_legacy:
        lines.append("The database was made before migrations: recognised as revision 0001.")
    lines += [f"  applied {revision}: {doc}" for revision, doc in done.applied]
    lines.append(f"The database schema is now at {done.after}.")
    return "\n".join(lines)
