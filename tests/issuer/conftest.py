"""Shared fixtures for issuer tests: development PKIs made once per session, sample content."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from issuer.content import CefrLevel, CertificateContent, IssuerBranding, SkillResult
from issuer.dev_pki import DevPki, create_dev_pki
from issuer.render import render_certificate
from issuer.signing import load_signer

PASSPHRASE = "correct horse battery staple"


@pytest.fixture(scope="session")
def dev_pki(tmp_path_factory: pytest.TempPathFactory) -> DevPki:
    """The issuer's development PKI, key encrypted with PASSPHRASE."""
    directory = tmp_path_factory.mktemp("pki")
    return create_dev_pki(
        directory, issuer_name="Institut Linguistique de Lyon", passphrase=PASSPHRASE
    )


@pytest.fixture(scope="session")
def other_pki(tmp_path_factory: pytest.TempPathFactory) -> DevPki:
    """An unrelated PKI whose signatures must not be trusted under dev_pki's root."""
    directory = tmp_path_factory.mktemp("other-pki")
    return create_dev_pki(directory, issuer_name="Officine de Faux Diplômes", passphrase=None)


@pytest.fixture(scope="session")
def branding() -> IssuerBranding:
    return IssuerBranding(
        name="Institut Linguistique de Lyon", public_base_url="https://certs.ill.example.org/"
    )


@pytest.fixture(scope="session")
def make_content() -> Callable[..., CertificateContent]:
    """Build a realistic certificate content; keyword arguments override fields."""

    def build(**overrides: Any) -> CertificateContent:
        fields: dict[str, Any] = {
            "certificate_id": "3f2a9c0d5b7e4f11a2c3d4e5f6a7b8c9",
            "result_id": "R-2026-0042",
            "candidate_name": "Łukasz Żółć",
            "date_of_birth": date(1998, 3, 12),
            "candidate_number": "LYO-2026-00042",
            "exam": "Diplôme de compétence en langue (DCL) — Anglais",
            "language": "Anglais / English",
            "level": CefrLevel.B2,
            "score": Decimal("78.50"),
            "score_max": Decimal("100"),
            "skills": (
                SkillResult(skill="Compréhension de l'oral / Listening", level=CefrLevel.B2),
                SkillResult(skill="Compréhension de l'écrit / Reading", level=CefrLevel.C1),
                SkillResult(skill="Production écrite / Writing", level=CefrLevel.B2),
                SkillResult(skill="Production orale / Speaking", level=CefrLevel.B1),
            ),
            "session_date": date(2026, 10, 14),
            "centre": "Centre d'examen de Lyon Part-Dieu",
            "issued_on": date(2026, 11, 20),
        }
        fields.update(overrides)
        return CertificateContent(**fields)

    return build


@pytest.fixture(scope="session")
def rendered_pdf(
    make_content: Callable[..., CertificateContent], branding: IssuerBranding
) -> bytes:
    return render_certificate(make_content(), branding=branding)


@pytest.fixture(scope="session")
def signed_pdf(rendered_pdf: bytes, dev_pki: DevPki) -> bytes:
    return load_signer(dev_pki.identity).sign(rendered_pdf)
