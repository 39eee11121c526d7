"""Schema migrations: a database made before them keeps every row; models and migrations agree;
an old schema is refused with the command to run; upgrading twice changes nothing."""

from __future__ import annotations

import shutil
import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from offchain_store import audit, schema
from offchain_store.records import (
    AccessLogRecord,
    BatchRecord,
    BatchState,
    CertificateRecord,
    CertificateState,
    IssuerKeyRecord,
    IssuerRecord,
    KeyKind,
    KeyWrapRecord,
    RequestKind,
    RevocationRequestRecord,
    ShareRecord,
    WrapKind,
    make_engine,
)
from offchain_store.schema import SchemaOutdated, SchemaUnknown, SchemaUnrecognised
from offchain_store.tokens import AdminRole, list_tokens

BEFORE_ALEMBIC = Path(__file__).parents[1] / "assets" / "databases" / "before_alembic.sqlite"
AT = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
DELIVERED, REVOKED, SHARE = "c1" * 16, "c2" * 16, "5" * 32


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    made = make_engine(database_url)
    yield made
    made.dispose()


@pytest.fixture
def before_alembic(tmp_path: Path) -> Iterator[Engine]:
    """A copy of the committed database made by the schema of the commit before migrations."""
    copy = tmp_path / "before_alembic.sqlite"
    shutil.copyfile(BEFORE_ALEMBIC, copy)
    made = make_engine(f"sqlite:///{copy}")
    yield made
    made.dispose()


def upgrade_to(engine: Engine, revision: str) -> None:
    with engine.connect() as connection:
        schema.migrate(connection, revision)
        connection.commit()


def test_a_database_made_before_migrations_is_refused_until_upgraded(
    before_alembic: Engine,
) -> None:
    with pytest.raises(SchemaOutdated) as raised:
        schema.create_schema(before_alembic)
    assert str(raised.value) == (
        f"The database schema is at none (made before migrations), this Sceau needs "
        f"{schema.head_revision()}: run `sceau db upgrade`."
    )


def test_a_database_made_before_migrations_upgrades_with_every_row_intact(
    before_alembic: Engine,
) -> None:
    done = schema.upgrade(before_alembic)
    assert (done.before, done.stamped_legacy, done.after) == (None, True, schema.head_revision())
    assert [revision for revision, _ in done.applied][:1] == ["0002"]
    schema.require_current(before_alembic)
    with Session(before_alembic) as session:
        issuer = session.get(IssuerRecord, "centre-avant")
        assert issuer is not None and issuer.name == "Centre d'examens d'avant"
        assert issuer.created_at == AT
        batch = session.get(BatchRecord, "b" * 32)
        assert batch is not None
        assert (batch.state, batch.raw_tx, batch.tx_nonce, batch.block_number) == (
            BatchState.DELIVERED,
            b"\x02raw anchor tx",
            7,
            42,
        )
        assert (batch.source_name, batch.anchored_at) == ("résultats.csv", AT)
        _check_certificates(session)
        _check_wraps_share_and_log(session)
        request = session.exec(select(RevocationRequestRecord)).one()
        assert (request.certificate_id, request.kind) == (REVOKED, RequestKind.REVOCATION)
        key = session.exec(select(IssuerKeyRecord)).one()
        assert (key.kind, key.value, key.valid_from) == (KeyKind.ANCHORING, "0x" + "ab" * 20, AT)
    [token] = list_tokens(before_alembic)
    assert (token.name, token.role, token.created_at) == ("avant", AdminRole.REVOKER, AT)
    verified = audit.verify_chain(before_alembic)
    assert (verified.ok, verified.entries) == (True, 2), verified.problem


def _check_certificates(session: Session) -> None:
    rows = session.exec(select(CertificateRecord).order_by(col(CertificateRecord.id))).all()
    assert [(c.id, c.result_id, c.state) for c in rows] == [
        (DELIVERED, "R-1", CertificateState.DELIVERED),
        (REVOKED, "R-2", CertificateState.REVOKED),
    ]
    delivered, revoked = rows
    assert (delivered.salt, delivered.candidate_email) == ("55" * 32, "zoe@example.test")
    assert (delivered.proof, delivered.delivered_at) == ('["0x' + "88" * 32 + '"]', AT)
    assert (revoked.salt, revoked.revocation_reason, revoked.revoked_at) == (
        None,
        "issuer_error",
        AT,
    )


