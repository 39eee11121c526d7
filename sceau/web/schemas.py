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
    status: str  # issued | pending | suspended | revoked
    anchored_at: datetime | None = None
    chain_id: int | None = None
    contract: str | None = None
    transaction: str | None = None
    revoked_at: datetime | None = None
    revocation_reason: str | None = None
    suspended_at: datetime | None = Field(
        default=None, description="Block time of the suspension that stands (reversible)."
    )
    suspension_reason: str | None = Field(
        default=None, description="Why it is suspended: appeal, inquiry, payment or other."
    )


class SharedCertificateBody(BaseModel):
    """What opening a share returns: the verification report, and the PDF when it opened."""

    report: dict[str, Any]
    recipient: str | None = None
    expires_at: datetime | None = None
    pdf_base64: str | None = None
    transaction: str | None = None
    transaction_url: str | None = None


class FieldProblem(BaseModel):
    """Where a request departs from the schema and how: never the value that was sent."""

    loc: list[str | int]
    type: str


class ApiError(BaseModel):
    """Every error answer: a stable code, a fixed message, and for 422 the fields at fault."""

    code: str
    message: str
    errors: list[FieldProblem] | None = None


ERROR_ANSWERS: dict[int, str] = {
    400: "The body is not strict JSON (UTF-8, finite numbers, unique keys), not sent as JSON, "
    "or not a well-formed multipart upload.",
    401: "No valid bearer token.",
    403: "The token's role may not do this, or the link key does not open this certificate.",
    404: "No such certificate, share or request.",
    410: "The certificate was revoked: its content is gone.",
    411: "The body was sent without a length.",
    413: "The body or file is too large.",
    415: "The file is not a PDF.",
    422: "The request does not match the schema, or the domain refuses it as asked.",
    503: "The chain, or the service's own set-up, is not available right now.",
}


def error_answers(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these error statuses, each answered with an ApiError."""
    return {
        status: {"model": ApiError, "description": ERROR_ANSWERS[status]} for status in statuses
    }


JSON_BODY_ERRORS = (400, 411, 413, 422)
"""What any endpoint with a JSON body may answer before its own logic runs."""
