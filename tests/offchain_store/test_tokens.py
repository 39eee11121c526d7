"""Admin tokens: shown once, stored hashed, refused when malformed, unknown or revoked."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine
from sqlmodel import Session

from offchain_store import audit
from offchain_store.records import create_schema, make_engine
from offchain_store.tokens import (
    TOKEN_PATTERN,
    AdminRole,
    AdminTokenRecord,
    InvalidTokenName,
    MalformedAdminToken,
    TokenError,
    TokenForbidden,
    TokenNotFound,
    TokenRevoked,
    UnknownToken,
    authenticate,
    create_token,
    list_tokens,
    require_role,
    revoke_token,
)

NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """A fresh database, on SQLite and on PostgreSQL."""
    made = make_engine(database_url)
    create_schema(made)
    yield made
    made.dispose()


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    """A SQLite file: for what reads the file's bytes, or never reaches the database."""
    made = make_engine(f"sqlite:///{tmp_path / 'tokens.db'}")
    create_schema(made)
    yield made
    made.dispose()


def secret_of(token: str) -> str:
    return token[len("sceau_") + 12 + 1 :]


def test_token_is_shown_once_and_only_its_hash_is_stored(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    engine = sqlite_engine
    record, token = create_token(engine, name="jury portal", role=AdminRole.ISSUER, now=NOW)
    match = TOKEN_PATTERN.fullmatch(token)
    assert match is not None and match.group(1) == record.id
    secret = secret_of(token)
    assert len(secret) == 43
    assert secret not in record.token_hash and secret not in repr(record)
    engine.dispose()
    database = b"".join(path.read_bytes() for path in tmp_path.glob("tokens.db*"))
    assert secret.encode() not in database and token.encode() not in database
    assert record.id.encode() in database


def test_a_token_authenticates_as_its_role_and_notes_when_it_was_used(engine: Engine) -> None:
    record, token = create_token(engine, name="audit desk", role=AdminRole.AUDITOR, now=NOW)
    found = authenticate(engine, token, now=NOW + timedelta(hours=1))
    assert (found.id, found.role, found.name) == (record.id, AdminRole.AUDITOR, "audit desk")
    assert found.last_used_at == NOW + timedelta(hours=1)
    # Within a minute the date is not rewritten (no write on every request).
    authenticate(engine, token, now=NOW + timedelta(hours=1, seconds=30))
    assert list_tokens(engine)[0].last_used_at == NOW + timedelta(hours=1)


def test_surrounding_whitespace_is_tolerated(engine: Engine) -> None:
    _, token = create_token(engine, name="ops", role=AdminRole.ADMIN, now=NOW)
    assert authenticate(engine, f" {token}\n", now=NOW).role == AdminRole.ADMIN


@pytest.mark.parametrize(
    "presented",
    [
        "",
        "Bearer something",
        "sceau_0123456789ab_short",
        "sceau_0123456789AB_" + "A" * 43,  # id must be lower-case hex
        "sceau_0123456789ab_" + "A" * 42 + "=",
        "sceau_0123456789ab_" + "A" * 42 + "B",  # non-canonical last character
        "ghp_" + "A" * 36,
    ],
)
def test_malformed_tokens_are_refused_without_echoing_them(
    sqlite_engine: Engine, presented: str
) -> None:
    with pytest.raises(MalformedAdminToken) as raised:
        authenticate(sqlite_engine, presented, now=NOW)
    assert presented.strip() == "" or presented not in str(raised.value)


def test_unknown_id_and_wrong_secret_are_the_same_error(engine: Engine) -> None:
    record, token = create_token(engine, name="ops", role=AdminRole.ADMIN, now=NOW)
    other_record, other = create_token(engine, name="other", role=AdminRole.ADMIN, now=NOW)
    wrong_secret = f"sceau_{record.id}_{secret_of(other)}"
    unknown_id = f"sceau_{'f' * 12}_{secret_of(token)}"
    for presented in (wrong_secret, unknown_id):
        with pytest.raises(UnknownToken) as raised:
            authenticate(engine, presented, now=NOW)
        assert str(raised.value) == "The admin token is not valid."
    assert other_record.id != record.id


def test_a_revoked_token_is_refused_and_revoking_again_keeps_the_date(engine: Engine) -> None:
    record, token = create_token(engine, name="leaked", role=AdminRole.REVOKER, now=NOW)
    revoke_token(engine, record.id, now=NOW + timedelta(days=1))
    with pytest.raises(TokenRevoked) as raised:
        authenticate(engine, token, now=NOW + timedelta(days=2))
    assert secret_of(token) not in str(raised.value) and record.id in str(raised.value)
    again = revoke_token(engine, record.id, now=NOW + timedelta(days=3))
    assert again.revoked_at == NOW + timedelta(days=1)


def test_revoking_an_unknown_token_says_so(engine: Engine) -> None:
    with pytest.raises(TokenNotFound, match="abcdef"):
        revoke_token(engine, "abcdef", now=NOW)


@pytest.mark.parametrize("name", ["", "x" * 81, "tab\there"])
def test_bad_names_are_refused(sqlite_engine: Engine, name: str) -> None:
    with pytest.raises(InvalidTokenName):
        create_token(sqlite_engine, name=name, role=AdminRole.ADMIN, now=NOW)


def test_a_token_is_refused_as_a_name_so_it_never_lands_in_a_list(engine: Engine) -> None:
    _, token = create_token(engine, name="first", role=AdminRole.ADMIN, now=NOW)
    with pytest.raises(InvalidTokenName) as raised:
        create_token(engine, name=token, role=AdminRole.ADMIN, now=NOW)
    assert token not in str(raised.value)


def test_list_shows_every_token_oldest_first(engine: Engine) -> None:
    for offset, role in enumerate(AdminRole):
        create_token(engine, name=role.value, role=role, now=NOW + timedelta(minutes=offset))
    assert [r.role for r in list_tokens(engine)] == list(AdminRole)


def record_with(role: AdminRole, *, revoked: bool = False) -> AdminTokenRecord:
    return AdminTokenRecord(
        id="0" * 12,
        name="t",
        role=role,
        token_hash="0" * 64,
        created_at=NOW,
        revoked_at=NOW if revoked else None,
    )


@pytest.mark.parametrize(
    ("role", "allowed", "passes"),
    [
        (AdminRole.ADMIN, (AdminRole.REVOKER,), True),
        (AdminRole.ADMIN, (), True),
        (AdminRole.ISSUER, (AdminRole.ISSUER,), True),
        (AdminRole.REVOKER, (AdminRole.ISSUER, AdminRole.REVOKER), True),
        (AdminRole.AUDITOR, (AdminRole.AUDITOR, AdminRole.ISSUER), True),
        (AdminRole.AUDITOR, (AdminRole.REVOKER,), False),
        (AdminRole.ISSUER, (AdminRole.REVOKER,), False),
        (AdminRole.REVOKER, (), False),  # nothing listed: admin only (fails closed)
    ],
)
def test_require_role(role: AdminRole, allowed: tuple[AdminRole, ...], passes: bool) -> None:
    if passes:
        require_role(record_with(role), *allowed)
    else:
        with pytest.raises(TokenForbidden, match=role.value):
            require_role(record_with(role), *allowed)


def test_require_role_refuses_a_revoked_record() -> None:
    with pytest.raises(TokenRevoked):
        require_role(record_with(AdminRole.ADMIN, revoked=True), AdminRole.ADMIN)


def test_creation_and_its_audit_entry_share_one_transaction(engine: Engine) -> None:
    with Session(engine) as session:
        record, _ = create_token(session, name="rolled back", role=AdminRole.ADMIN, now=NOW)
        audit.append(session, actor="cli:test", action="token.created", subject=record.id, now=NOW)
        session.rollback()
    assert list_tokens(engine) == []
    assert audit.verify_chain(engine).entries == 0


@settings(deadline=None)  # each example makes a database: slow on a busy machine
@given(presented=st.text(max_size=80))
def test_nothing_but_the_token_itself_authenticates(presented: str) -> None:
    engine = make_engine("sqlite://")
    try:
        create_schema(engine)
        _, token = create_token(engine, name="only", role=AdminRole.ADMIN, now=NOW)
        if presented.strip() != token:
            with pytest.raises(TokenError):
                authenticate(engine, presented, now=NOW)
        altered = token[:-3] + ("AAA" if token[-3:] != "AAA" else "BBA")
        with pytest.raises(UnknownToken):
            authenticate(engine, altered, now=NOW)
    finally:
        engine.dispose()
