"""Two thin ASGI layers every answer passes through: the body-size guard and the security
headers. Plain ASGI, not `@app.middleware("http")`: Starlette's BaseHTTPMiddleware runs each
request through an extra task and memory stream, which cost about 2 ms per share opening."""

from __future__ import annotations

import json

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Answers with their own caching: static files, vendored scripts, the signed status list
# (public, max-age = its ttl, with an ETag). Every other answer is never cached.
OWN_CACHING = ("/static/", "/vendor/", "/status/")
UPLOAD_PATHS = ("/api/v1/verify", "/admin/import")
MAX_UPLOAD_BODY = 11 * 1024 * 1024  # a 10 MB PDF or results file, with its multipart framing
MAX_JSON_BODY = 64 * 1024
BODY_METHODS = ("POST", "PUT", "PATCH")


class SecurityHeaders:
    """The page policy on every answer, and `no-store` on all but those with their own caching."""

    def __init__(self, app: ASGIApp, content_security_policy: str) -> None:
        self.app = app
        self.fixed = {
            "content-security-policy": content_security_policy,
            "referrer-policy": "no-referrer",
            "x-content-type-options": "nosniff",
            "x-frame-options": "DENY",
            "permissions-policy": "camera=(), microphone=(), geolocation=()",
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        never_cached = not str(scope["path"]).startswith(OWN_CACHING)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.fixed.items():
                    headers[name] = value
                if never_cached:  # certificate pages and answers are never cached
                    headers["cache-control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimit:
    """Refuse a body that is too large, or of no stated length, before anything reads it
    (uploads are then spooled to disk by the routes)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in BODY_METHODS:
            refusal = _refusal(scope)
            if refusal is not None:
                status, body = refusal
                await _answer(send, status, body)
                return
        await self.app(scope, receive, send)


def _refusal(scope: Scope) -> tuple[int, dict[str, str]] | None:
    path = str(scope["path"])
    limit = MAX_UPLOAD_BODY if path.startswith(UPLOAD_PATHS) else MAX_JSON_BODY
    headers = Headers(scope=scope)
    length = headers.get("content-length")
    if length is None and "chunked" in headers.get("transfer-encoding", ""):
        return 411, {"code": "length_required", "message": "Send the body with a length."}
    if length is not None and (not length.isdigit() or int(length) > limit):
        return 413, {"code": "too_large", "message": f"The body is larger than {limit} bytes."}
    return None


async def _answer(send: Send, status: int, body: dict[str, str]) -> None:
    content = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(content)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": content})
