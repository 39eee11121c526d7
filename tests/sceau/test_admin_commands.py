"""`sceau admin token …` and `sceau audit …`, run as a user would, on a whole set-up."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from offchain_store.records import make_engine
from offchain_store.tokens import TOKEN_PATTERN, TokenRevoked, authenticate
from tests.conftest import SceauEnv
from tests.sceau.helpers import run_sceau


def run_admin(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The real `sceau` command (errors mapped to exit codes by cli.main)."""
    return run_sceau(config, *args, timeout=120)


def tamper(env: SceauEnv, statement: str, **values: str) -> None:
    """Change the database behind the service's back, as someone with SQL access could."""
    engine = make_engine(env.settings.database_url)
    try:
        with engine.begin() as connection:
            connection.execute(text(statement), values)
    finally:
        engine.dispose()


def create(env: SceauEnv, name: str, role: str) -> tuple[str, str]:
    """Create a token with the CLI; its id and the token printed once."""
    done = run_admin(env.config_file, "admin", "token", "create", "--name", name, "--role", role)
    assert done.returncode == 0, done.stderr + done.stdout
    token = done.stdout.strip()
    match = TOKEN_PATTERN.fullmatch(token)
    assert match is not None, done.stdout
    assert "not shown again" in done.stderr
    return match.group(1), token


def test_token_lifecycle_is_listed_audited_and_never_shows_the_secret(
    sceau_env: SceauEnv,
) -> None:
    token_id, token = create(sceau_env, "jury portal", "issuer")
    engine = make_engine(sceau_env.settings.database_url)
    assert authenticate(engine, token, now=datetime.now(UTC)).id == token_id

    listed = run_admin(sceau_env.config_file, "admin", "token", "list")
    assert listed.returncode == 0, listed.stderr
    assert token_id in listed.stdout and "jury portal" in listed.stdout
    assert "issuer" in listed.stdout

    revoked = run_admin(sceau_env.config_file, "admin", "token", "revoke", token_id)
    assert revoked.returncode == 0, revoked.stderr
    assert f"Token {token_id} (jury portal) revoked." in revoked.stdout
    with pytest.raises(TokenRevoked):
        authenticate(engine, token, now=datetime.now(UTC))
    again = run_admin(sceau_env.config_file, "admin", "token", "revoke", token_id)
    assert again.returncode == 0 and "already revoked" in again.stdout

    shown = run_admin(sceau_env.config_file, "audit", "show")
    assert shown.returncode == 0, shown.stderr
    assert "token.created" in shown.stdout and "token.revoked" in shown.stdout
    assert shown.stdout.count(token_id) == 2  # the second revoke changed nothing, logged nothing

    verified = run_admin(sceau_env.config_file, "audit", "verify")
    assert verified.returncode == 0, verified.stderr
    assert "Audit log intact: 2 entries." in verified.stdout

    secret = token[-20:]  # the secret is the tail (base64url may itself hold "_")
    for run in (listed, revoked, again, shown, verified):
        assert secret not in run.stdout + run.stderr
    engine.dispose()


def test_audit_verify_names_an_entry_edited_in_the_database(sceau_env: SceauEnv) -> None:
    for name in ("first", "second", "third"):
        create(sceau_env, name, "auditor")
    tamper(
        sceau_env,
        "UPDATE audit_log SET details = :details WHERE seq = 2",
        details='{"name":"second","role":"admin"}',
    )
    checked = run_admin(sceau_env.config_file, "audit", "verify")
    assert checked.returncode == 6, checked.stderr + checked.stdout
    assert "tampered" in checked.stderr and "entry 2 was changed" in checked.stderr


def test_audit_verify_checks_a_recorded_head(sceau_env: SceauEnv) -> None:
    create(sceau_env, "one", "admin")
    first = run_admin(sceau_env.config_file, "audit", "verify")
    head = next(line for line in first.stdout.splitlines() if line.startswith("Head: "))
    recorded = head.removeprefix("Head: ")
    assert recorded.startswith("1:")
    create(sceau_env, "two", "admin")
    still = run_admin(sceau_env.config_file, "audit", "verify", "--recorded-head", recorded)
    assert still.returncode == 0, still.stderr
    forged = "1:" + "ab" * 32
    caught = run_admin(sceau_env.config_file, "audit", "verify", "--recorded-head", forged)
    assert caught.returncode == 6 and "entry 1 no longer has the recorded hash" in caught.stderr
    malformed = run_admin(sceau_env.config_file, "audit", "verify", "--recorded-head", "1")
    assert malformed.returncode == 2 and "SEQ:HASH" in malformed.stderr


def test_audit_verify_sees_a_deleted_last_entry(sceau_env: SceauEnv) -> None:
    create(sceau_env, "only", "revoker")
    tamper(sceau_env, "DELETE FROM audit_log WHERE seq = 1")
    checked = run_admin(sceau_env.config_file, "audit", "verify")
    assert checked.returncode == 6
    assert "entry 1 is missing" in checked.stderr


def test_revoking_an_unknown_token_is_a_clear_error(sceau_env: SceauEnv) -> None:
    done = run_admin(sceau_env.config_file, "admin", "token", "revoke", "0123456789ab")
    assert done.returncode == 4, done.stderr + done.stdout
    assert "No admin token with the id '0123456789ab'" in done.stderr


def test_an_unknown_role_is_a_usage_error(sceau_env: SceauEnv) -> None:
    done = run_admin(
        sceau_env.config_file, "admin", "token", "create", "--name", "x", "--role", "root"
    )
    assert done.returncode == 2, done.stderr
    assert "'root' is not one of" in done.stderr and "Traceback" not in done.stderr
