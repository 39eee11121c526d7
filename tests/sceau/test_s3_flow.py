"""The whole flow with certificates in S3: issue, share, verify, revoke, on a real S3 server."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from offchain_store.wallet_offers import CLAIMS_BLOB_SUFFIX as CLAIMS
from sceau.settings import load_settings
from sceau.web.app import create_app
from tests.conftest import SceauEnv
from tests.s3_server import S3_ENVIRONMENT, S3Server
from tests.sceau.helpers import read_outbox, run_sceau, subset_of_sample

PREFIX = "prod/certificates"


def _on_s3(env: SceauEnv, store_url: str) -> None:
    """Point the environment's settings file at the S3 store instead of its folder."""
    text = env.config_file.read_text()
    replaced, count = re.subn(
        r"^blob_store_url = .*$", f'blob_store_url = "{store_url}"', text, flags=re.M
    )
    assert count == 1
    env.config_file.write_text(replaced)


def test_issue_share_verify_revoke_with_certificates_in_s3(
    sceau_env: SceauEnv, s3_server: S3Server, s3_credentials: dict[str, str]
) -> None:
    bucket = s3_server.new_bucket(versioned=True)  # a delete must also remove old versions
    _on_s3(sceau_env, s3_server.store_url(bucket, PREFIX))
    settings = load_settings(sceau_env.config_file)
    results = subset_of_sample(sceau_env.root / "results.csv", 3)

    issued = run_sceau(sceau_env.config_file, "issue", str(results), extra_env=S3_ENVIRONMENT)
    assert issued.returncode == 0, issued.stdout + issued.stderr
    messages = read_outbox(settings.mail.outbox)
    ids = sorted(m.receipt.certificate_id for m in messages)
    assert len(ids) == 3
    stored = [key for key, _ in s3_server.everything_in(bucket)]
    assert stored == sorted(f"{PREFIX}/{i}{part}" for i in ids for part in ("", CLAIMS))
    assert not (sceau_env.root / "blobs").exists()  # nothing went to the local folder

    message = messages[0]
    cert_id = message.receipt.certificate_id
    key = message.text.replace("=\n", "").split(f"/me/{cert_id}#")[1][:43]
    with TestClient(create_app(settings)) as api:
        created = api.post(
            f"/api/v1/me/{cert_id}/shares", json={"key": key, "recipient": "Employer A"}
        )
        assert created.status_code == 201, created.text
        share_id, share_key = created.json()["link"].split("/s/")[1].split("#")
        opened = api.post(f"/api/v1/shares/{share_id}/open", json={"key": share_key}).json()
        assert opened["report"]["verdict"] == "VALID", opened
        assert opened["pdf_base64"]

        revoked = run_sceau(
            sceau_env.config_file,
            "revoke",
            cert_id,
            "--reason",
            "issuer_error",
            "--note",
            "wrong level printed",
            extra_env=S3_ENVIRONMENT,
        )
        assert revoked.returncode == 0, revoked.stdout + revoked.stderr

        left = [key for key, _ in s3_server.everything_in(bucket)]
        kept = sorted(f"{PREFIX}/{i}{part}" for i in ids if i != cert_id for part in ("", CLAIMS))
        assert left == kept  # of the revoked one: no PDF, no claims, no version, no marker
        after = api.post(f"/api/v1/shares/{share_id}/open", json={"key": share_key}).json()
        assert after["report"]["verdict"] == "REVOKED", after
        assert after["pdf_base64"] is None
