"""What a certificate says: the validated content of one jury-approved result."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class CefrLevel(StrEnum):
    """Common European Framework of Reference levels."""

    A1 = "A1"
    A2 = "A2"
    B1 = "B1"
    B2 = "B2"
    C1 = "C1"
    C2 = "C2"


class SkillResult(BaseModel):
    """One skill's result (listening, reading, writing, speaking...)."""

    model_config = ConfigDict(frozen=True)

    skill: str = Field(min_length=1, max_length=60)
    level: CefrLevel | None = None
    score: Decimal | None = None


class CertificateContent(BaseModel):
    """Everything printed on one certificate; built only from a validated result row."""

    model_config = ConfigDict(frozen=True)

    certificate_id: str = Field(pattern=r"^[0-9a-f]{32}$")
    result_id: str = Field(min_length=1, max_length=120)
    candidate_name: str = Field(min_length=1, max_length=200)
    # Kept as the file gave them when it had two name columns; the certificate prints
    # candidate_name (first name, then last name).
    first_name: str | None = Field(default=None, max_length=200)
    last_name: str | None = Field(default=None, max_length=200)
    date_of_birth: date
    candidate_number: str = Field(min_length=1, max_length=60)
    exam: str = Field(min_length=1, max_length=200)
    language: str = Field(min_length=1, max_length=60)
    level: CefrLevel | None = None
    score: Decimal | None = None
    score_max: Decimal | None = None
    skills: tuple[SkillResult, ...] = ()
    session_date: date
    centre: str = Field(min_length=1, max_length=200)
    issued_on: date


class IssuerBranding(BaseModel):
    """How the issuing body appears on its certificates."""

    model_config = ConfigDict(frozen=True)

    name: str
    public_base_url: str  # e.g. https://certs.example.org; the QR code opens {base}/c/{id}

    def status_url(self, certificate_id: str) -> str:
        return f"{self.public_base_url.rstrip('/')}/c/{certificate_id}"
