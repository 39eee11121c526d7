"""`sceau db upgrade` and `sceau db current`: an admin's view of the schema migrations."""

from __future__ import annotations

import shutil
from pathlib import Path

from typer.testing import CliRunner

from offchain_store.records import make_engine
from offchain_store.schema import SchemaOutdated, head_revision, migrate
from sceau.console import exit_code_for
from sceau.db_commands import db_app
from sceau.settings import Settings

BEFORE_ALEMBIC = Path(__file__).parents[1] / "assets" / "databases" / "before_alembic.sqlite"


def run_db(settings: Settings, *args: str) -> tuple[int, str, BaseException | None]:
    # The root context's obj is where `sceau --config` leaves the settings.
    done = CliRunner().invoke(db_app, list(args), obj=settings)
    return done.exit_code, done.output, done.exception


def test_upgrade_recognises_a_database_made_before_migrations(tmp_path: Path) -> None:
    copy = tmp_path / "sceau.db"
    shutil.copyfile(BEFORE_ALEMBIC, copy)
    settings = Settings(database_url=f"sqlite:///{copy}")
    code, output, _ = run_db(settings, "upgrade")
    assert code == 0, output
    assert "made before migrations: recognised as revision 0001" in output
    assert "applied 0002" in output
    assert f"now at {head_revision()}" in output
    code, output, _ = run_db(settings, "upgrade")
    assert (code, output.splitlines()[-1]) == (
        0,
        f"The database schema is up to date ({head_revision()}).",
    )
    code, output, _ = run_db(settings, "current")
    assert code == 0 and f"Database schema: {head_revision()}" in output


def test_current_fails_on_an_old_schema_and_says_what_to_run(database_url: str) -> None:
    engine = make_engine(database_url)
    with engine.connect() as connection:
        migrate(connection, "0001")
        connection.commit()
    engine.dispose()
    code, output, error = run_db(Settings(database_url=database_url), "current")
    assert code != 0 and "Database schema: 0001" in output
    assert isinstance(error, SchemaOutdated) and "run `sceau db upgrade`" in str(error)
    assert exit_code_for(error) == (4, "Storage")
