"""Re-send a lost candidate link with the issuer's offline recovery key."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from nacl.public import PrivateKey
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from issuer.content import IssuerBranding
from issuer.delivery import Mailer, build_delivery_email
from issuer.dispatch import build_receipt, private_link
from issuer.errors import IssuanceError
from offchain_store.blobs import BlobStore
from offchain_store.crypto import (
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


def recover_link(recovery: Recovery, cert_id: str, recovery_key: PrivateKey) -> str:
    """Give the candidate a new link (the old one stops working) and e-mail it.

    Returns the address it was sent to.
    """
    with Session(recovery.engine) as session:
        cert = session.get(CertificateRecord, cert_id)
        if cert is None:
            raise IssuanceError(f"no certificate {cert_id}")
        if cert.state != CertificateState.DELIVERED or cert.candidate_email is None:
            raise IssuanceError(
                f"certificate {cert_id} is {cert.state}: only a delivered certificate's link "
                "can be recovered (an undelivered one is sent by `sceau resume`)"
            )
        wraps = list(
            session.exec(select(KeyWrapRecord).where(KeyWrapRecord.certificate_id == cert_id))
        )
        sealed = next((w for w in wraps if w.kind == WrapKind.RECOVERY), None)
        if sealed is None:
            raise IssuanceError(f"certificate {cert_id} has no recovery wrap")
        cert_bytes = bytes.fromhex(cert_id)
        data_key = unseal_data_key(sealed.wrapped, recovery_key)
        pdf = decrypt_document(recovery.blobs.get(cert_id), data_key, associated_data=cert_bytes)
        link_key = new_link_key()
        for wrap in wraps:
            if wrap.kind == WrapKind.CANDIDATE:
                session.delete(wrap)
        session.add(
            KeyWrapRecord(
                certificate_id=cert_id,
                kind=WrapKind.CANDIDATE,
                wrapped=wrap_data_key(data_key, link_key, associated_data=cert_bytes),
            )
        )
        batch = session.get(BatchRecord, cert.batch_id)
        assert batch is not None
        message = build_delivery_email(
            to=cert.candidate_email,
            candidate_name="",
            certificate_id=cert_id,
            private_link=private_link(recovery.branding, cert_id, link_key),
            pdf=pdf,
            receipt_json=build_receipt(cert, batch, recovery.branding).to_json(),
            issuer_name=recovery.branding.name,
            sender=recovery.sender,
            language="en" if cert.language == "en" else "fr",
        )
        # A message of its own, not a copy of the first delivery (outbox files are per Message-ID).
        domain = recovery.sender.rpartition("@")[2]
        message.replace_header("Message-ID", f"<cert-{cert_id}-{secrets.token_hex(4)}@{domain}>")
        session.commit()  # the new wrap first: if sending fails, recovering again works
        recovery.mailer.send(message)
        return cert.candidate_email
