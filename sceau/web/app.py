"""The FastAPI app factory: one app per settings, errors answered by the one table of HTTP
statuses (sceau/web/statuses.py)."""

from __future__ import annotations

import logging
import mimetypes
import re
from collections.abc import Mapping
from http import HTTPStatus
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from issuer.wallet_errors import WalletError
from sceau.settings import Settings
from sceau.web import (
    admin_delivery,
    admin_pages,
    pages,
    routes_admin,
    routes_api,
    routes_candidate,
    routes_status,
    routes_wallet,
)
from sceau.web.access_log import AccessLog
from sceau.web.guards import BodyLimit, SecurityHeaders
from sceau.web.i18n import require_catalogs
from sceau.web.state import AppState
from sceau.web.statuses import HTTP_STATUS, shown_message

log = logging.getLogger("sceau.web")

STATIC = Path(__file__).parent / "static"
NODE_MODULES = Path(__file__).parents[2] / "node_modules"
VENDOR = {  # served by Sceau itself: no CDN, nothing that tells a third party who looked
    "pdfjs": NODE_MODULES / "pdfjs-dist" / "legacy" / "build",
    "qrcode": NODE_MODULES / "qrcode-generator" / "dist",
}
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "worker-src 'self'",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
mimetypes.add_type("text/javascript", ".mjs")


def create_app(settings: Settings) -> FastAPI:
    """The whole web app for these settings."""
    require_catalogs()  # a page without its words is refused at start, not at first reader
    app = FastAPI(
        title="Sceau",
        version="1",
        description="Signed certificates, anchored on chain, verified from a shared link.",
    )
    app.state.sceau = AppState.build(settings)
    app.add_middleware(BodyLimit)  # each layer added wraps those before it
    app.add_middleware(SecurityHeaders, content_security_policy=CONTENT_SECURITY_POLICY)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for name, folder in VENDOR.items():
        if folder.is_dir():
            app.mount(f"/vendor/{name}", StaticFiles(directory=folder), name=f"vendor-{name}")
    app.include_router(pages.router)
    app.include_router(admin_pages.router)
    app.include_router(admin_delivery.router)
    app.include_router(routes_api.router)
    app.include_router(routes_candidate.router)
    app.include_router(routes_admin.router)
    app.include_router(routes_status.public)
    app.include_router(routes_status.admin)
    for router in routes_wallet.ROUTERS:  # OpenID4VCI issuance and presentation checks
        app.include_router(router)
    app.add_middleware(AccessLog)  # added last: the outermost layer, it sees every answer
    add_error_handlers(app)
    return app


def add_error_handlers(app: FastAPI) -> None:
    """Answer every mapped error (HTTP_STATUS), FastAPI's invalid requests and Starlette's own."""
    for kind, status, code in HTTP_STATUS:
        app.add_exception_handler(kind, _handler(status, code))
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(HTTPException, _http_error)


def _handler(status: int, code: str):  # type: ignore[no-untyped-def]
    async def handle(request: Request, error: Exception) -> JSONResponse:
        if status >= 500:  # the access log line carries the route; never the path or a message
            log.error("%s (%s) request=%s", code, type(error).__name__, _request_id(request))
        if isinstance(error, WalletError):
            return _wallet_refusal(status, code, error)
        return _error(status, code, shown_message(error, status, code))

    return handle


def _wallet_refusal(status: int, code: str, refusal: WalletError) -> JSONResponse:
    """OAuth's fields for wallets (RFC 6749 5.2, OpenID4VCI 8.3.1), Sceau's (ApiError) beside."""
    body = {
        "error": refusal.oauth_error,
        "error_description": refusal.message,
        "code": code,
        "message": refusal.message,
    }
    headers = {"Cache-Control": "no-store"}
    if status == 401:
        headers["WWW-Authenticate"] = f'Bearer error="{refusal.oauth_error}"'
    return JSONResponse(body, status, headers=headers)


async def _invalid_request(request: Request, error: Exception) -> JSONResponse:
    """FastAPI's own answer quotes the input (a link key, once): here, only where and what."""
    assert isinstance(error, RequestValidationError)
    problems = [
        {"loc": _location(problem), "type": _word(str(problem.get("type", "invalid")))}
        for problem in error.errors()[:20]
    ]
    message = "The request does not match the API schema."
    return _error(422, "invalid_request", message, errors=problems)


async def _http_error(request: Request, error: Exception) -> Response:
    """Starlette's 404 and 405 (and any HTTPException): a fixed message for the status."""
    assert isinstance(error, HTTPException)
    status = error.status_code
    if status < 400:
        return Response(status_code=status, headers=error.headers)
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    code = phrase.lower().replace(" ", "_").replace("-", "_")
    return _error(status, code, f"{phrase}.", headers=error.headers)


_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,39}$")


def _location(problem: dict[str, Any]) -> list[str | int]:
    """A field's location; an unknown field's name is the caller's own input, so not it."""
    loc = list(problem.get("loc", ()))
    if problem.get("type") == "extra_forbidden" and loc:
        loc[-1] = "(unknown field)"
    return [part if isinstance(part, int) else _word(str(part)) for part in loc]


def _word(part: str) -> str:
    return part if _NAME.match(part) or part == "(unknown field)" else "(name)"


def _request_id(request: Request) -> str:
    return str(request.scope.get("state", {}).get("request_id", "-"))


def _error(
    status: int, code: str, message: str, *, headers: Mapping[str, str] | None = None, **extra: Any
) -> JSONResponse:
    if status == 401:
        headers = {**(headers or {}), "WWW-Authenticate": "Bearer"}
    return JSONResponse({"code": code, "message": message, **extra}, status, headers=headers)
