"""Delivery packs: the letters of one batch's candidates without an e-mail address, in one PDF.

A letter's link key stays sealed in the records (as before an e-mail is sent) until an admin
confirms that the pack was handed over; the pack file is rebuilt from the records whenever it
is needed, so it is only ever a copy. On confirmation the pack is deleted and the sealed keys
and content are wiped: from then on only the candidate's letter opens the certificate.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, or_, select

from issuer.audit_hook import AuditHook, no_audit
from issuer.content import IssuerBranding
from issuer.delivery import candidate_language, fsync_directory, write_atomically
from issuer.errors import IssuanceError
from issuer.letters import DeliveryLetter, delivery_letter, render_letters
from offchain_store.crypto import LinkKey
from offchain_store.erasure import forget_erased_rows
from offchain_store.records import BatchRecord, CertificateRecord, CertificateState
from offchain_store.staging import StagingVault

PACK_PREFIX: Final = "pack-"


class DeliveryPackError(IssuanceError):
    """A delivery pack cannot be built, found or confirmed as asked."""


class PackNotFound(DeliveryPackError):
    """No pack with this id has a letter waiting to be handed over (or the id is not one)."""


@dataclass(frozen=True, kw_only=True)
class DeliveryPacks:
    """What building and confirming delivery packs needs."""

    engine: Engine
    staging: StagingVault
    branding: IssuerBranding
    letters_dir: Path
    issuer_language: str = "fr"
    audit: AuditHook = no_audit


@dataclass(frozen=True)
class PackSummary:
    """A pack waiting to be handed over: its id (the batch's), source file and letter count."""

    pack_id: str
    source_name: str
    created_at: datetime
    letters: int


def pack_path(letters_dir: Path, pack_id: str) -> Path:
    """Where a pack's PDF lives; the id is checked, so no other file can be named."""
    if not _is_id(pack_id):
        raise PackNotFound(f"{pack_id[:40]!r} is not a delivery pack id (32 hex digits)")
    return letters_dir / f"{PACK_PREFIX}{pack_id}.pdf"


def _is_id(value: str) -> bool:
    return len(value) == 32 and all(c in "0123456789abcdef" for c in value)


def awaiting_letter(cert: CertificateRecord) -> bool:
    """Delivered by letter, and the letter not yet confirmed as handed over."""
    return (
        cert.state == CertificateState.DELIVERED
        and not cert.candidate_email
        and cert.pending_link_key is not None
    )


def _awaiting(session: Session, pack_id: str | None = None) -> list[CertificateRecord]:
    query = select(CertificateRecord).where(
        CertificateRecord.state == CertificateState.DELIVERED,
        col(CertificateRecord.pending_link_key).is_not(None),
        or_(
            col(CertificateRecord.candidate_email).is_(None),
            CertificateRecord.candidate_email == "",
        ),
    )
    if pack_id is not None:
        query = query.where(CertificateRecord.batch_id == pack_id)
    return list(session.exec(query.order_by(col(CertificateRecord.source_line))).all())


def pending_packs(packs: DeliveryPacks) -> list[PackSummary]:
    """Packs with letters not yet handed over, oldest first."""
    with Session(packs.engine) as session:
        counts: dict[str, int] = {}
        for cert in _awaiting(session):
            counts[cert.batch_id] = counts.get(cert.batch_id, 0) + 1
        summaries = []
        for batch_id, letters in counts.items():
            batch = session.get(BatchRecord, batch_id)
            assert batch is not None
            summaries.append(PackSummary(batch_id, batch.source_name, batch.created_at, letters))
    return sorted(summaries, key=lambda s: s.created_at)


def build_pack(packs: DeliveryPacks, pack_id: str) -> bytes | None:
    """The pack's PDF, built from the records (None: no letter is waiting in it)."""
    pack_path(packs.letters_dir, pack_id)  # checks the id
    with Session(packs.engine) as session:
        letters = [_letter(packs, cert) for cert in _awaiting(session, pack_id)]
    return render_letters(letters) if letters else None


def _letter(packs: DeliveryPacks, cert: CertificateRecord) -> DeliveryLetter:
    assert cert.pending_link_key is not None
    token = packs.staging.open(cert.pending_link_key, record_id=cert.id, field="link")
    content: dict[str, Any] = {}
    if cert.staged_content is not None:
        content = json.loads(
            packs.staging.open(cert.staged_content, record_id=cert.id, field="content")
        )
    base = packs.branding.public_base_url.rstrip("/")
    return delivery_letter(
        certificate_id=cert.id,
        candidate_name=str(content.get("candidate_name") or ""),
        candidate_number=str(content.get("candidate_number") or ""),
        issuer_name=packs.branding.name,
        private_link=f"{base}/me/{cert.id}#{LinkKey.from_token(token).to_token()}",
        language=candidate_language(cert.language, packs.issuer_language),
    )


def write_pack(packs: DeliveryPacks, pack_id: str) -> Path | None:
    """(Re)write the pack's file, owner-only; with no letter waiting, the file is removed."""
    path = pack_path(packs.letters_dir, pack_id)
    pdf = build_pack(packs, pack_id)
    if pdf is None:
        erase_pack_file(packs.letters_dir, pack_id)
        return None
    _write_owner_only(path, pdf)
    return path


def pack_bytes(packs: DeliveryPacks, pack_id: str) -> bytes:
    """The pack to download: rebuilt from the records (so it never holds an erased letter)."""
    path = write_pack(packs, pack_id)
    if path is None:
        raise PackNotFound(f"no letter is waiting to be handed over in pack {pack_id}")
    return path.read_bytes()


def confirm_handover(packs: DeliveryPacks, pack_id: str, *, actor: str, now: datetime) -> int:
    """The admin handed the pack over: delete it, and wipe what could open its certificates.

    Returns how many letters were confirmed.
    """
    pack_path(packs.letters_dir, pack_id)
    with Session(packs.engine) as session:
        waiting = _awaiting(session, pack_id)
        if not waiting:
            raise PackNotFound(f"no letter is waiting to be handed over in pack {pack_id}")
        erase_pack_file(packs.letters_dir, pack_id)  # first: a crash now leaves it rebuildable
        for cert in waiting:
            cert.pending_link_key = cert.staged_content = None
            cert.delivered_at = now
        packs.audit(session, actor, "letters.handed_over", pack_id, {"letters": len(waiting)})
        session.commit()
    forget_erased_rows(packs.engine)
    return len(waiting)


def erase_pack_file(letters_dir: Path, pack_id: str) -> bool:
    """Unlink a pack's file for good; returns whether there was one."""
    path = pack_path(letters_dir, pack_id)
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    fsync_directory(letters_dir)
    return True


def _write_owner_only(path: Path, content: bytes) -> None:
    """Atomic write of a 0600 file in a 0700 folder."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    write_atomically(path, content, suffix=".pdf")
