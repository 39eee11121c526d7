"""Server-rendered pages: verify, status, share, candidate. The same services as the JSON API."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from offchain_store.shares import (
    CertificateNotFound,
    CertificateRevoked,
    ShareEnded,
    ShareExhausted,
    ShareExpired,
    ShareNotFound,
    living_share,
)
from sceau.web.deps import State
from sceau.web.i18n import COOKIE, WORDS, Translator, language_of
from sceau.web.statuses import status_of_kind
from sceau_errors import SceauError
from verifier.share_link import tombstone_report
from verifier.status import public_status

# What a share page says when the share cannot be opened, whatever the key; the status is the
# API's for the same error (statuses.py), so the page and the API never disagree.
SHARE_REFUSALS: dict[type[SceauError], str] = {
    ShareNotFound: "error.share_unknown",
    CertificateNotFound: "error.share_unknown",
    ShareEnded: "error.share_ended",
    ShareExpired: "error.share_expired",
    ShareExhausted: "error.share_exhausted",
}
REVOKED_STATUS = status_of_kind(CertificateRevoked)
TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
router = APIRouter(include_in_schema=False)
# Words the check page's script needs beyond every page's: a presentation report's claims.
PRESENTATION_WORDS = ("presentation.", "claim.")


def render(
    request: Request,
    state: State,
    template: str,
    status_code: int = 200,
    *,
    script_words: tuple[str, ...] = (),
    **context: Any,
) -> HTMLResponse:
    """A page in the reader's language; a ?lang= choice is remembered in a cookie. The page's
    script gets every page's words and those whose keys start with one of `script_words`."""
    t = Translator(language_of(request))
    words = t.js_words() | {k: t(k) for k in WORDS[t.lang] if k.startswith(script_words)}
    response = TEMPLATES.TemplateResponse(
        request,
        template,
        {
            "t": t,
            "issuer_name": state.settings.issuer_name,
            "words_json": json.dumps(words, ensure_ascii=False).replace("</", "<\\/"),
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
    """A page headed by what happened (`key`.title), then what to do (`key`)."""
    t = Translator(language_of(request))
    context.setdefault("headline", t(f"{key}.title"))
    context.setdefault("tone", "ERROR")
    return render(request, state, "error.html", status_code, message=t(key), **context)


@router.get("/")
def home() -> Response:
    return RedirectResponse("/check", status_code=307)


@router.get("/check", response_class=HTMLResponse)
def check_page(request: Request, state: State) -> HTMLResponse:
    """A PDF dropped, or an SD-JWT VC presentation pasted: the same report either way."""
    return render(request, state, "check.html", script_words=PRESENTATION_WORDS)


@router.get("/c/{certificate_id}", response_class=HTMLResponse)
def status_page(certificate_id: str, request: Request, state: State) -> HTMLResponse:
    found = public_status(state.engine, certificate_id) if _is_id(certificate_id) else None
    if found is None:
        return error_page(request, state, 404, "error.not_found")
    return render(request, state, "status.html", status=found)


@router.get("/s/{share_id}", response_class=HTMLResponse)
def share_page(share_id: str, request: Request, state: State) -> HTMLResponse:
    """What can be told without the key (unknown, revoked, ended, expired, used up) heads the
    page; otherwise the page's script opens the share with the key from the fragment (a
    suspension, public on the certificate's status page too, is said beside the report)."""
    try:
        share = living_share(state.engine, share_id, now=state.now())
    except CertificateRevoked as revoked:
        return _revoked_page(request, state, revoked.certificate_id)
    except tuple(SHARE_REFUSALS) as refused:
        code, key = status_of_kind(type(refused)), SHARE_REFUSALS[type(refused)]
        if isinstance(refused, ShareExpired):
            headline = Translator(language_of(request)).expired_headline(refused.at)
            return error_page(request, state, code, key, tone="notice", headline=headline)
        return error_page(request, state, code, key, tone="notice")
    status = public_status(state.engine, share.certificate_id)
    return render(request, state, "share.html", share_id=share_id, status=status)


@router.get("/me/{certificate_id}", response_class=HTMLResponse)
def candidate_page(certificate_id: str, request: Request, state: State) -> HTMLResponse:
    found = public_status(state.engine, certificate_id) if _is_id(certificate_id) else None
    if found is None:
        return error_page(request, state, 404, "error.not_found")
    if found.status == "revoked":
        return _revoked_page(request, state, certificate_id)
    return render(request, state, "candidate.html", certificate_id=certificate_id, status=found)


def _revoked_page(request: Request, state: State, certificate_id: str) -> HTMLResponse:
    """The tombstone, headed by when and why the certificate was revoked."""
    at, reason = _revocation(state, certificate_id)
    t = Translator(language_of(request))
    return error_page(
        request,
        state,
        REVOKED_STATUS,
        "error.revoked",
        tone="REVOKED",
        headline=t.revoked_headline(at, reason),
        revoked_at=at,
        reason=t.reason_name(reason),
    )


def _revocation(state: State, certificate_id: str) -> tuple[datetime | None, str | None]:
    """Date and reason from the report's revocation check, read fresh from the chain; the
    tombstone's own record when the chain cannot answer."""
    report = tombstone_report(state.verification(), certificate_id, (), state.now())
    if report.revoked_at is not None:
        return datetime.fromisoformat(report.revoked_at), report.revocation_reason
    tombstone = public_status(state.engine, certificate_id)
    if tombstone is None:
        return None, None
    return tombstone.revoked_at, tombstone.revocation_reason


def _is_id(value: str) -> bool:
    return len(value) == 32 and all(c in "0123456789abcdef" for c in value)
