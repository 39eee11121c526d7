"""`sceau recover-link`: the offline recovery key gives the candidate a new link."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from offchain_store.blobs import blob_store_from_url
from offchain_store.crypto import LinkKey, decrypt_document, unwrap_data_key
from offchain_store.errors import DecryptionFailed
from offchain_store.records import KeyWrapRecord, WrapKind, make_engine
from tests.conftest import TEST_PASSPHRASE, SceauEnv
from tests.sceau.helpers import read_outbox, run_sceau, subset_of_sample


def link_token(text: str, cert_id: str) -> str:
    return text.split(f"/me/{cert_id}#")[1][:43]


def candidate_wrap(env: SceauEnv, cert_id: str) -> bytes:
    with Session(make_engine(env.settings.database_url)) as session:
        return (
            session.exec(
                select(KeyWrapRecord).where(
                    KeyWrapRecord.certificate_id == cert_id,
                    KeyWrapRecord.kind == WrapKind.CANDIDATE,
                )
            )
            .one()
            .wrapped
        )


def test_recover_link_sends_a_new_link_and_retires_the_old(sceau_env: SceauEnv) -> None:
    results = subset_of_sample(sceau_env.root / "results.csv", 2)
    assert run_sceau(sceau_env.config_file, "issue", str(results)).returncode == 0
    first = read_outbox(sceau_env.settings.mail.outbox)[0]
    cert_id = first.receipt.certificate_id
    old_token = link_token(first.text, cert_id)

    wrong = run_sceau(
        sceau_env.config_file,
        "recover-link",
        cert_id,
        "--recovery-key",
        str(sceau_env.recovery_private_key),
        extra_env={"SCEAU_RECOVERY_PASSPHRASE": "not the passphrase"},
    )
    assert wrong.returncode == 4 and "passphrase" in wrong.stderr.lower()

    done = run_sceau(
        sceau_env.config_file,
        "recover-link",
        cert_id,
        "--recovery-key",
        str(sceau_env.recovery_private_key),
        extra_env={"SCEAU_RECOVERY_PASSPHRASE": TEST_PASSPHRASE},
    )
    assert done.returncode == 0, done.stderr + done.stdout
    assert first.to.split("<")[-1].rstrip(">") in done.stdout

    messages = [
        m
        for m in read_outbox(sceau_env.settings.mail.outbox)
        if m.receipt.certificate_id == cert_id
    ]
    assert len(messages) == 2
    new = next(m for m in messages if link_token(m.text, cert_id) != old_token)
    assert new.pdf == first.pdf and new.receipt == first.receipt

    cert_bytes = bytes.fromhex(cert_id)
    wrapped = candidate_wrap(sceau_env, cert_id)
    with pytest.raises(DecryptionFailed):
        unwrap_data_key(wrapped, LinkKey.from_token(old_token), associated_data=cert_bytes)
    key = unwrap_data_key(
        wrapped, LinkKey.from_token(link_token(new.text, cert_id)), associated_data=cert_bytes
    )
    blob = blob_store_from_url(sceau_env.settings.blob_store_url).get(cert_id)
    assert decrypt_document(blob, key, associated_data=cert_bytes) == first.pdf
