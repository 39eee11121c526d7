"""Issuance, end to end: stage → sign and store → seal → anchor → deliver.

Each step reads and writes durable state, so a run killed anywhere is finished by the
next run (`resume`): nothing is lost, nothing is issued twice, and an anchor transaction
is signed and saved before it is sent, so it is never sent twice for the same root.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Protocol

from nacl.public import PublicKey
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from contracts.client import AnchorRecord, PreparedTransaction, TxOutcome, TxState
from issuer.content import IssuerBranding
from issuer.delivery import Mailer
from issuer.design import Design
from issuer.errors import IssuanceError
from issuer.intake import IntakeReport
from issuer.signing import SigningIdentity
from offchain_store.blobs import BlobStore
from offchain_store.crypto import LinkKey
from offchain_store.records import (
    BatchRecord,
    BatchState,
    CertificateRecord,
    CertificateState,
    ensure_issuer,
    hashed_result_id,
)
from offchain_store.staging import StagingVault


class Progress(Protocol):
    """Where long work reports how far it got (a rich progress bar in the CLI)."""

    def start(self, phase: str, total: int) -> None: ...
    def advance(self, phase: str, amount: int = 1) -> None: ...


class SilentProgress:
    def start(self, phase: str, total: int) -> None:
        pass

    def advance(self, phase: str, amount: int = 1) -> None:
        pass


FaultHook = Callable[[str], None]  # called at named points; tests use it to kill the process


def _no_fault(_point: str) -> None:
    return None


@dataclass(frozen=True, kw_only=True)
class Issuance:
    """The collaborators of one issuer's issuance, built once from the settings."""

    engine: Engine
    blobs: BlobStore
    chain: AnchorChain
    mailer: Mailer
    signing: SigningIdentity
    branding: IssuerBranding
    issuer_id: str
    recovery_public_key: PublicKey
    staging: StagingVault
    receipts_dir: Path
    sender: str
    chain_id: int
    contract_address: str
    anchoring_address: str
    workers: int = 1
    batch_size: int = 1000
    design: Design | None = None  # None: the built-in design
    letters_dir: Path | None = None  # None: "letters" beside the receipts folder
    language: str = "fr"  # messages and letters, for a result that names none
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    progress: Progress = field(default_factory=SilentProgress)
    fault: FaultHook = _no_fault

    def today(self) -> date:
        return self.clock().date()


class AnchorChain(Protocol):
    """What issuance needs of the registry client (contracts.client.RegistryClient)."""

    def prepare_anchor(self, root: bytes) -> PreparedTransaction: ...
    def send(self, prepared: PreparedTransaction) -> str: ...
    def resend(self, raw: bytes) -> str: ...
    def wait(self, tx_hash: str) -> TxOutcome: ...
    def anchor_of(self, root: bytes) -> AnchorRecord | None: ...
    def transaction_state(self, tx_hash: str) -> TxState: ...


@dataclass
class StageOutcome:
    """What staging a results file did."""

    batch_ids: list[str] = field(default_factory=list)
    staged: int = 0
    duplicates: list[tuple[int, str]] = field(default_factory=list)  # (line, result id)


