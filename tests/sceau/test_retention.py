"""`sceau purge`: old access-log entries go; certificates past retention are revoked."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from contracts.client import RevocationReason
from issuer.retention import purge, years_before
from offchain_store.crypto import LinkKey
from offchain_store.records import make_engine
from offchain_store.shares import ShareExpired, create_share, open_share
from sceau import compose
from tests.conftest import SceauEnv
from tests.sceau.helpers import certificates, read_outbox, run_sceau, subset_of_sample


def backdate(database_url: str, created_at: dict[str, datetime]) -> None:
    """Set certificates' creation times behind the code's back (as time passing would)."""
    engine = make_engine(database_url)
    with engine.begin() as connection:
        for certificate_id, when in created_at.items():
            connection.execute(
                text("UPDATE certificates SET created_at = :when WHERE id = :id"),
                {"when": when, "id": certificate_id},
            )
    engine.dispose()


def test_purge_applies_access_log_and_certificate_retention(sceau_env: SceauEnv) -> None:
    results = subset_of_sample(sceau_env.root / "results.csv", 2)
    assert run_sceau(sceau_env.config_file, "issue", str(results)).returncode == 0
    old, recent = sorted(read_outbox(sceau_env.settings.mail.outbox), key=lambda m: m.receipt.leaf)
    now = datetime.now(UTC).replace(tzinfo=None)
    engine = make_engine(sceau_env.settings.database_url)
    with engine.begin() as connection:
        for days, share in ((400, "a" * 32), (10, "b" * 32)):
            connection.execute(
                text(
                    "INSERT INTO access_log (certificate_id, share_id, opened_at, client) "
                    "VALUES (:certificate, :share, :opened, 'test')"
                ),
                {
                    "certificate": recent.receipt.certificate_id,
                    "share": share,
                    "opened": now - timedelta(days=days),
                },
            )
    backdate(sceau_env.settings.database_url, {old.receipt.certificate_id: years_before(now, 11)})

    done = run_sceau(sceau_env.config_file, "purge")
    assert done.returncode == 0, done.stderr + done.stdout
    assert "1 access-log" in done.stdout and "1 certificate(s)" in done.stdout

    with engine.connect() as connection:
        left = [row[0] for row in connection.execute(text("SELECT share_id FROM access_log"))]
    engine.dispose()
    assert left == ["b" * 32]
    states = {c.id: c.state for c in certificates(sceau_env.settings.database_url)}
    assert states[old.receipt.certificate_id] == "revoked"
    assert states[recent.receipt.certificate_id] == "delivered"
    revoked = sceau_env.chain.client().revocation_of(old.receipt.leaf)
    assert revoked is not None and revoked.reason is RevocationReason.RETENTION_EXPIRED


LEAP_DAY = datetime(2028, 2, 29, 12, 0, tzinfo=UTC)


def test_years_before_a_leap_day() -> None:
    assert years_before(LEAP_DAY, 10) == datetime(2018, 2, 28, 12, 0, tzinfo=UTC)
    assert years_before(LEAP_DAY, 4) == datetime(2024, 2, 29, 12, 0, tzinfo=UTC)
    assert years_before(datetime(2027, 3, 1, tzinfo=UTC), 1) == datetime(2026, 3, 1, tzinfo=UTC)


def test_retention_and_share_expiry_on_29_february(sceau_env: SceauEnv) -> None:
    """With the clock on 29 February 2028: purge runs, shares are created, open and expire."""
    results = subset_of_sample(sceau_env.root / "results.csv", 2)
    assert run_sceau(sceau_env.config_file, "issue", str(results)).returncode == 0
    old, recent = sorted(read_outbox(sceau_env.settings.mail.outbox), key=lambda m: m.receipt.leaf)
    backdate(
        sceau_env.settings.database_url,
        {
            old.receipt.certificate_id: datetime(2018, 2, 27),
            recent.receipt.certificate_id: datetime(2018, 3, 1),
        },
    )
    outcome = purge(
        compose.revocations(sceau_env.settings),
        now=LEAP_DAY,
        access_log_days=365,
        certificate_years=10,
    )
    assert outcome.certificates_expired == 1
    states = {c.id: c.state for c in certificates(sceau_env.settings.database_url)}
    assert states[old.receipt.certificate_id] == "revoked"
    assert states[recent.receipt.certificate_id] == "delivered"

    engine = compose.database(sceau_env.settings)
    blobs = compose.blob_store(sceau_env.settings)
    share, key = create_share(
        engine,
        certificate_id=recent.receipt.certificate_id,
        candidate_key=LinkKey.from_token(_link_key(recent.text)),
        recipient="Employeur",
        expires_at=datetime(2029, 2, 28, 12, 0, tzinfo=UTC),  # 365 days after 29 February
        max_opens=None,
        now=LEAP_DAY,
    )
    opened = open_share(
        engine,
        blobs,
        share_id=share.id,
        share_key=key,
        now=datetime(2029, 2, 28, 11, 59, tzinfo=UTC),
        client="test",
    )
    assert opened.pdf.startswith(b"%PDF")
    try:
        open_share(
            engine,
            blobs,
            share_id=share.id,
            share_key=key,
            now=datetime(2029, 3, 1, tzinfo=UTC),
            client="test",
        )
    except ShareExpired:
        pass
    else:
        raise AssertionError("a share past its expiry opened")


def _link_key(message_text: str) -> str:
    found = re.search(r"/me/[0-9a-f]{32}#([A-Za-z0-9_-]+)", message_text)
    assert found, "no private link in the message"
    return found.group(1)
