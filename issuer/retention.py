"""Retention: access-log entries and certificates are kept only as long as configured."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlmodel import Session, col, select

from issuer.revocation import Revocations, carry_out, revoke_on_initiative
from offchain_store.records import AccessLogRecord, CertificateRecord, CertificateState


@dataclass(frozen=True)
class PurgeOutcome:
    access_entries_deleted: int
    certificates_expired: int


def years_before(moment: datetime, years: int) -> datetime:
    """The same day and time `years` earlier; 29 February falls back to 28 February."""
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:  # 29 February, into a year that has none
        return moment.replace(year=moment.year - years, day=28)


def purge(
    revocations: Revocations,
    *,
    now: datetime,
    access_log_days: int,
    certificate_years: int,
    actor: str = "system:retention",
) -> PurgeOutcome:
    """Delete old access-log entries; revoke and shred certificates past their retention
    (then the status list says so, when `revocations` carries one)."""
    with Session(revocations.engine) as session:
        result = session.execute(
            delete(AccessLogRecord).where(
                col(AccessLogRecord.opened_at) < now - timedelta(days=access_log_days)
            )
        )
        session.commit()
        deleted = int(result.rowcount)  # type: ignore[attr-defined]
        cutoff = years_before(now, certificate_years)
        expired = list(
            session.exec(
                select(CertificateRecord.id).where(
                    col(CertificateRecord.created_at) < cutoff,
                    CertificateRecord.state == CertificateState.DELIVERED,
                )
            ).all()
        )
    for certificate_id in expired:
        revoke_on_initiative(
            revocations.engine,
            certificate_id=certificate_id,
            category="retention_expired",
            note=f"retention period of {certificate_years} years ended",
            actor=actor,
            now=now,
            audit=revocations.audit,
        )
    if expired:  # the status list is signed and published again by carry_out (if composed)
        carry_out(revocations, actor=actor, now=now)
    return PurgeOutcome(access_entries_deleted=deleted, certificates_expired=len(expired))