def _check_wraps_share_and_log(session: Session) -> None:
    wraps = session.exec(select(KeyWrapRecord).order_by(col(KeyWrapRecord.id))).all()
    assert [(w.kind, w.share_id, w.wrapped) for w in wraps] == [
        (WrapKind.CANDIDATE, None, b"\x00candidate wrap\xff"),
        (WrapKind.SHARE, SHARE, b"\x01share wrap\xfe"),
    ]
    share = session.get(ShareRecord, SHARE)
    assert share is not None
    assert (share.recipient, share.opens, share.max_opens) == ("Employeur SARL", 1, 3)
    assert share.expires_at == AT + timedelta(days=30)
    opening = session.exec(select(AccessLogRecord)).one()
    assert (opening.share_id, opening.opened_at, opening.client) == (SHARE, AT, "Firefox")


def test_a_database_made_before_migrations_but_incomplete_is_not_stamped(
    before_alembic: Engine,
) -> None:
    path = before_alembic.url.database
    assert path is not None
    with sqlite3.connect(path) as connection:
        connection.execute("ALTER TABLE shares DROP COLUMN max_opens")
        connection.execute("DROP TABLE audit_head")
    with pytest.raises(SchemaUnrecognised) as raised:
        schema.upgrade(before_alembic)
    assert raised.value.missing == ["audit_head", "shares.max_opens"]
    assert "run the Sceau version that made it once" in str(raised.value)
    assert schema.current_revision(before_alembic) is None


def test_models_and_migrations_agree(engine: Engine) -> None:
    schema.upgrade(engine)
    with engine.connect() as connection:
        options = {"compare_type": True, "compare_server_default": True}
        context = MigrationContext.configure(connection, opts=options)
        differences = compare_metadata(context, schema.target_metadata())
    assert differences == []


def test_an_empty_database_is_made_to_the_latest_revision(engine: Engine) -> None:
    schema.create_schema(engine)
    assert schema.current_revision(engine) == schema.head_revision()
    schema.create_schema(engine)  # up to date: passes


def test_an_old_schema_is_refused_with_the_command_to_run(engine: Engine) -> None:
    upgrade_to(engine, "0001")
    expected = (
        f"The database schema is at 0001, this Sceau needs {schema.head_revision()}: "
        "run `sceau db upgrade`."
    )
    with pytest.raises(SchemaOutdated) as by_require:
        schema.require_current(engine)
    with pytest.raises(SchemaOutdated) as by_create:
        schema.create_schema(engine)
    assert str(by_require.value) == str(by_create.value) == expected
    assert schema.current_revision(engine) == "0001"  # refusing changed nothing


def test_a_revision_from_a_newer_sceau_is_refused(engine: Engine) -> None:
    schema.upgrade(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'f00d'"))
    with pytest.raises(SchemaUnknown) as raised:
        schema.require_current(engine)
    assert "at f00d, a revision this Sceau does not know" in str(raised.value)
    with pytest.raises(SchemaUnknown):
        schema.upgrade(engine)


def test_upgrade_is_idempotent(engine: Engine) -> None:
    first = schema.upgrade(engine)
    assert first.before is None and first.applied[0][0] == "0001"
    with Session(engine) as session:
        session.add(IssuerRecord(id="centre", name="Centre", created_at=AT))
        session.commit()
    again = schema.upgrade(engine)
    assert (again.before, again.after, again.applied) == (first.after, first.after, ())
    with Session(engine) as session:
        assert [i.id for i in session.exec(select(IssuerRecord)).all()] == ["centre"]


def test_upgrade_from_an_intermediate_revision_applies_only_the_rest(engine: Engine) -> None:
    upgrade_to(engine, "0001")
    done = schema.upgrade(engine)
    assert done.before == "0001"
    assert "0001" not in [r for r, _ in done.applied]
    assert done.applied[-1][0] == schema.head_revision()
    assert "issuers" in inspect(engine).get_table_names()


def test_two_processes_upgrading_at_once_both_succeed(engine: Engine) -> None:
    failures: list[BaseException] = []

    def upgrade_one() -> None:
        try:
            schema.upgrade(engine)
        except BaseException as error:  # reported below, from the main thread
            failures.append(error)

    threads = [threading.Thread(target=upgrade_one) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert schema.current_revision(engine) == schema.head_revision()
