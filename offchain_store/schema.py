"""The database schema, grown by Alembic migrations (offchain_store/migrations/versions).

`upgrade` brings a database to the latest revision, under a lock so that two processes
starting together do not both migrate; a database made before migrations existed (our tables,
no `alembic_version`) is checked to hold revision 0001's tables and columns, stamped 0001,
then upgraded. `require_current` is what servers and workers call: they refuse an old schema.

Writing a revision: next id, `down_revision` the previous head, tables in their own module
listed in TABLE_MODULES; state columns through records.enum_column (text, no database enum
type). A revision changes the schema only: an empty database is made from the models and
stamped (create_schema), so rows a revision inserted would be missing there.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, inspect
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlmodel import SQLModel

from offchain_store.errors import StoreError

# Every module that declares tables: the migrations' target is their union. Each must import.
TABLE_MODULES: tuple[str, ...] = (
    "offchain_store.records",
    "offchain_store.audit",
    "offchain_store.tokens",
    "offchain_store.work_claims",
    "offchain_store.import_jobs",
    "offchain_store.statuses",
    "offchain_store.wallet_offers",
)
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
BEFORE_ALEMBIC = "0001"  # the schema every database made before migrations has
VERSION_TABLE = "alembic_version"
# pg_advisory_xact_lock key for schema changes ("sceau-db" in ASCII).
_UPGRADE_LOCK = 0x73636561752D6462


class SchemaError(StoreError):
    """The database schema is not one this Sceau can work with as it is."""


class SchemaOutdated(SchemaError):
    def __init__(self, current: str, needed: str) -> None:
        super().__init__(
            f"The database schema is at {current}, this Sceau needs {needed}: "
            "run `sceau db upgrade`."
        )
        self.current = current
        self.needed = needed


class SchemaUnknown(SchemaError):
    """The database is at a revision this Sceau has no migration for (a newer Sceau's)."""

    def __init__(self, current: str, needed: str) -> None:
        super().__init__(
            f"The database schema is at {current}, a revision this Sceau does not know "
            f"(it needs {needed}): it was upgraded by a newer Sceau; run that version."
        )
        self.current = current


class SchemaUnrecognised(SchemaError):
    """Tables made before migrations, but not those of revision 0001."""

    def __init__(self, missing: list[str]) -> None:
        shown = ", ".join(missing[:12]) + (" ..." if len(missing) > 12 else "")
        super().__init__(
            "The database was made before schema migrations, but lacks what revision "
            f"{BEFORE_ALEMBIC} expects ({shown}): run the Sceau version that made it once, "
            "so that it completes its own schema, then `sceau db upgrade`."
        )
        self.missing = missing


# What the driver raises when the database cannot be used right now (down, restarting, the
# connection cut): a server answers 503 and a worker waits, then both go on by themselves.
DRIVER_UNREACHABLE: tuple[type[Exception], ...] = (OperationalError, InterfaceError)


class DatabaseUnreachable(StoreError):
    """The database server could not be reached, or refused the connection."""

    def __init__(self, engine: Engine, error: Exception) -> None:
        where = engine.url.render_as_string(hide_password=True)
        reason = str(getattr(error, "orig", error)).strip().splitlines()[0:1]
        super().__init__(f"Could not use the database {where}: {' '.join(reason) or 'no reason'}.")


class SeveralHeads(SchemaError):
    def __init__(self, heads: tuple[str, ...]) -> None:
        super().__init__(
            f"The migrations have several latest revisions ({', '.join(heads)}): "
            "a migration's down_revision is wrong."
        )


@dataclass(frozen=True)
class SchemaUpgrade:
    """What `upgrade` did: from which revision, to which, through which migrations."""

    before: str | None  # None: an empty database, or one made before migrations
    after: str
    applied: tuple[tuple[str, str], ...]  # (revision, its first docstring line), in order
    stamped_legacy: bool = False  # made before migrations, recognised as 0001


def target_metadata() -> MetaData:
    """SQLModel's metadata with every table module imported."""
    for name in TABLE_MODULES:
        importlib.import_module(name)
    return SQLModel.metadata


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration, in code: the scripts folder, and the connection to use."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@functools.cache
def migration_scripts() -> ScriptDirectory:
    """The migrations this Sceau carries (read once: they do not change under a process)."""
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    """The latest revision of the migrations this Sceau carries."""
    heads = tuple(migration_scripts().get_heads())
    if len(heads) != 1:
        raise SeveralHeads(heads)
    return heads[0]


def current_revision(engine: Engine) -> str | None:
    """The database's revision; None when it has none (empty, or made before migrations)."""
    with reaching(engine), engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def migrate(connection: Connection, revision: str, *, stamp_only: bool = False) -> None:
    """Run the migrations up to `revision` (or only record it, `stamp_only`) on `connection`,
    in its transaction; the caller commits. Like `alembic upgrade`, but with the migrations
    read once per process, so that every step of a process sees the same ones."""
    script = migration_scripts()

    def steps(current: Any, _context: Any) -> Any:
        if stamp_only:
            return script._stamp_revs(revision, current)
        return script._upgrade_revs(revision, current)

    with EnvironmentContext(alembic_config(connection), script, fn=steps, destination_rev=revision):
        script.run_env()


def upgrade(engine: Engine) -> SchemaUpgrade:
    """Bring the database to the latest revision (idempotent), in one locked transaction."""
    head = head_revision()
    with reaching(engine), engine.connect() as connection:
        _lock_for_upgrade(connection)
        before = MigrationContext.configure(connection).get_current_revision()
        legacy = before is None and _made_before_migrations(connection)
        if legacy:
            _check_legacy_tables(connection)
            migrate(connection, BEFORE_ALEMBIC, stamp_only=True)
        start = BEFORE_ALEMBIC if legacy else before
        _require_known(start, head)
        applied = _revisions_between(start, head)
        if applied:
            migrate(connection, head)
        connection.commit()
    return SchemaUpgrade(before=before, after=head, applied=applied, stamped_legacy=legacy)


def require_current(engine: Engine) -> None:
    """Raise SchemaOutdated (or SchemaUnknown) unless the database is at the latest revision."""
    head = head_revision()
    current = current_revision(engine)
    if current == head:
        return
    if current is None:
        with reaching(engine), engine.connect() as connection:
            made = "made before migrations" if _made_before_migrations(connection) else "empty"
        raise SchemaOutdated(f"none ({made})", head)
    _require_known(current, head)
    raise SchemaOutdated(current, head)


def create_schema(engine: Engine) -> None:
    """An empty database is made to the latest revision; an up-to-date one passes; an older
    one raises SchemaOutdated: upgrading a database in use is `sceau db upgrade`'s job.

    An empty database gets the models' tables and is stamped at the latest revision (Alembic's
    recipe for new databases; a few times faster than replaying every migration, which tests
    making many databases feel). test_migrations proves both give the same schema."""
    with reaching(engine), engine.connect() as connection:
        if not _our_tables(connection):
            _lock_for_upgrade(connection)
            if not _our_tables(connection):  # nobody made it while we waited for the lock
                target_metadata().create_all(connection)
                migrate(connection, head_revision(), stamp_only=True)
            connection.commit()
    require_current(engine)


@contextmanager
def reaching(engine: Engine) -> Iterator[None]:
    """Turn the driver's "cannot connect" into DatabaseUnreachable (no password in it)."""
    try:
        yield
    except DRIVER_UNREACHABLE as error:
        raise DatabaseUnreachable(engine, error) from None


def _lock_for_upgrade(connection: Connection) -> None:
    """Serialise upgrades: the second process waits, then finds the work done."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_UPGRADE_LOCK})")
    elif connection.dialect.name == "sqlite":
        # The write lock now, so the revision read next is the one we change; DDL in this
        # transaction is atomic on SQLite too.
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _our_tables(connection: Connection) -> set[str]:
    present = set(inspect(connection).get_table_names())
    return present & (set(target_metadata().tables) | {VERSION_TABLE})


def _made_before_migrations(connection: Connection) -> bool:
    present = set(inspect(connection).get_table_names())
    return VERSION_TABLE not in present and bool(present & set(target_metadata().tables))


def _check_legacy_tables(connection: Connection) -> None:
    """Every table and column revision 0001 makes must be there, or we would stamp a lie."""
    inspector = inspect(connection)
    present = set(inspector.get_table_names())
    missing: list[str] = []
    for table, columns in _tables_of_revision(BEFORE_ALEMBIC).items():
        if table not in present:
            missing.append(table)
            continue
        found = {c["name"] for c in inspector.get_columns(table)}
        missing += [f"{table}.{name}" for name in sorted(columns - found)]
    if missing:
        raise SchemaUnrecognised(missing)


def _tables_of_revision(revision: str) -> dict[str, set[str]]:
    """The tables and columns a revision's schema has, read back from a scratch database."""
    from offchain_store.records import make_engine

    scratch = make_engine("sqlite://")
    try:
        with scratch.connect() as connection:
            migrate(connection, revision)
            inspector = inspect(connection)
            return {
                table: {c["name"] for c in inspector.get_columns(table)}
                for table in inspector.get_table_names()
                if table != VERSION_TABLE
            }
    finally:
        scratch.dispose()


def _require_known(current: str | None, head: str) -> None:
    if current is None:
        return
    script = migration_scripts()
    if current not in {rev.revision for rev in script.walk_revisions()}:
        raise SchemaUnknown(current, head)


def _revisions_between(current: str | None, head: str) -> tuple[tuple[str, str], ...]:
    """The migrations that take `current` (None: nothing) to `head`, oldest first."""
    if current == head:
        return ()
    script = migration_scripts()
    steps = script.iterate_revisions(head, current or "base")
    return tuple(
        (rev.revision, (rev.doc or "").strip().splitlines()[0] if rev.doc else "")
        for rev in reversed(list(steps))
    )
