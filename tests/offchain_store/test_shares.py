"""Shares on SQLite and PostgreSQL: made, listed newest first, opened and counted atomically,
refused once used up, ended for good; erasure leaves nothing in a SQLite file."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from offchain_store.blobs import InMemoryBlobStore
from offchain_store.crypto import (
    LinkKey,
    encrypt_document,
    new_data_key,
    new_link_key,
    wrap_data_key,
)
from offchain_store.erasure import forget_erased_rows
from offchain_store.records import (
    BatchRecord,
    CertificateRecord,
    CertificateState,
    IssuerRecord,
    KeyWrapRecord,
    WrapKind,
    create_schema,
    make_engine,
)
from offchain_store.shares import (
    ShareEnded,
    ShareExhausted,
    WrongLinkKey,
    create_share,
    end_share,
    list_shares,
    open_share,
)

NOW = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)
PDF = b"%PDF-1.7 a signed certificate"


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    made = make_engine(database_url)
    create_schema(made)
    yield made
    made.dispose()


def stored_certificate(engine: Engine, blobs: InMemoryBlobStore) -> tuple[str, LinkKey]:
    """A delivered certificate: its PDF encrypted in `blobs`, its data key wrapped for the
    candidate; its id and the candidate's link key."""
    cert_id, batch_id = secrets.token_hex(16), secrets.token_hex(16)
    data_key, candidate_key = new_data_key(), new_link_key()
    aad = bytes.fromhex(cert_id)
    blobs.put(cert_id, encrypt_document(PDF, data_key, associated_data=aad))
    with Session(engine) as session:
        session.add(IssuerRecord(id="centre", name="Centre", created_at=NOW))
        session.commit()
        session.add(
            BatchRecord(
                id=batch_id,
                issuer_id="centre",
                source_name="r.csv",
                source_sha256="0" * 64,
                created_at=NOW,
            )
        )
        session.commit()
        session.add(
            CertificateRecord(
                id=cert_id,
                issuer_id="centre",
                result_id="R-1",
                batch_id=batch_id,
                source_line=2,
                state=CertificateState.DELIVERED,
                salt="ab" * 32,
                created_at=NOW,
            )
        )
        session.commit()
        wrapped = wrap_data_key(data_key, candidate_key, associated_data=aad)
        session.add(
            KeyWrapRecord(
                certificate_id=cert_id, kind=WrapKind.CANDIDATE, wrapped=wrapped, created_at=NOW
            )
        )
        session.commit()
    return cert_id, candidate_key


def share(
    engine: Engine,
    cert_id: str,
    key: LinkKey,
    recipient: str,
    *,
    max_opens: int | None = None,
    now: datetime = NOW,
) -> tuple[str, LinkKey]:
    record, share_key = create_share(
        engine,
        certificate_id=cert_id,
        candidate_key=key,
        recipient=recipient,
        expires_at=NOW + timedelta(days=30),
        max_opens=max_opens,
        now=now,
    )
    return record.id, share_key


def test_shares_are_listed_newest_first_with_their_openings(engine: Engine) -> None:
    blobs = InMemoryBlobStore()
    cert_id, key = stored_certificate(engine, blobs)
    first, first_key = share(engine, cert_id, key, "Employer A")
    second, _ = share(engine, cert_id, key, "Funder B", now=NOW + timedelta(hours=1))
    opened = open_share(
        engine,
        blobs,
        share_id=first,
        share_key=first_key,
        now=NOW + timedelta(hours=2),
        client="Firefox",
    )
    assert opened.pdf == PDF
    listed = list_shares(engine, cert_id, key)
    assert [(s.id, len(log)) for s, log in listed] == [(second, 0), (first, 1)]
    assert listed[1][1][0].opened_at == NOW + timedelta(hours=2)
    assert listed[1][0].created_at == NOW  # aware UTC back from either database


def test_a_limited_share_counts_concurrent_openings_exactly(engine: Engine) -> None:
    blobs = InMemoryBlobStore()
    cert_id, key = stored_certificate(engine, blobs)
    share_id, share_key = share(engine, cert_id, key, "Employer A", max_opens=3)
    outcomes: list[str] = []

    def open_once() -> None:
        try:
            open_share(
                engine, blobs, share_id=share_id, share_key=share_key, now=NOW, client="test"
            )
            outcomes.append("opened")
        except ShareExhausted:
            outcomes.append("exhausted")

    threads = [threading.Thread(target=open_once) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["exhausted"] * 3 + ["opened"] * 3


def test_an_ended_share_no_longer_opens(engine: Engine) -> None:
    blobs = InMemoryBlobStore()
    cert_id, key = stored_certificate(engine, blobs)
    share_id, share_key = share(engine, cert_id, key, "Employer A")
    end_share(engine, certificate_id=cert_id, candidate_key=key, share_id=share_id, now=NOW)
    with pytest.raises(ShareEnded):
        open_share(engine, blobs, share_id=share_id, share_key=share_key, now=NOW, client="x")
    with pytest.raises(WrongLinkKey):
        list_shares(engine, cert_id, new_link_key())


def test_erasure_rewrites_a_sqlite_file_and_leaves_postgresql_to_itself(
    engine: Engine, tmp_path: Path
) -> None:
    blobs = InMemoryBlobStore()
    cert_id, _ = stored_certificate(engine, blobs)
    with Session(engine) as session:
        record = session.get(CertificateRecord, cert_id)
        assert record is not None
        record.salt = None
        session.add(record)
        session.commit()
    assert forget_erased_rows(engine) is True
    if engine.dialect.name == "sqlite":
        engine.dispose()
        path = Path(str(engine.url.database))
        written = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
        assert ("ab" * 32).encode() not in written
