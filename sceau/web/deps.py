"""Annotated dependency aliases for the routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from sceau.web.state import AppState


def state_of(request: Request) -> AppState:
    """The process's AppState, which the app was built with."""
    state: AppState = request.app.state.sceau
    return state


# The dependencies below do no I/O: as coroutines they run on the event loop, where a plain
# function would cost each request a hop to a worker thread and back (FastAPI runs sync
# dependencies in its thread pool).


async def app_state(request: Request) -> AppState:
    return state_of(request)


State = Annotated[AppState, Depends(app_state)]


async def client_hint(request: Request) -> str:
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
