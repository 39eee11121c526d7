"""The FastAPI app factory: one app per settings, errors mapped to HTTP statuses in one place."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

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
from sceau.settings import Settings
from sceau.web import routes_admin, routes_api, routes_candidate
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
    (StoreError, 500, "storage_error"),
)


def create_app(settings: Settings) -> FastAPI:
    """The whole web app for these settings."""
    app = FastAPI(
        title="Sceau",
        version="1",
        description="Signed certificates, anchored on chain, verified from a shared link.",
    )
    app.state.sceau = AppState.build(settings)
    app.include_router(routes_api.router)
    app.include_router(routes_candidate.router)
    app.include_router(routes_admin.router)
    for kind, status, code in HTTP_STATUS:
        app.add_exception_handler(kind, _handler(status, code))
    return app


def _handler(status: int, code: str):  # type: ignore[no-untyped-def]
    async def handle(request: Request, error: Exception) -> JSONResponse:
        if status >= 500:
            log.error(
                "%s on %s %s: %s", code, request.method, request.url.path, type(error).__name__
            )
        return JSONResponse({"code": code, "message": str(error)}, status_code=status)

    return handle
