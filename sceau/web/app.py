"""The FastAPI app factory: one app per settings, errors mapped to HTTP statuses in one place."""

from __future__ import annotations

import logging
import mimetypes
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from contracts.errors import RegistryError
from issuer.revocation import RevocationError
from offchain_store.errors import MalformedToken, StoreError
from offchain_store.shares import (
    CertificateNotFound,
    CertificateRevoked,
    InvalidShareRequest,
    ShareNotFound,
    WrongLinkKey,
)
from offchain_store.tokens import TokenError, TokenForbidden
from sceau.settings import ConfigurationError, Settings
from sceau.web import admin_pages, pages, routes_admin, routes_api, routes_candidate
from sceau.web.state import AppState

log = logging.getLogger("sceau.web")

# One place maps domain errors to HTTP statuses; messages are plain language, never secrets.
HTTP_STATUS: tuple[tuple[type[Exception], int, str], ...] = (
    (TokenForbidden, 403, "forbidden"),
    (TokenError, 401, "unauthorized"),
    (CertificateNotFound, 404, "certificate_not_found"),
    (ShareNotFound, 404, "share_not_found"),
    (WrongLinkKey, 403, "wrong_link_key"),
    (CertificateRevoked, 410, "certificate_revoked"),
    (InvalidShareRequest, 422, "invalid_request"),
    (MalformedToken, 403, "wrong_link_key"),
    (RevocationError, 422, "revocation_refused"),
    (RegistryError, 503, "chain_unavailable"),
    (ConfigurationError, 503, "not_configured"),
    (StoreError, 500, "storage_error"),
)


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
    app = FastAPI(
        title="Sceau",
        version="1",
        description="Signed certificates, anchored on chain, verified from a shared link.",
    )
    app.state.sceau = AppState.build(settings)
    app.middleware("http")(_security_headers)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for name, folder in VENDOR.items():
        if folder.is_dir():
            app.mount(f"/vendor/{name}", StaticFiles(directory=folder), name=f"vendor-{name}")
    app.include_router(pages.router)
    app.include_router(admin_pages.router)
    app.include_router(routes_api.router)
    app.include_router(routes_candidate.router)
    app.include_router(routes_admin.router)
    for kind, status, code in HTTP_STATUS:
        app.add_exception_handler(kind, _handler(status, code))
    return app


async def _security_headers(request: Request, call_next: Any) -> Response:
    response: Response = await call_next(request)
    headers = response.headers
    headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    headers["Referrer-Policy"] = "no-referrer"
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    if not request.url.path.startswith(("/static/", "/vendor/")):
        headers["Cache-Control"] = "no-store"  # certificate pages and answers are never cached
    return response


def _handler(status: int, code: str):  # type: ignore[no-untyped-def]
    async def handle(request: Request, error: Exception) -> JSONResponse:
        if status >= 500:
            log.error(
                "%s on %s %s: %s", code, request.method, request.url.path, type(error).__name__
            )
        return JSONResponse({"code": code, "message": str(error)}, status_code=status)

    return handle
