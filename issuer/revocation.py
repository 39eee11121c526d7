"""Revocation and erasure: requests, decisions, one on-chain batch, then crypto-shredding.

A revoked certificate keeps only a tombstone (id, leaf, date, reason category): its
ciphertext, every key wrap, its salt and receipt are destroyed, so nobody (us included)
can read it or tie its PDF to the chain again, while verification still answers REVOKED.
Every copy delivery left is destroyed with them (the receipt file, the outbox messages, the
letter in a delivery pack), and the database file is rewritten so no erased byte survives.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from contracts.client import PreparedTransaction, RevocationReason, RevocationRecord
from issuer.audit_hook import AuditHook, no_audit
from issuer.delivery import erase_outbox_messages
from issuer.delivery_pack import DeliveryPacks, awaiting_letter, erase_pack_file, write_pack
from issuer.dispatch import erase_receipt
from issuer.errors import IssuanceError
from issuer.status_list import StatusListPublication, publish_status_list
from issuer.status_transactions import TransactionSender, by_transaction, save_then_send, settle
from offchain_store.blobs import BlobStore
from offchain_store.crypto import LinkKey
from offchain_store.erasure import forget_erased_rows
from offchain_store.records import (
    AccessLogRecord,
    CertificateRecord,
    CertificateState,
    KeyWrapRecord,
    RequestKind,
    RequestState,
    RevocationRequestRecord,
    ShareRecord,
    hashed_result_id,
)
from offchain_store.shares import candidate_data_key
from offchain_store.wallet_offers import WalletOfferRecord, shred_wallet_claims
from offchain_store.work_claims import account_held


class RevocationError(IssuanceError):
    """A revocation cannot be asked, decided or carried out as requested."""


class DecisionRefused(RevocationError):
    """The request cannot be decided as asked (already decided, or no reason given)."""


class UnknownRequest(DecisionRefused):
    """No revocation request has this id (a fixed message: ids are the caller's input)."""

    def __init__(self) -> None:
        super().__init__("No revocation request with this id.")


class UnknownCertificate(RevocationError):
    """No certificate has this id (a fixed message: ids are the caller's input)."""

    def __init__(self) -> None:
        super().__init__("No certificate with this id.")


class RevocationChain(TransactionSender, Protocol):
    def prepare_revoke_batch(
        self, items: Sequence[tuple[bytes | str, RevocationReason | int]]
    ) -> PreparedTransaction: ...
    def revocation_of(self, leaf: bytes | str) -> RevocationRecord | None: ...


@dataclass(frozen=True, kw_only=True)
class DeliveredCopies:
    """Where delivery left copies of a certificate, each destroyed when it is revoked."""

    receipts_dir: Path
    letters_dir: Path
    outbox_dir: Path | None = None  # None: messages went out through SMTP, no copy kept here
    packs: DeliveryPacks | None = None  # rebuilds a pack without the erased letter


@dataclass(frozen=True, kw_only=True)
class Revocations:
    """What carrying out revocations needs; the status list, if given, is signed again and its
    hash published after each shredding. `revoker_address` is the account the chain client
    sends from: held (account_lock) while a transaction is prepared and sent, so revocations
    never take a nonce that anchoring, on the same account in another process, also took."""

    engine: Engine
    blobs: BlobStore
    chain: RevocationChain
    audit: AuditHook = no_audit
    copies: DeliveredCopies | None = None
    status_list: StatusListPublication | None = None
    revoker_address: str | None = None


CATEGORIES = {reason.name.lower(): reason for reason in RevocationReason if reason.value}


def category_of(name: str) -> RevocationReason:
    """A revocation reason from its category name (holder_request, issuer_error, fraud, ...)."""
    try:
        return CATEGORIES[name.replace("-", "_").lower()]
    except KeyError:
        raise RevocationError(
            f"unknown reason {name!r}; use one of: {', '.join(CATEGORIES)}"
        ) from None


def request_by_candidate(
    engine: Engine,
    *,
    certificate_id: str,
    candidate_key: LinkKey,
    kind: RequestKind,
    explanation: str,
    now: datetime,
    audit: AuditHook = no_audit,
) -> RevocationRequestRecord:
    """The candidate asks for revocation (or erasure, which for an anchored certificate is the
    same thing); proven by the candidate's link key. A second request returns the first."""
    with Session(engine) as session:
        candidate_data_key(session, certificate_id, candidate_key)
        existing = _open_request(session, certificate_id)
        if existing is not None:
            session.expunge(existing)
            return existing
        request = RevocationRequestRecord(
            id=secrets.token_hex(8),
            certificate_id=certificate_id,
            kind=kind,
            category="holder_request",
            explanation=" ".join(explanation.split())[:1000],
            requested_by="candidate",
            created_at=now,
        )
        session.add(request)
        audit(session, "candidate", f"{kind.value}.requested", certificate_id, {"id": request.id})
        session.commit()
        session.refresh(request)
        session.expunge(request)
    return request


def revoke_on_initiative(
    engine: Engine,
    *,
    certificate_id: str,
    category: str,
    note: str,
    actor: str,
    now: datetime,
    audit: AuditHook = no_audit,
) -> RevocationRequestRecord:
    """The issuer revokes on its own (error, fraud, superseded): approved at once."""
    reason = category_of(category)
    with Session(engine) as session:
        cert = session.get(CertificateRecord, certificate_id)
        if cert is None:
            raise UnknownCertificate()
        if cert.state == CertificateState.REVOKED:
            raise RevocationError(f"certificate {certificate_id} is already revoked")
        if cert.leaf is None:
            raise RevocationError(f"certificate {certificate_id} is not issued yet")
        existing = _open_request(session, certificate_id)
        if existing is not None and existing.state != RequestState.PENDING:
            session.expunge(existing)
            return existing  # already approved or being revoked: nothing to add
        request = existing or RevocationRequestRecord(
            id=secrets.token_hex(8),
            certificate_id=certificate_id,
            kind=RequestKind.REVOCATION,
            category=reason.name.lower(),
            requested_by=actor,
            created_at=now,
        )
        request.category = reason.name.lower()
        _decide(request, approve=True, actor=actor, note=note, now=now)
        session.add(request)
        audit(session, actor, "revocation.approved", certificate_id, {"category": request.category})
        session.commit()
        session.refresh(request)
        session.expunge(request)
    return request


def decide(
    engine: Engine,
    request_id: str,
    *,
    approve: bool,
    actor: str,
    note: str,
    now: datetime,
    audit: AuditHook = no_audit,
) -> RevocationRequestRecord:
    """A revoker approves or refuses a pending request, with a reason."""
    if not note.strip():
        raise DecisionRefused("give a reason for the decision")
    with Session(engine) as session:
        request = session.get(RevocationRequestRecord, request_id)
        if request is None:
            raise UnknownRequest()
        if request.state != RequestState.PENDING:
            raise DecisionRefused(f"request {request_id} is already {request.state}")
        _decide(request, approve=approve, actor=actor, note=note, now=now)
        action = "revocation.approved" if approve else "revocation.refused"
        audit(session, actor, action, request.certificate_id, {"request": request_id})
        session.commit()
        session.refresh(request)
        session.expunge(request)
    return request


def approve_request(
    revocations: Revocations, request_id: str, *, actor: str, note: str, now: datetime
) -> int:
    """Approve a pending request, then revoke on chain and shred every approved certificate;
    returns how many were. DecisionRefused if it cannot be approved (nothing changed then)."""
    decide(
        revocations.engine,
        request_id,
        approve=True,
        actor=actor,
        note=note,
        now=now,
        audit=revocations.audit,
    )
    return carry_out(revocations, actor=actor, now=now)


def revoke_and_shred(
    revocations: Revocations,
    certificate_id: str,
    *,
    category: str,
    note: str,
    actor: str,
    now: datetime,
) -> int:
    """The issuer revokes a certificate on its own initiative, on chain at once, then shreds."""
    revoke_on_initiative(
        revocations.engine,
        certificate_id=certificate_id,
        category=category,
        note=note,
        actor=actor,
        now=now,
        audit=revocations.audit,
    )
    return carry_out(revocations, actor=actor, now=now)


def _decide(
    request: RevocationRequestRecord, *, approve: bool, actor: str, note: str, now: datetime
) -> None:
    request.state = RequestState.APPROVED if approve else RequestState.REFUSED
    request.decided_at, request.decided_by, request.decision_note = now, actor, note.strip()[:500]


def _open_request(session: Session, certificate_id: str) -> RevocationRequestRecord | None:
    query = select(RevocationRequestRecord).where(
        RevocationRequestRecord.certificate_id == certificate_id,
        col(RevocationRequestRecord.state).in_(
            [RequestState.PENDING, RequestState.APPROVED, RequestState.REVOKING]
        ),
    )
    return session.exec(query).first()


def requests(
    engine: Engine, *, states: Sequence[RequestState] = ()
) -> list[RevocationRequestRecord]:
    """Revocation requests, oldest first, optionally only in some states."""
    with Session(engine) as session:
        query = select(RevocationRequestRecord).order_by(col(RevocationRequestRecord.created_at))
        if states:
            query = query.where(col(RevocationRequestRecord.state).in_(list(states)))
        found = list(session.exec(query).all())
        session.expunge_all()
    return found


def carry_out(revocations: Revocations, *, actor: str, now: datetime | None = None) -> int:
    """Revoke every approved request on chain in one batch, then shred; resumes a sent batch.
    Then, if anything was shredded, the status list is signed again (at `now`) and published.

    Returns how many certificates were revoked and shredded.
    """
    with account_held(revocations.engine, revocations.revoker_address):
        done = _revoke_approved(revocations, actor)
    # Outside the account's lock: the list's hash is sent by the anchoring account, which may
    # be this same account (a second hold of the lock from this process would wait forever).
    if done and revocations.status_list is not None:
        publish_status_list(revocations.status_list, now=now or datetime.now(UTC))
    return done


def _revoke_approved(revocations: Revocations, actor: str) -> int:
    done = _finish_in_flight(revocations, actor)
    with Session(revocations.engine) as session:
        approved = list(
            session.exec(
                select(RevocationRequestRecord).where(
                    RevocationRequestRecord.state == RequestState.APPROVED
                )
            ).all()
        )
        if not approved:
            return done
        items = _chain_items(revocations, session, approved)
        if items:
            prepared = revocations.chain.prepare_revoke_batch(items)
            sending = RequestState.REVOKING
            save_then_send(revocations.chain, session, prepared, approved, sending=sending)
        else:
            for request in approved:
                request.state = RequestState.REVOKING  # all already revoked on chain
            session.commit()
    return done + _finish_in_flight(revocations, actor)


def _chain_items(
    revocations: Revocations, session: Session, approved: list[RevocationRequestRecord]
) -> list[tuple[bytes | str, RevocationReason | int]]:
    """The leaves still to revoke on chain (one already revoked is only shredded)."""
    items: list[tuple[bytes | str, RevocationReason | int]] = []
    for request in approved:
        cert = session.get(CertificateRecord, request.certificate_id)
        if cert is None or cert.leaf is None:
            raise RevocationError(f"certificate {request.certificate_id} has no leaf on chain")
        if revocations.chain.revocation_of(cert.leaf) is None:
            items.append((cert.leaf, category_of(request.category)))
    return items


def _finish_in_flight(revocations: Revocations, actor: str) -> int:
    """Settle the sent batches and shred what they revoked; then rebuild what held copies."""
    packs_touched: set[str] = set()
    with Session(revocations.engine) as session:
        in_flight = list(
            session.exec(
                select(RevocationRequestRecord).where(
                    RevocationRequestRecord.state == RequestState.REVOKING
                )
            ).all()
        )
        for batch in by_transaction(in_flight):
            # Dropped or reverted (a leaf was revoked meanwhile by another batch): approved
            # again, the next run revokes what is still unrevoked and shreds.
            settle(revocations.chain, session, batch, approved=RequestState.APPROVED)
        shredded = 0
        for request in in_flight:
            if request.state == RequestState.REVOKING:
                packs_touched |= _shred_revoked(revocations, session, request, actor)
                shredded += 1
        session.commit()
    if shredded:
        _after_shredding(revocations, packs_touched)
    return shredded


def _after_shredding(revocations: Revocations, packs_touched: set[str]) -> None:
    """Packs rebuilt without the erased letters; the database rewritten without erased bytes."""
    copies = revocations.copies
    if copies is not None and copies.packs is not None:
        for pack_id in sorted(packs_touched):
            write_pack(copies.packs, pack_id)
    forget_erased_rows(revocations.engine)


def _shred_revoked(
    revocations: Revocations, session: Session, request: RevocationRequestRecord, actor: str
) -> set[str]:
    """Shred one revoked certificate; returns the delivery packs that held its letter."""
    if request.state != RequestState.REVOKING:
        return set()
    cert = session.get(CertificateRecord, request.certificate_id)
    assert cert is not None and cert.leaf is not None
    on_chain = revocations.chain.revocation_of(cert.leaf)
    if on_chain is None:
        raise RevocationError(f"certificate {cert.id} is not revoked on chain yet")
    packs = {cert.batch_id} if awaiting_letter(cert) else set()
    if revocations.copies is not None:
        erase_copies(revocations.copies, cert.id, cert.batch_id, with_pack=bool(packs))
    shred(revocations.blobs, session, cert, category=request.category, at=on_chain.revoked_at)
    request.state, request.done_at, request.explanation = RequestState.DONE, on_chain.revoked_at, ""
    revocations.audit(
        session,
        actor,
        "certificate.revoked",
        cert.id,
        {"category": request.category, "leaf": cert.leaf},
    )
    return packs


def erase_copies(copies: DeliveredCopies, cert_id: str, batch_id: str, *, with_pack: bool) -> None:
    """Unlink every file delivery made for one certificate, before its records are shredded
    (if we stop in between, the next run shreds again and finds nothing left to unlink)."""
    erase_receipt(copies.receipts_dir, cert_id)
    if copies.outbox_dir is not None:
        erase_outbox_messages(copies.outbox_dir, cert_id)
    if with_pack:
        erase_pack_file(copies.letters_dir, batch_id)  # rebuilt without it once shredded


def shred(
    blobs: BlobStore, session: Session, cert: CertificateRecord, *, category: str, at: datetime
) -> None:
    """Crypto-shred: ciphertext, every key wrap, salt and receipt destroyed; a tombstone stays."""
    blobs.delete(cert.id)  # first: if we stop now, shredding again is harmless
    shred_wallet_claims(blobs, cert.id)  # what a wallet credential would say of it
    for offer in session.exec(
        select(WalletOfferRecord).where(WalletOfferRecord.certificate_id == cert.id)
    ):
        # The claims a waiting offer holds and the key that opens them go now; the row stays
        # so that a wallet coming back is told the certificate was revoked.
        offer.sealed_claims = offer.key_wrap = None
    for wrap in session.exec(select(KeyWrapRecord).where(KeyWrapRecord.certificate_id == cert.id)):
        session.delete(wrap)
    cert.salt = cert.receipt = cert.proof = None
    cert.staged_content = cert.pending_link_key = None
    cert.pdf_sha256 = None  # a kept copy of the PDF can no longer be looked up by its hash
    cert.candidate_email = None
    cert.result_id = hashed_result_id(cert.issuer_id, cert.result_id)  # still blocks re-issuing
    for share in session.exec(select(ShareRecord).where(ShareRecord.certificate_id == cert.id)):
        share.recipient = ""  # the share id stays, so its link answers "revoked"
        share.ended_at = share.ended_at or at
    for entry in session.exec(
        select(AccessLogRecord).where(AccessLogRecord.certificate_id == cert.id)
    ):
        session.delete(entry)
    cert.state = CertificateState.REVOKED
    cert.revoked_at, cert.revocation_reason = at, category
