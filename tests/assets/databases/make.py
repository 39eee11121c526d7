"""Make before_alembic.sqlite: a database made by the Sceau of the commit before migrations.

Run it with that commit's code first on the path, so that its own `create_schema` (create_all
plus the hand-written column adder) makes the schema:

    rm -rf /tmp/old && mkdir /tmp/old && git archive f05f9ee | tar -x -C /tmp/old
    PYTHONPATH=/tmp/old .venv/bin/python tests/assets/databases/make.py \\
        tests/assets/databases/before_alembic.sqlite

The rows (an issuer, a batch, certificates, key wraps, a share and its opening, a revocation
request, an issuer key, an admin token, audit entries) are what test_migrations finds again.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import Session

from offchain_store import audit
from offchain_store.records import (
    AccessLogRecord,
    BatchRecord,
    BatchState,
    CertificateRecord,
    CertificateState,
    IssuerKeyRecord,
    IssuerRecord,
    KeyKind,
    KeyWrapRecord,
    RequestKind,
    RevocationRequestRecord,
    ShareRecord,
    WrapKind,
    create_schema,
    make_engine,
)
from offchain_store.tokens import AdminRole, create_token

AT = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
ISSUER = "centre-avant"
BATCH = "b" * 32
DELIVERED, REVOKED = "c1" * 16, "c2" * 16
SHARE = "5" * 32


def main(target: Path) -> None:
    if target.exists():
        target.unlink()
    engine = make_engine(f"sqlite:///{target}")
    create_schema(engine)
    with Session(engine) as session:
        # No ORM relationships: the unit of work does not order inserts by foreign key.
        session.add(IssuerRecord(id=ISSUER, name="Centre d'examens d'avant", created_at=AT))
        session.commit()
        session.add(_batch())
        session.commit()
        session.add(_certificate(DELIVERED, "R-1", CertificateState.DELIVERED))
        session.add(_certificate(REVOKED, "R-2", CertificateState.REVOKED))
        session.commit()
        session.add(_wrap(WrapKind.CANDIDATE, None, b"\x00candidate wrap\xff"))
        session.add(_wrap(WrapKind.SHARE, SHARE, b"\x01share wrap\xfe"))
        session.add(_share())
        session.add(
            AccessLogRecord(
                certificate_id=DELIVERED, share_id=SHARE, opened_at=AT, client="Firefox"
            )
        )
        session.add(_revocation_request())
        session.add(
            IssuerKeyRecord(
                issuer_id=ISSUER, kind=KeyKind.ANCHORING, value="0x" + "ab" * 20, valid_from=AT
            )
        )
        session.commit()
    token, _secret = create_token(engine, name="avant", role=AdminRole.REVOKER, now=AT)
    for n, action in enumerate(("token.created", "certificate.revoked")):
        audit.append(
            engine, actor="cli:avant", action=action, subject=token.id, now=AT + timedelta(n)
        )
    engine.dispose()
    # One file, no WAL beside it: checkpointed into the database and switched off.
    import sqlite3

    with sqlite3.connect(target) as connection:
        connection.execute("PRAGMA journal_mode=DELETE")
    print(f"wrote {target}")


def _batch() -> BatchRecord:
    return BatchRecord(
        id=BATCH,
        issuer_id=ISSUER,
        source_name="résultats.csv",
        source_sha256="0" * 64,
        state=BatchState.DELIVERED,
        created_at=AT,
        root="0x" + "11" * 32,
        chain_id=31337,
        contract_address="0x" + "22" * 20,
        tx_hash="0x" + "33" * 32,
        raw_tx=b"\x02raw anchor tx",
        tx_nonce=7,
        anchor_attempts=1,
        block_number=42,
        anchored_at=AT,
        anchored_by="0x" + "ab" * 20,
    )


def _certificate(certificate_id: str, result_id: str, state: CertificateState) -> CertificateRecord:
    return CertificateRecord(
        id=certificate_id,
        issuer_id=ISSUER,
        result_id=result_id,
        batch_id=BATCH,
        state=state,
        source_line=2 if result_id == "R-1" else 3,
        language="fr",
        candidate_email="zoe@example.test" if state == CertificateState.DELIVERED else None,
        pdf_sha256="44" * 32,
        salt="55" * 32 if state == CertificateState.DELIVERED else None,
        leaf="0x" + ("66" if state == CertificateState.DELIVERED else "77") * 32,
        proof='["0x' + "88" * 32 + '"]',
        created_at=AT,
        stored_at=AT,
        delivered_at=AT,
        revoked_at=AT if state == CertificateState.REVOKED else None,
        revocation_reason="issuer_error" if state == CertificateState.REVOKED else None,
    )


def _wrap(kind: WrapKind, share_id: str | None, wrapped: bytes) -> KeyWrapRecord:
    return KeyWrapRecord(
        certificate_id=DELIVERED, kind=kind, share_id=share_id, wrapped=wrapped, created_at=AT
    )


def _share() -> ShareRecord:
    return ShareRecord(
        id=SHARE,
        certificate_id=DELIVERED,
        recipient="Employeur SARL",
        created_at=AT,
        expires_at=AT + timedelta(days=30),
        max_opens=3,
        opens=1,
    )


def _revocation_request() -> RevocationRequestRecord:
    return RevocationRequestRecord(
        id="r" * 32,
        certificate_id=REVOKED,
        kind=RequestKind.REVOCATION,
        category="issuer_error",
        requested_by="cli:avant",
        created_at=AT,
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]))
