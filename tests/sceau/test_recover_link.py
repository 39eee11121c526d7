"""`sceau recover-link`: the offline recovery key gives the candidate a new link."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from sqlmodel import Session, select

from issuer.delivery_pack import confirm_handover, pack_path, pending_packs
from issuer.recovery import recover_link
from offchain_store.blobs import blob_store_from_url
from offchain_store.crypto import (
    LinkKey,
    decrypt_document,
    load_recovery_private_key,
    unwrap_data_key,
)
from offchain_store.errors import DecryptionFailed
from offchain_store.records import KeyWrapRecord, WrapKind, make_engine
from sceau import compose
from sceau.delivery_commands import delivery_packs
from tests.conftest import TEST_PASSPHRASE, SceauEnv
from tests.sceau.helpers import read_outbox, run_sceau, subset_of_sample
from tests.sceau.test_delivery_pack import letters_in, results_without_email
from tests.sceau.test_erasure import with_letters_dir


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


def test_a_lost_letter_is_replaced_by_a_new_letter_in_its_pack(sceau_env: SceauEnv) -> None:
    env = with_letters_dir(sceau_env)
    results = results_without_email(env.root / "results.csv", 2)
    assert run_sceau(env.config_file, "issue", str(results)).returncode == 0
    wired = compose.recovery(env.settings)  # one engine for the whole test (see compose.database)
    packs = delivery_packs(env.settings, engine=wired.engine)
    [pack] = pending_packs(packs)
    path = pack_path(env.settings.letters_dir, pack.pack_id)
    (cert_id, old_token), _ = sorted(letters_in(path).items())
    confirm_handover(packs, pack.pack_id, actor="test", now=datetime.now(UTC))

    if wired.packs is None:  # the CLI cannot print letters yet
        refused = run_sceau(
            env.config_file,
            "recover-link",
            cert_id,
            "--recovery-key",
            str(env.recovery_private_key),
            extra_env={"SCEAU_RECOVERY_PASSPHRASE": TEST_PASSPHRASE},
        )
        assert refused.returncode == 5 and "delivered by letter" in refused.stderr
    recovery = dataclasses.replace(wired, packs=packs)
    key = load_recovery_private_key(env.recovery_private_key, TEST_PASSPHRASE)
    where = recover_link(recovery, cert_id, key)
    assert pack.pack_id in where and list(env.settings.mail.outbox.glob("*.eml")) == []

    [new_token] = letters_in(path).values()  # only the replacement waits in the pack
    cert_bytes = bytes.fromhex(cert_id)
    wrapped = candidate_wrap(env, cert_id)
    with pytest.raises(DecryptionFailed):
        unwrap_data_key(wrapped, LinkKey.from_token(old_token), associated_data=cert_bytes)
    data_key = unwrap_data_key(wrapped, LinkKey.from_token(new_token), associated_data=cert_bytes)
    blob = blob_store_from_url(env.settings.blob_store_url).get(cert_id)
    assert decrypt_document(blob, data_key, associated_data=cert_bytes).startswith(b"%PDF")
    assert confirm_handover(packs, pack.pack_id, actor="test", now=datetime.now(UTC)) == 1
    assert not path.exists()
