"""One access-log line per request: method, route template, status, duration, request id.

Never the path with its ids, the query string, a header, a body, a key or a token. The
request id is generated here (an incoming one could carry anything) and sent back as the
`X-Request-Id` header. An exception no handler turned into an answer is logged by its type
and code location only (its message may quote the input) and answered with a fixed 500.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
import traceback
from pathlib import Path
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.routing import Match, Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("sceau.access")
failures = logging.getLogger("sceau.web")
REQUEST_ID_HEADER = "X-Request-Id"
INTERNAL_ERROR = json.dumps({"code": "internal_error", "message": "Internal error."}).encode()


class AccessLog:
    """ASGI middleware: the outermost layer of the app, so it sees every answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = secrets.token_hex(8)
        scope.setdefault("state", {})["request_id"] = request_id
        path, started = scope["path"], time.perf_counter()
        answer = {"status": 500, "started": False}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer["status"], answer["started"] = message["status"], True
                MutableHeaders(scope=message).append(REQUEST_ID_HEADER, request_id)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as error:  # the last resort: nothing above it may see the message
            failures.error(
                "unhandled %s at %s request=%s", type(error).__name__, _where(error), request_id
            )
            if not answer["started"]:
                await _internal_error(send_with_id)
        finally:
            log.info(
                "%s %s %s %.1fms request=%s",
                scope["method"],
                route_template(scope, path),
                answer["status"],
                (time.perf_counter() - started) * 1000,
                request_id,
            )


def route_template(scope: Scope, path: str) -> str:
    """The route's template (`/api/v1/shares/{share_id}/open`), never the path itself."""
    # FastAPI keeps the included route's full template in its effective context.
    context = scope.get("fastapi", {}).get("effective_route_context")
    for route in (context, scope.get("route")):
        template = getattr(route, "path_format", None)
        if isinstance(template, str) and template:
            return template
    for route in getattr(scope.get("app"), "routes", ()):  # Starlette's own routes and mounts
        if isinstance(route, Mount) and path.startswith(route.path + "/"):
            return route.path + "/{path}"
        if isinstance(route, Route) and route.matches({**scope, "path": path})[0] is Match.FULL:
            return route.path_format
    return "(unmatched)"


def _where(error: BaseException) -> str:
    frames = traceback.extract_tb(error.__traceback__)[-3:]
    return " < ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(frames))


async def _internal_error(send: Send) -> None:
    headers: list[Any] = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(INTERNAL_ERROR)).encode()),
        (b"cache-control", b"no-store"),
        (b"x-content-type-options", b"nosniff"),
    ]
    await send({"type": "http.response.start", "status": 500, "headers": headers})
    await send({"type": "http.response.body", "body": INTERNAL_ERROR})
