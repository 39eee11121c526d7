"""The issuer's key history (signing certificates, anchoring addresses) and its public profile."""

from __future__ import annotations

from datetime import UTC, datetime

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from contracts.profile import AnchoringAddress, IssuerProfile, SigningCertificate
from offchain_store.records import IssuerKeyRecord, KeyKind


def certificate_pem(der: bytes) -> str:
    """PEM text of a DER certificate."""
    return x509.load_der_x509_certificate(der).public_bytes(Encoding.PEM).decode()


def register_keys_in_use(
    engine: Engine, issuer_id: str, *, signing_pem: str, anchoring_address: str, now: datetime
) -> None:
    """Record the keys issuance is about to use; a changed key closes the previous period."""
    with Session(engine) as session:
        _register(session, issuer_id, KeyKind.SIGNING, signing_pem.strip(), now)
        _register(session, issuer_id, KeyKind.ANCHORING, anchoring_address, now)
        session.commit()


def _register(session: Session, issuer_id: str, kind: KeyKind, value: str, now: datetime) -> None:
    query = select(IssuerKeyRecord).where(
        IssuerKeyRecord.issuer_id == issuer_id,
        IssuerKeyRecord.kind == kind,
        col(IssuerKeyRecord.valid_until).is_(None),
    )
    open_periods = list(session.exec(query).all())
    if any(_same(kind, record.value, value) for record in open_periods):
        return
    for record in open_periods:
        record.valid_until = now
    session.add(IssuerKeyRecord(issuer_id=issuer_id, kind=kind, value=value, valid_from=now))


def _same(kind: KeyKind, a: str, b: str) -> bool:
    return a.lower() == b.lower() if kind is KeyKind.ANCHORING else a.strip() == b.strip()


def issuer_profile(
    engine: Engine,
    issuer_id: str,
    *,
    name: str,
    public_base_url: str,
    chain_id: int,
    contract: str,
    trust_root_pems: tuple[str, ...],
) -> IssuerProfile:
    """The public profile: every signing certificate and anchoring address with its period."""
    with Session(engine) as session:
        query = select(IssuerKeyRecord).where(IssuerKeyRecord.issuer_id == issuer_id)
        records = sorted(session.exec(query).all(), key=lambda r: _utc(r.valid_from))
    return IssuerProfile(
        name=name,
        public_base_url=public_base_url,
        chain_id=chain_id,
        contract=contract,
        anchoring_addresses=tuple(
            AnchoringAddress(address=r.value, valid_from=start, valid_until=end)
            for r in records
            if r.kind == KeyKind.ANCHORING
            for start, end in [_period(r)]
        ),
        signing_certificates=tuple(
            SigningCertificate(pem=r.value, valid_from=start, valid_until=end)
            for r in records
            if r.kind == KeyKind.SIGNING
            for start, end in [_period(r)]
        ),
        trust_roots=trust_root_pems,
    )


def _period(record: IssuerKeyRecord) -> tuple[datetime, datetime | None]:
    until = _utc(record.valid_until) if record.valid_until else None
    return _utc(record.valid_from), until


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
