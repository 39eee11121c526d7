"""Annotated dependency aliases for the routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from sceau.web.state import AppState


def app_state(request: Request) -> AppState:
    state: AppState = request.app.state.sceau
    return state


State = Annotated[AppState, Depends(app_state)]


def client_hint(request: Request) -> str:
    """An approximate description of the client for the candidate's access log: never a full IP."""
    agent = request.headers.get("user-agent", "")
    browser = next(
        (
            name
            for name in ("Firefox", "Edg", "Chrome", "Safari", "curl", "python")
            if name in agent
        ),
        "unknown browser",
    )
    host = request.client.host if request.client else ""
    parts = host.split(".")
    network = (
        ".".join(parts[:3]) + ".x"
        if len(parts) == 4
        else (host.split(":")[0] + ":…" if host else "")
    )
    return f"{browser.replace('Edg', 'Edge')}, {network}".strip(", ")


ClientHint = Annotated[str, Depends(client_hint)]
