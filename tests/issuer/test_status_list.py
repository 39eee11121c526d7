"""The Token Status List: the draft's bit layout and encoding, a signed `statuslist+jwt` with
the issuer's chain in `x5c`, random slots in a list that doubles, a new list only on change."""

from __future__ import annotations

import base64
import json
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from joserfc import jwt
from joserfc.jwk import ECKey
from sqlalchemy.engine import Engine
from sqlmodel import Session

from issuer.dev_pki import DevPki
from issuer.status_list import (
    MEDIA_TYPE,
    StatusListPolicy,
    StatusListPublication,
    StatusListSigner,
    TokenRegistry,
    decode_list,
    encode_list,
    pack_statuses,
    publish_status_list,
    reference_of,
    served_list,
    status_at,
    status_list_signer,
)
from offchain_store.records import (
    BatchRecord,
    CertificateRecord,
    CertificateState,
    IssuerRecord,
    create_schema,
    make_engine,
)
from offchain_store.statuses import (
    MIN_LIST_SIZE,
    SignedStatusListRecord,
    SlotStatus,
    assign_slot,
    list_row,
)

NOW = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
POLICY = StatusListPolicy(public_base_url="https://certs.example.test/", ttl_seconds=120)


def test_two_bit_entries_are_packed_least_significant_first_as_in_the_draft() -> None:
    # draft-ietf-oauth-status-list, "Status List" example with 2 bits: statuses
    # [1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3] give bytes C9 44 F9.
    example = [1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3]
    packed = bytearray(3)
    for index, value in enumerate(example):
        packed[index // 4] |= value << (2 * (index % 4))
    assert bytes(packed) == bytes.fromhex("c944f9")
    ours = pack_statuses({0: SlotStatus.REVOKED, 1: SlotStatus.SUSPENDED, 5: SlotStatus.REVOKED}, 8)
    assert ours == bytes([0b00001001, 0b00000100])
    assert [status_at(ours, i) for i in range(8)] == [1, 2, 0, 0, 0, 1, 0, 0]


def test_the_list_is_zlib_deflate_in_base64url_without_padding() -> None:
    packed = pack_statuses({3: SlotStatus.SUSPENDED}, MIN_LIST_SIZE)
    lst = encode_list(packed)
    assert "=" not in lst and "+" not in lst and "/" not in lst
    raw = base64.urlsafe_b64decode(lst + "=" * (-len(lst) % 4))
    assert raw[0] == 0x78, "a zlib stream (RFC 1950 header around RFC 1951 DEFLATE)"
    assert zlib.decompress(raw) == packed == decode_list(lst)
    assert len(packed) == MIN_LIST_SIZE // 4


def test_an_index_outside_the_list_is_refused() -> None:
    with pytest.raises(Exception, match="outside"):
        pack_statuses({8: SlotStatus.REVOKED}, 8)


def _parts(token: str) -> tuple[dict[str, object], dict[str, object]]:
    header, payload, _ = token.split(".")
    pad = lambda part: part + "=" * (-len(part) % 4)  # noqa: E731
    return (
        json.loads(base64.urlsafe_b64decode(pad(header))),
        json.loads(base64.urlsafe_b64decode(pad(payload))),
    )


def test_the_token_is_an_es256_statuslist_jwt_signed_by_the_first_x5c_certificate(
    tmp_path: Path, shared_pki: DevPki
) -> None:
    publication = _publication(tmp_path, shared_pki)
    _issue(publication.engine, 3)
    signed = publish_status_list(publication, now=NOW)
    assert signed is not None
    header, _ = _parts(signed.token)
    assert header["typ"] == "statuslist+jwt" and header["alg"] == "ES256"
    chain = [x509.load_der_x509_certificate(base64.b64decode(c)) for c in header["x5c"]]  # type: ignore[attr-defined]
    assert chain[0] == x509.load_pem_x509_certificate(shared_pki.issuer_cert.read_bytes())
    assert chain[-1] == x509.load_pem_x509_certificate(shared_pki.root_cert.read_bytes())
    key = ECKey.import_key(chain[0].public_key())  # type: ignore[arg-type]
    decoded = jwt.decode(signed.token, key, registry=TokenRegistry(algorithms=["ES256"]))
    assert decoded.claims["sub"] == "https://certs.example.test/status/test-centre"
    assert decoded.claims["iat"] == int(NOW.timestamp())
    assert decoded.claims["exp"] == int((NOW + POLICY.validity).timestamp())
    assert decoded.claims["ttl"] == 120
    assert decoded.claims["status_list"]["bits"] == 2
    assert len(decode_list(decoded.claims["status_list"]["lst"])) == MIN_LIST_SIZE // 4
    served = served_list(publication.engine, "test-centre", ttl_seconds=POLICY.ttl_seconds)
    assert served is not None and served.token == signed.token
    assert served.sha256_hex == signed.sha256.hex()
    assert MEDIA_TYPE == "application/statuslist+jwt"


def test_a_forged_list_does_not_verify_under_the_issuer_key(
    tmp_path: Path, shared_pki: DevPki
) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    forger = StatusListSigner(ec.generate_private_key(ec.SECP256R1()), [])
    publication = _publication(tmp_path, shared_pki, signer=forger)
    signed = publish_status_list(publication, now=NOW)
    assert signed is not None
    issuer_cert = x509.load_pem_x509_certificate(shared_pki.issuer_cert.read_bytes())
    with pytest.raises(Exception, match="signature"):
        key = ECKey.import_key(issuer_cert.public_key())  # type: ignore[arg-type]
        jwt.decode(signed.token, key, registry=TokenRegistry(algorithms=["ES256"]))


def test_each_certificate_gets_a_random_slot_never_the_issue_order(database_url: str) -> None:
    engine = _engine(database_url)
    ids = _issue(engine, 40)
    with Session(engine) as session:
        indices = [assign_slot(session, "test-centre", cid).idx for cid in ids]
        again = [assign_slot(session, "test-centre", cid).idx for cid in ids]
        session.commit()
    assert indices == again, "a slot, once drawn, stays"
    assert len(set(indices)) == len(indices)
    assert all(0 <= i < MIN_LIST_SIZE for i in indices)
    assert indices != sorted(indices) and max(indices) > 1000, "not sequential, spread out"


def test_the_list_doubles_before_it_is_half_full(database_url: str) -> None:
    engine = _engine(database_url)
    ids = _issue(engine, 5)
    with Session(engine) as session:
        row = list_row(session, "test-centre")
        row.size = 8  # a tiny list stands in for 131,072 entries
        indices = [assign_slot(session, "test-centre", cid).idx for cid in ids]
        session.commit()
        assert list_row(session, "test-centre").size == 16
    assert len(set(indices)) == 5 and all(0 <= i < 16 for i in indices)


def test_a_new_list_is_signed_only_when_a_status_changes(
    database_url: str, shared_pki: DevPki
) -> None:
    publication = _publication(database_url, shared_pki)
    ids = _issue(publication.engine, 4)
    first = publish_status_list(publication, now=NOW)
    assert first is not None
    assert publish_status_list(publication, now=NOW + timedelta(minutes=5)) is None
    with Session(publication.engine) as session:
        cert = session.get(CertificateRecord, ids[2])
        assert cert is not None
        cert.state = CertificateState.REVOKED
        session.commit()
    second = publish_status_list(publication, now=NOW + timedelta(minutes=6))
    assert second is not None and second.token != first.token
    packed = decode_list(_parts(second.token)[1]["status_list"]["lst"])  # type: ignore[index]
    refs = [
        reference_of(publication.engine, POLICY, issuer_id="test-centre", certificate_id=cid)
        for cid in ids
    ]
    assert [status_at(packed, r.idx) for r in refs] == [0, 0, 1, 0]
    assert refs[0].uri == "https://certs.example.test/status/test-centre"
    with Session(publication.engine) as session:
        row = session.get(SignedStatusListRecord, "test-centre")
        assert row is not None and row.version == 2


def test_a_list_near_its_expiry_is_signed_again(tmp_path: Path, shared_pki: DevPki) -> None:
    publication = _publication(tmp_path, shared_pki)
    _issue(publication.engine, 1)
    assert publish_status_list(publication, now=NOW) is not None
    late = NOW + POLICY.validity - POLICY.renew_before + timedelta(seconds=1)
    assert publish_status_list(publication, now=late) is not None


# --- set-up -------------------------------------------------------------------------------------


def _engine(where: Path | str) -> Engine:
    """A database with one issuer and one batch: a SQLite file in the folder `where`, or the
    database at the URL `where` (the `database_url` fixture: SQLite, then PostgreSQL)."""
    engine = make_engine(where if isinstance(where, str) else f"sqlite:///{where / 'sceau.db'}")
    create_schema(engine)
    with Session(engine) as session:
        session.add(IssuerRecord(id="test-centre", name="Centre de test"))
        session.commit()
        session.add(
            BatchRecord(id="b1", issuer_id="test-centre", source_name="t.csv", source_sha256="0")
        )
        session.commit()
    return engine


def _issue(engine: Engine, count: int) -> list[str]:
    """`count` delivered certificates (as far as statuses go: an id and a leaf)."""
    ids = []
    with Session(engine) as session:
        for n in range(count):
            cid = f"{n:032x}"
            session.add(
                CertificateRecord(
                    id=cid,
                    issuer_id="test-centre",
                    result_id=f"R{n}",
                    batch_id="b1",
                    source_line=n + 2,
                    state=CertificateState.DELIVERED,
                    leaf="0x" + f"{n + 1:064x}",
                )
            )
            ids.append(cid)
        session.commit()
    return ids


def _publication(
    where: Path | str, pki: DevPki, *, signer: StatusListSigner | None = None
) -> StatusListPublication:
    engine = _engine(where)
    return StatusListPublication(
        engine=engine,
        issuer_id="test-centre",
        signer=signer or status_list_signer(pki.identity),
        policy=POLICY,
    )
