"""Request and response bodies of the JSON API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class LinkKeyBody(BaseModel):
    """A link key, posted in the body: it never appears in a URL a server sees or logs."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(min_length=1, max_length=200, repr=False)


class CertificateStatus(BaseModel):
    """The public status of a certificate: no personal data."""

    certificate_id: str
    issuer: str
    status: str  # issued | pending | revoked
    anchored_at: datetime | None = None
    chain_id: int | None = None
    contract: str | None = None
    transaction: str | None = None
    revoked_at: datetime | None = None
    revocation_reason: str | None = None


class SharedCertificateBody(BaseModel):
    """What opening a share returns: the verification report, and the PDF when it opened."""

    report: dict[str, Any]
    recipient: str | None = None
    expires_at: datetime | None = None
    pdf_base64: str | None = None
    transaction: str | None = None
    transaction_url: str | None = None


class ApiError(BaseModel):
    code: str
    message: str
