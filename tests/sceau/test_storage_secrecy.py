"""The server alone cannot read a stored certificate: blobs + database give nothing back."""

from __future__ import annotations

import base64
import re
from pathlib import Path

from sqlmodel import Session, select

from offchain_store.blobs import FilesystemBlobStore
from offchain_store.crypto import DataKey, LinkKey, decrypt_document, unwrap_data_key
from offchain_store.errors import DecryptionFailed
from offchain_store.records import CertificateState, KeyWrapRecord, WrapKind, make_engine
from tests.conftest import SceauEnv
from tests.sceau.helpers import (
    SAMPLE,
    certificates,
    read_outbox,
    run_module,
    run_sceau,
    subset_of_sample,
)


def candidate_secrets(files: list[Path]) -> set[bytes]:
    """Every 32-byte value the database files could hold: raw windows, hex and base64url runs."""
    found: set[bytes] = set()
    for path in files:
        raw = path.read_bytes()
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
    done = run_sceau(sceau_env.config_file, "issue", str(SAMPLE))
    assert done.returncode == 0, done.stderr
    delivered = {d.receipt.certificate_id: d for d in read_outbox(sceau_env.settings.mail.outbox)}
    records = certificates(sceau_env.settings.database_url)
    store = FilesystemBlobStore(Path(sceau_env.settings.blob_store_url.removeprefix("file://")))

    for record in records:
        blob = store.get(record.id)
        pdf = delivered[record.id].pdf
        assert b"%PDF" not in blob and pdf[1000:1064] not in blob
        assert len(blob) >= len(pdf)  # encrypted, not a digest or an excerpt

    db_path = Path(sceau_env.settings.database_url.removeprefix("sqlite:///"))
    files = [p for p in db_path.parent.glob(db_path.name + "*") if p.is_file()]
    secrets = candidate_secrets(files)
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
        "tests.sceau.crash_runner", str(sceau_env.config_file), str(results), "after_store", "3"
    )
    assert killed.returncode == 137, killed.stderr
    records = certificates(sceau_env.settings.database_url)
    assert {r.state for r in records} == {CertificateState.IMPORTED, CertificateState.STORED}

    db_path = Path(sceau_env.settings.database_url.removeprefix("sqlite:///"))
    db_files = [p for p in db_path.parent.glob(db_path.name + "*") if p.is_file()]
    raw = b"".join(p.read_bytes() for p in db_files)
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
    assert opened_by_any(wrap.wrapped, candidate_secrets(list(db_files)), cert_bytes) == 0
