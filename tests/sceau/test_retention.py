"""`sceau purge`: old access-log entries go; certificates past retention are revoked."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from contracts.client import RevocationReason
from tests.conftest import SceauEnv
from tests.sceau.helpers import certificates, read_outbox, run_sceau, subset_of_sample


def test_purge_applies_access_log_and_certificate_retention(sceau_env: SceauEnv) -> None:
    results = subset_of_sample(sceau_env.root / "results.csv", 2)
    assert run_sceau(sceau_env.config_file, "issue", str(results)).returncode == 0
    old, recent = sorted(read_outbox(sceau_env.settings.mail.outbox), key=lambda m: m.receipt.leaf)
    db = Path(sceau_env.settings.database_url.removeprefix("sqlite:///"))
    now = datetime.now(UTC).replace(tzinfo=None)
    with sqlite3.connect(db) as conn:
        for days, share in ((400, "a" * 32), (10, "b" * 32)):
            conn.execute(
                "INSERT INTO access_log (certificate_id, share_id, opened_at, client) "
                "VALUES (?, ?, ?, 'test')",
                (recent.receipt.certificate_id, share, now - timedelta(days=days)),
            )
        conn.execute(
            "UPDATE certificates SET created_at = ? WHERE id = ?",
            (now.replace(year=now.year - 11), old.receipt.certificate_id),
        )

    done = run_sceau(sceau_env.config_file, "purge")
    assert done.returncode == 0, done.stderr + done.stdout
    assert "1 access-log" in done.stdout and "1 certificate(s)" in done.stdout

    with sqlite3.connect(db) as conn:
        left = [row[0] for row in conn.execute("SELECT share_id FROM access_log")]
    assert left == ["b" * 32]
    states = {c.id: c.state for c in certificates(sceau_env.settings.database_url)}
    assert states[old.receipt.certificate_id] == "revoked"
    assert states[recent.receipt.certificate_id] == "delivered"
    revoked = sceau_env.chain.client().revocation_of(old.receipt.leaf)
    assert revoked is not None and revoked.reason is RevocationReason.RETENTION_EXPIRED
