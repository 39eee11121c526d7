"""One certificate's delivery made ready away from the database: opened with its link key,
its receipt made and checked, its message built. The delivery worker processes run this; they
import it, not the database layer (see issuer.signing_server)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from contracts.keccak import bulk_keccak256
from contracts.receipt import Receipt
from issuer.delivery import FlatMessage, build_flat_delivery_email
from offchain_store.crypto import LinkKey, decrypt_document, unwrap_data_key


@dataclass(frozen=True)
class PreparedDelivery:
    """One certificate ready to go: its receipt made (written when its message is sent)."""

    cert_id: str
    receipt_json: bytes


@dataclass(frozen=True)
class DeliveryWork:
    """What one certificate's delivery needs from the records and the store, picklable: a
    delivery worker opens the certificate with the link key, makes the receipt (checked as it
    is built) and builds the message, while the main process gathers the next ones."""

    cert_id: str
    link_token: str = field(repr=False)
    wrapped: bytes = field(repr=False)  # the data key, wrapped under the link key
    sealed_pdf: bytes = field(repr=False)
    receipt: dict[str, Any] = field(repr=False)  # the Receipt's fields
    email: dict[str, Any] | None = field(repr=False)  # the message's, but the PDF and receipt


def open_sealed(cert_id: str, sealed_pdf: bytes, wrapped: bytes, link_key: LinkKey) -> bytes:
    """The stored certificate, decrypted with the data key that `link_key` unwraps."""
    cert_bytes = bytes.fromhex(cert_id)
    data_key = unwrap_data_key(wrapped, link_key, associated_data=cert_bytes)
    return decrypt_document(sealed_pdf, data_key, associated_data=cert_bytes)


def prepare(work: DeliveryWork) -> tuple[PreparedDelivery, FlatMessage | None]:
    """Check the link opens the certificate, make its receipt, build its message (none for a
    letter). Needs no database: a delivery worker process runs it."""
    bulk_keccak256()  # the receipt's check hashes its proof: in C, loaded once per process
    link_key = LinkKey.from_token(work.link_token)
    pdf = open_sealed(work.cert_id, work.sealed_pdf, work.wrapped, link_key)  # the link works
    receipt_json = Receipt(**work.receipt).to_json()
    prepared = PreparedDelivery(cert_id=work.cert_id, receipt_json=receipt_json)
    if work.email is None:
        return prepared, None
    return prepared, build_flat_delivery_email(**work.email, pdf=pdf, receipt_json=receipt_json)
