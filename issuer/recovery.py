"""Re-send a lost candidate link with the issuer's offline recovery key."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from nacl.public import PrivateKey
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from issuer.content import IssuerBranding
from issuer.delivery import (
    Mailer,
    build_delivery_email,
    candidate_language,
    certificate_message_id,
)
from issuer.delivery_pack import DeliveryPacks, write_pack
from issuer.dispatch import build_receipt, private_link
from issuer.errors import IssuanceError
from offchain_store.blobs import BlobStore
from offchain_store.crypto import (
    DataKey,
    LinkKey,
    decrypt_document,
    new_link_key,
    unseal_data_key,
    wrap_data_key,
)
from offchain_store.records import (
    BatchRecord,
    CertificateRecord,
    CertificateState,
    KeyWrapRecord,
    WrapKind,
)


@dataclass(frozen=True, kw_only=True)
class Recovery:
    """What re-sending a link needs: no chain, no signing key; only the offline recovery key."""

    engine: Engine
    blobs: BlobStore
    mailer: Mailer
    branding: IssuerBranding
    sender: str
    issuer_language: str = "fr"  # settings.issuer_language: for a result that named none
    packs: DeliveryPacks | None = None  # where a candidate without e-mail gets a new letter


def recover_link(recovery: Recovery, cert_id: str, recovery_key: PrivateKey) -> str:
    """Give the candidate a new link (the old one stops working): e-mailed, or, for a candidate
    without an e-mail address, printed in a letter of the certificate's delivery pack.

    Returns where it went: the address, or the delivery pack to hand over.
    """
    with Session(recovery.engine) as session:
        cert = session.get(CertificateRecord, cert_id)
        if cert is None:
            raise IssuanceError(f"no certificate {cert_id}")
        if cert.state != CertificateState.DELIVERED:
            raise IssuanceError(
                f"certificate {cert_id} is {cert.state}: only a delivered certificate's link "
                "can be recovered (an undelivered one is sent by `sceau resume`)"
            )
        if not cert.candidate_email and recovery.packs is None:
            raise IssuanceError(
                f"certificate {cert_id} was delivered by letter (no e-mail address) and no "
                "letters folder is configured for a new letter"
            )
        data_key, pdf = _open_with_recovery_key(recovery, session, cert_id, recovery_key)
        link_key = _replace_candidate_wrap(session, cert_id, data_key)
        if not cert.candidate_email:
            return _new_letter(recovery, session, cert, link_key)  # after this session
        batch = session.get(BatchRecord, cert.batch_id)
        assert batch is not None
        message = build_delivery_email(
            to=cert.candidate_email,
            candidate_name="",
            certificate_id=cert_id,
            private_link=private_link(recovery.branding, cert_id, link_key),
            pdf=pdf,
            receipt_json=build_receipt(cert, batch, recovery.branding, session=session).to_json(),
            issuer_name=recovery.branding.name,
            sender=recovery.sender,
            language=candidate_language(cert.language, recovery.issuer_language),
        )
        message.replace_header("Message-ID", recovery_message_id(cert_id, recovery.sender))
        session.commit()  # the new wrap first: if sending fails, recovering again works
        try:
            recovery.mailer.send(message)
        finally:
            recovery.mailer.close()  # one message: no connection is kept waiting
        return cert.candidate_email


def recovery_message_id(certificate_id: str, sender: str) -> str:
    """The certificate's Message-ID with a random tail: a message of its own, not a copy of
    the first delivery (outbox files are per Message-ID), on the same normalised domain."""
    local, _, domain = certificate_message_id(certificate_id, sender)[1:-1].partition("@")
    return f"<{local}-{secrets.token_hex(4)}@{domain}>"


def _open_with_recovery_key(
    recovery: Recovery, session: Session, cert_id: str, recovery_key: PrivateKey
) -> tuple[DataKey, bytes]:
    query = select(KeyWrapRecord).where(
        KeyWrapRecord.certificate_id == cert_id, KeyWrapRecord.kind == WrapKind.RECOVERY
    )
    sealed = session.exec(query).first()
    if sealed is None:
        raise IssuanceError(f"certificate {cert_id} has no recovery wrap")
    data_key = unseal_data_key(sealed.wrapped, recovery_key)
    blob = recovery.blobs.get(cert_id)
    return data_key, decrypt_document(blob, data_key, associated_data=bytes.fromhex(cert_id))


def _replace_candidate_wrap(session: Session, cert_id: str, data_key: DataKey) -> LinkKey:
    """A new candidate link key wraps the data key; the old wrap (and link) is gone."""
    query = select(KeyWrapRecord).where(
        KeyWrapRecord.certificate_id == cert_id, KeyWrapRecord.kind == WrapKind.CANDIDATE
    )
    for wrap in session.exec(query):
        session.delete(wrap)
    link_key = new_link_key()
    session.add(
        KeyWrapRecord(
            certificate_id=cert_id,
            kind=WrapKind.CANDIDATE,
            wrapped=wrap_data_key(data_key, link_key, associated_data=bytes.fromhex(cert_id)),
        )
    )
    return link_key


def _new_letter(
    recovery: Recovery, session: Session, cert: CertificateRecord, link_key: LinkKey
) -> str:
    """The new link waits sealed, like at issuance, in its batch's delivery pack."""
    assert recovery.packs is not None
    pack_id = cert.batch_id
    cert.pending_link_key = recovery.packs.staging.seal(
        link_key.to_token(), record_id=cert.id, field="link"
    )
    session.commit()
    session.close()  # the pack is read from the committed records, through its own engine
    write_pack(recovery.packs, pack_id)
    return f"a letter in delivery pack {pack_id} (sceau letters pack {pack_id})"
