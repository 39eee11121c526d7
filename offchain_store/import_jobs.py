"""Import jobs started from the admin pages, kept in the database so that any server answers.

A job's row holds its progress and its findings (rejected rows, repeats, ignored columns);
the process running it beats its `beat_at` so that another one can tell it died.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, DateTime, Text, delete, update
from sqlalchemy.engine import Engine
from sqlmodel import Field, Session, SQLModel, col, select


class ImportJobRecord(SQLModel, table=True):
    """One import of a results file through the admin pages."""

    __tablename__ = "import_jobs"

    id: str = Field(primary_key=True)  # 128-bit random, hex
    issuer_id: str = Field(index=True)
    source_name: str
    phase: str = "queued"
    done: int = 0
    total: int = 0
    batch: int = 0
    batches: int = 0
    issued: int = 0
    skipped: int = 0
    resumed: int = 0
    finished: bool = False
    error_kind: str = ""
    error_detail: str = ""
    # JSON: {"rejected": [...], "repeats": [...], "ignored_columns": [...]}
    findings: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    started_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    beat_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    finished_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )


def utc(value: datetime) -> datetime:
    """SQLite gives back naive datetimes; every time here is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def add_job(engine: Engine, record: ImportJobRecord) -> None:
    with Session(engine, expire_on_commit=False) as session:  # the caller reads it back
        session.add(record)
        session.commit()


def change_job(engine: Engine, job_id: str, values: dict[str, Any]) -> None:
    """Set some columns of one job, in one statement."""
    with Session(engine) as session:
        session.execute(
            update(ImportJobRecord).where(col(ImportJobRecord.id) == job_id).values(**values)
        )
        session.commit()


def job_record(engine: Engine, job_id: str) -> ImportJobRecord | None:
    with Session(engine) as session:
        record = session.get(ImportJobRecord, job_id)
        if record is not None:
            session.expunge(record)
    return record


def recent_job_records(engine: Engine, *, issuer_id: str, limit: int) -> Sequence[ImportJobRecord]:
    """The latest jobs of an issuer, newest first."""
    with Session(engine) as session:
        query = (
            select(ImportJobRecord)
            .where(ImportJobRecord.issuer_id == issuer_id)
            .order_by(col(ImportJobRecord.started_at).desc())
            .limit(limit)
        )
        found = list(session.exec(query).all())
        session.expunge_all()
    return found


def forget_finished_jobs(engine: Engine, *, issuer_id: str, keep: int) -> int:
    """Delete finished jobs beyond the `keep` latest; returns how many went."""
    with Session(engine) as session:
        kept = (
            select(ImportJobRecord.id)
            .where(ImportJobRecord.issuer_id == issuer_id, col(ImportJobRecord.finished))
            .order_by(col(ImportJobRecord.started_at).desc())
            .limit(keep)
        )
        gone = session.execute(
            delete(ImportJobRecord).where(
                col(ImportJobRecord.issuer_id) == issuer_id,
                col(ImportJobRecord.finished),
                col(ImportJobRecord.id).not_in(kept.scalar_subquery()),
            )
        )
        session.commit()
    return int(getattr(gone, "rowcount", 0) or 0)