def stage_results(issuance: Issuance, report: IntakeReport, source: bytes) -> StageOutcome:
    """Record the valid rows as certificates to issue, in one transaction; skip duplicates."""
    outcome = StageOutcome()
    digest = hashlib.sha256(source).hexdigest()
    with Session(issuance.engine) as session:
        ensure_issuer(session, issuance.issuer_id, issuance.branding.name)
        known = _known_result_ids(session, issuance.issuer_id, [r.result_id for r in report.rows])
        fresh = [r for r in report.rows if r.result_id not in known]
        outcome.duplicates = [(r.line, r.result_id) for r in report.rows if r.result_id in known]
        for start in range(0, len(fresh), issuance.batch_size):
            chunk = fresh[start : start + issuance.batch_size]
            batch = BatchRecord(
                id=secrets.token_hex(16),
                issuer_id=issuance.issuer_id,
                source_name=report.source_name,
                source_sha256=digest,
                chain_id=issuance.chain_id,
                contract_address=issuance.contract_address,
            )
            session.add(batch)
            for row in chunk:
                cert_id = secrets.token_hex(16)
                content = row.to_content(certificate_id=cert_id, issued_on=issuance.today())
                session.add(
                    CertificateRecord(
                        id=cert_id,
                        issuer_id=issuance.issuer_id,
                        result_id=row.result_id,
                        batch_id=batch.id,
                        source_line=row.line,
                        language=row.message_language,
                        candidate_email=row.email,
                        staged_content=issuance.staging.seal(
                            content.model_dump_json(), record_id=cert_id, field="content"
                        ),
                    )
                )
            outcome.batch_ids.append(batch.id)
            outcome.staged += len(chunk)
        session.commit()
    return outcome


def _known_result_ids(session: Session, issuer_id: str, result_ids: list[str]) -> set[str]:
    """Result ids already issued, including revoked ones (kept only as a hash)."""
    hashed = {hashed_result_id(issuer_id, r): r for r in result_ids}
    wanted = [*result_ids, *hashed]
    known: set[str] = set()
    for start in range(0, len(wanted), 500):
        part = wanted[start : start + 500]
        query = select(CertificateRecord.result_id).where(
            CertificateRecord.issuer_id == issuer_id, col(CertificateRecord.result_id).in_(part)
        )
        known.update(hashed.get(found, found) for found in session.exec(query).all())
    return known


def unfinished_batches(issuance: Issuance) -> list[str]:
    """Batches of this issuer not yet delivered, oldest first."""
    return unfinished_batch_ids(issuance.engine, issuance.issuer_id)


def unfinished_batch_ids(engine: Engine, issuer_id: str) -> list[str]:
    """Batches of an issuer not yet delivered, oldest first."""
    with Session(engine) as session:
        query = (
            select(BatchRecord.id)
            .where(
                BatchRecord.issuer_id == issuer_id,
                BatchRecord.state != BatchState.DELIVERED,
            )
            .order_by(col(BatchRecord.created_at))
        )
        return list(session.exec(query).all())


def run_batch(issuance: Issuance, batch_id: str) -> None:
    """Take one batch from wherever it stopped to delivered."""
    from issuer.anchoring import anchor_batch, seal_batch
    from issuer.dispatch import deliver_batch
    from issuer.storing import sign_and_store_batch

    sign_and_store_batch(issuance, batch_id)
    seal_batch(issuance, batch_id)
    anchor_batch(issuance, batch_id)
    deliver_batch(issuance, batch_id)


def batch_counts(engine: Engine, batch_id: str) -> dict[CertificateState, int]:
    """How many certificates of a batch are in each state."""
    with Session(engine) as session:
        states = session.exec(
            select(CertificateRecord.state).where(CertificateRecord.batch_id == batch_id)
        ).all()
    counts: dict[CertificateState, int] = {}
    for state in states:
        counts[CertificateState(state)] = counts.get(CertificateState(state), 0) + 1
    return counts


def staged_json(issuance: Issuance, record: CertificateRecord) -> str:
    """The staged content of a certificate not yet delivered, as JSON."""
    if record.staged_content is None:
        raise IssuanceError(f"certificate {record.id} has no staged content left")
    return issuance.staging.open(record.staged_content, record_id=record.id, field="content")


def staged_link_key(issuance: Issuance, record: CertificateRecord) -> LinkKey:
    """The candidate link key of a certificate not yet delivered."""
    if record.pending_link_key is None:
        raise IssuanceError(f"certificate {record.id} has no pending link key")
    token = issuance.staging.open(record.pending_link_key, record_id=record.id, field="link")
    return LinkKey.from_token(token)
