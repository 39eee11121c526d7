"""Sealing of what must wait in the database between import and delivery.

A certificate's content and its candidate link key are needed again only if issuance is
interrupted before the candidate is told. Until then they are kept sealed under a key
derived from the server's staging secret (configuration, not the database), so the
database and the blob store together still cannot open a certificate.
"""

from __future__ import annotations

import base64
import hashlib

from offchain_store.crypto import DataKey, decrypt_document, encrypt_document


class StagingVault:
    """Seals and opens staged text, bound to the record and field it belongs to."""

    def __init__(self, secret: str) -> None:
        if len(secret) < 16:
            raise ValueError("the staging secret must be at least 16 characters")
        digest = hashlib.blake2b(secret.encode(), digest_size=32, person=b"sceau-staging-v1")
        self._key = DataKey(digest.digest())

    def __repr__(self) -> str:
        return "StagingVault(<secret>)"

    def seal(self, text: str, *, record_id: str, field: str) -> str:
        sealed = encrypt_document(text.encode(), self._key, associated_data=_ad(record_id, field))
        return base64.b64encode(sealed).decode("ascii")

    def open(self, sealed: str, *, record_id: str, field: str) -> str:
        """Raises DecryptionFailed under another secret, record or field."""
        raw = base64.b64decode(sealed.encode("ascii"))
        return decrypt_document(raw, self._key, associated_data=_ad(record_id, field)).decode()


def _ad(record_id: str, field: str) -> bytes:
    return f"staging|{field}|{record_id}".encode()
