"""Server-rendered pages: verify, status, candidate. The same services as the JSON API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlmodel import Session

from offchain_store.records import CertificateRecord, CertificateState, ShareRecord
from sceau.web.deps import State
from sceau.web.i18n import COOKIE, Translator, language_of
from verifier.status import public_status

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
router = APIRouter(include_in_schema=False)


def render(
    request: Request, state: State, template: str, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """A page in the reader's language; a ?lang= choice is remembered in a cookie."""
    t = Translator(language_of(request))
    response = TEMPLATES.TemplateResponse(
        request,
        template,
        {
            "t": t,
            "issuer_name": state.settings.issuer_name,
            "words_json": json.dumps(t.js_words(), ensure_ascii=False).replace("</", "<\\/"),
            **context,
        },
        status_code=status_code,
    )
    if request.query_params.get("lang") in ("fr", "en"):
        response.set_cookie(
            COOKIE, t.lang, max_age=365 * 86400, samesite="lax", httponly=True, secure=False
        )
    return response


def error_page(
    request: Request, state: State, status_code: int, key: str, **context: Any
) -> HTMLResponse:
    t = Translator(language_of(request))
    return render(request, state, "error.html", status_code, message=t(key), **context)


@router.get("/")
def home() -> Response:
    return RedirectResponse("/check", status_code=307)


@router.get("/check", response_class=HTMLResponse)
def check_page(request: Request, state: State) -> HTMLResponse:
    return render(request, state, "check.html")


@router.get("/c/{certificate_id}", response_class=HTMLResponse)
def status_page(certificate_id: str, request: Request, state: State) -> HTMLResponse:
    found = public_status(state.engine, certificate_id) if _is_id(certificate_id) else None
    if found is None:
        return error_page(request, state, 404, "error.not_found")
    return render(request, state, "status.html", status=found)


@router.get("/s/{share_id}", response_class=HTMLResponse)
def share_page(share_id: str, request: Request, state: State) -> HTMLResponse:
    """What can be told without the key (unknown, ended, expired) is told with its status."""
    with Session(state.engine) as session:
        share = session.get(ShareRecord, share_id) if _is_id(share_id) else None
        cert = session.get(CertificateRecord, share.certificate_id) if share else None
    if share is None or cert is None:
        return error_page(request, state, 404, "error.not_found")
    if cert.state == CertificateState.REVOKED:
        return _revoked_page(request, state, cert)
    if share.ended_at is not None:
        return error_page(request, state, 410, "error.share_ended", verdict="INVALID")
    expires = (
        share.expires_at
        if share.expires_at.tzinfo
        else share.expires_at.replace(tzinfo=state.now().tzinfo)
    )
    if expires <= state.now():
        return error_page(request, state, 410, "error.share_expired", verdict="INVALID")
    return render(request, state, "share.html", share_id=share_id)


@router.get("/me/{certificate_id}", response_class=HTMLResponse)
def candidate_page(certificate_id: str, request: Request, state: State) -> HTMLResponse:
    with Session(state.engine) as session:
        cert = session.get(CertificateRecord, certificate_id) if _is_id(certificate_id) else None
    if cert is None:
        return error_page(request, state, 404, "error.not_found")
    if cert.state == CertificateState.REVOKED:
        return _revoked_page(request, state, cert)
    return render(request, state, "candidate.html", certificate_id=certificate_id)


def _revoked_page(request: Request, state: State, cert: CertificateRecord) -> HTMLResponse:
    """The tombstone, as a page: revoked, when, and the reason category."""
    return error_page(
        request,
        state,
        410,
        "error.revoked",
        verdict="REVOKED",
        revoked_at=cert.revoked_at,
        reason=cert.revocation_reason,
    )


def _is_id(value: str) -> bool:
    return len(value) == 32 and all(c in "0123456789abcdef" for c in value)
