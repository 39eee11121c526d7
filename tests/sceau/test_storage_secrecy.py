"""The server alone cannot read a stored certificate: blobs + database give nothing back."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import Session, select

from issuer.delivery_pack import confirm_handover, pack_path, pending_packs
from offchain_store.blobs import FilesystemBlobStore
from offchain_store.crypto import DataKey, LinkKey, decrypt_document, unwrap_data_key
from offchain_store.errors import DecryptionFailed
from offchain_store.records import CertificateState, KeyWrapRecord, WrapKind, make_engine
from offchain_store.shares import open_as_candidate
from offchain_store.staging import StagingVault
from sceau.delivery_commands import delivery_packs
from tests.conftest import SceauEnv
from tests.sceau.helpers import (
    certificates,
    database_contents,
    read_outbox,
    run_module,
    run_sceau,
    subset_of_sample,
)
from tests.sceau.test_delivery_pack import letters_in, results_without_email
from tests.sceau.test_erasure import with_letters_dir


def candidate_secrets(contents: list[bytes]) -> set[bytes]:
    """Every 32-byte value the database could hold: raw windows, hex and base64url runs."""
    found: set[bytes] = set()
    for raw in contents:
        found.update(raw[i : i + 32] for i in range(len(raw) - 31))
        for run in re.findall(rb"[0-9a-fA-F]{64}", raw):
            found.add(bytes.fromhex(run.decode()))
        for run in re.findall(rb"[A-Za-z0-9_-]{43}", raw):
            found.add(base64.urlsafe_b64decode(run + b"="))
    return found


def opened_by_any(wrapped: bytes, secrets: set[bytes], cert_bytes: bytes) -> int:
    """How many of `secrets`, taken as a link key, open the wrap (0 expected)."""
    opened = 0
    for value in secrets:
        try:
            unwrap_data_key(wrapped, LinkKey(value), associated_data=cert_bytes)
            opened += 1
        except DecryptionFailed:
            pass
    return opened


def test_ciphertext_and_database_without_keys_give_back_no_pdf(sceau_env: SceauEnv) -> None:
    # A few rows: every 32-byte window of the database is tried as a key, and what is looked
    # for (any key at all) does not grow with the batch.
    results = subset_of_sample(sceau_env.root / "results.csv", 4)
    done = run_sceau(sceau_env.config_file, "issue", str(results))
    assert done.returncode == 0, done.stderr
    delivered = {d.receipt.certificate_id: d for d in read_outbox(sceau_env.settings.mail.outbox)}
    records = certificates(sceau_env.settings.database_url)
    store = FilesystemBlobStore(Path(sceau_env.settings.blob_store_url.removeprefix("file://")))

    for record in records:
        blob = store.get(record.id)
        pdf = delivered[record.id].pdf
        assert b"%PDF" not in blob and pdf[1000:1064] not in blob
        assert len(blob) >= len(pdf)  # encrypted, not a digest or an excerpt

    contents = database_contents(sceau_env.settings.database_url)
    secrets = candidate_secrets(contents)
    assert len(secrets) > 1000  # the search is real

    target = records[0]
    engine = make_engine(sceau_env.settings.database_url)
    with Session(engine) as session:
        wrap = session.exec(
            select(KeyWrapRecord).where(
                KeyWrapRecord.certificate_id == target.id, KeyWrapRecord.kind == WrapKind.CANDIDATE
            )
        ).one()
    cert_bytes = bytes.fromhex(target.id)
    assert opened_by_any(wrap.wrapped, secrets, cert_bytes) == 0
    staging = StagingVault(sceau_env.settings.staging_secret.get_secret_value())
    runs = sealed_runs(contents, staging)
    for record in records:  # nor does the staging secret find a stale sealed link key
        assert opened_by_staging(staging, runs, record.id) == 0

    blob = store.get(target.id)
    column_values = {bytes.fromhex(v[2:]) for r in records for v in (r.salt, r.leaf) if v}
    column_values |= {bytes.fromhex(r.pdf_sha256) for r in records if r.pdf_sha256}
    for value in column_values:
        try:
            decrypt_document(blob, DataKey(value), associated_data=cert_bytes)
            raise AssertionError("a database value opened the certificate")
        except DecryptionFailed:
            pass

    # And the candidate's own link does open it: the test above could have succeeded.
    token = delivered[target.id].text.replace("=\n", "").split(f"/me/{target.id}#")[1][:43]
    key = unwrap_data_key(wrap.wrapped, LinkKey.from_token(token), associated_data=cert_bytes)
    assert decrypt_document(blob, key, associated_data=cert_bytes) == delivered[target.id].pdf


def test_interrupted_issuance_keeps_no_readable_content_or_key(sceau_env: SceauEnv) -> None:
    results = subset_of_sample(sceau_env.root / "results.csv", 4)
    killed = run_module(
        "tests.sceau.crash_runner",
        str(sceau_env.config_file),
        str(results),
        "after_store",
        "1",
        "2",  # two certificates per commit: killed after the first, two stored and two not
    )
    assert killed.returncode == 137, killed.stderr
    records = certificates(sceau_env.settings.database_url)
    assert {r.state for r in records} == {CertificateState.IMPORTED, CertificateState.STORED}

    contents = database_contents(sceau_env.settings.database_url)
    raw = b"".join(contents)
    for line in results.read_text().splitlines()[1:]:
        name = line.split(",")[1]
        assert name.encode() not in raw, "a candidate name is readable in the database"

    stored = next(r for r in records if r.state == CertificateState.STORED)
    cert_bytes = bytes.fromhex(stored.id)
    engine = make_engine(sceau_env.settings.database_url)
    with Session(engine) as session:
        wrap = session.exec(
            select(KeyWrapRecord).where(
                KeyWrapRecord.certificate_id == stored.id, KeyWrapRecord.kind == WrapKind.CANDIDATE
            )
        ).one()
    assert opened_by_any(wrap.wrapped, candidate_secrets(contents), cert_bytes) == 0


def sealed_runs(contents: list[bytes], staging: StagingVault) -> set[str]:
    """Every stretch of standard base64 as long as a sealed link key (the staging vault's form),
    wherever it starts: in a row, columns touch, so runs of several values are cut every way."""
    size = len(staging.seal("k" * 43, record_id="0" * 32, field="link"))
    found: set[str] = set()
    for raw in contents:
        for run in re.findall(rb"[A-Za-z0-9+/=]{%d,}" % size, raw):
            found.update(run[i : i + size].decode() for i in range(len(run) - size + 1))
    return found


def opened_by_staging(staging: StagingVault, runs: set[str], cert_id: str) -> int:
    """How many sealed runs the staging secret opens as this certificate's link key."""
    opened = 0
    for run in runs:
        try:
            staging.open(run, record_id=cert_id, field="link")
            opened += 1
        except (DecryptionFailed, ValueError):
            pass
    return opened


def test_letters_open_their_certificates_then_after_hand_over_nothing_kept_does(
    sceau_env: SceauEnv,
) -> None:
    env = with_letters_dir(sceau_env)
    results = results_without_email(env.root / "results.csv", 3)
    assert run_sceau(env.config_file, "issue", str(results)).returncode == 0
    packs = delivery_packs(env.settings)
    [pack] = pending_packs(packs)
    letters = letters_in(pack_path(env.settings.letters_dir, pack.pack_id))
    assert len(letters) == 3
    engine = make_engine(env.settings.database_url)
    store = FilesystemBlobStore(Path(env.settings.blob_store_url.removeprefix("file://")))
    staging = StagingVault(env.settings.staging_secret.get_secret_value())
    wraps = {}
    with Session(engine) as session:
        for cert_id in letters:
            wraps[cert_id] = session.exec(
                select(KeyWrapRecord).where(
                    KeyWrapRecord.certificate_id == cert_id,
                    KeyWrapRecord.kind == WrapKind.CANDIDATE,
                )
            ).one()
    pdfs = {}
    for cert_id, token in letters.items():  # before: each letter's link is a working one
        pdfs[cert_id] = open_as_candidate(engine, store, cert_id, LinkKey.from_token(token)).pdf
        assert pdfs[cert_id].startswith(b"%PDF")
    before = sealed_runs(database_contents(env.settings.database_url), staging)
    assert all(opened_by_staging(staging, before, c) >= 1 for c in letters)

    assert confirm_handover(packs, pack.pack_id, actor="test", now=datetime.now(UTC)) == 3

    in_database = database_contents(env.settings.database_url)
    on_disk = [p.read_bytes() for p in env.root.rglob("*") if p.is_file()]  # SQLite's files too
    secrets = candidate_secrets(in_database + on_disk)
    assert len(secrets) > 1000  # the search is real
    runs = sealed_runs(in_database, staging)
    assert len(runs) > 0
    for cert_id, token in letters.items():
        cert_bytes = bytes.fromhex(cert_id)
        assert opened_by_any(wraps[cert_id].wrapped, secrets, cert_bytes) == 0
        assert opened_by_staging(staging, runs, cert_id) == 0
        # and the letter the candidate holds still opens it: the search could have succeeded
        opened = open_as_candidate(engine, store, cert_id, LinkKey.from_token(token))
        assert opened.pdf == pdfs[cert_id]
