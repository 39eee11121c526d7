"""The issuer's Token Status List at its stable URL, and the admin API to suspend and lift.

`/status/{issuer_id}` answers the last signed `statuslist+jwt` as it is stored (the bytes
whose SHA-256 the registry holds), cacheable for its `ttl`, with an ETag.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from issuer.status_list import MEDIA_TYPE, StatusListPolicy, served_list
from issuer.suspension import SuspensionOutcome, lift_now, suspend_now
from sceau.web.deps import State
from sceau.web.errors import WebError
from sceau.web.json_bodies import StrictJsonRoute
from sceau.web.routes_admin import Revoker, _actor
from sceau.web.schemas import JSON_BODY_ERRORS, error_answers

TTL_SECONDS = StatusListPolicy(public_base_url="").ttl_seconds

public = APIRouter(tags=["status"])
admin = APIRouter(
    prefix="/api/v1/admin",
    tags=["admin"],
    route_class=StrictJsonRoute,
    responses=error_answers(401, 403, 422),
)
CHANGE_ERRORS = error_answers(*JSON_BODY_ERRORS, 404, 503)


class StatusListNotFound(WebError):
    message = "This issuer has published no status list."


@public.get(
    "/status/{issuer_id}",
    response_class=Response,
    responses={
        200: {"content": {MEDIA_TYPE: {}}, "description": "The signed status list (a JWT)."},
        304: {"description": "Unchanged since the ETag given in If-None-Match."},
        **error_answers(404, 422),
    },
)
def status_list(issuer_id: str, request: Request, state: State) -> Response:
    """The issuer's current Token Status List (draft-ietf-oauth-status-list), as signed."""
    served = served_list(state.engine, issuer_id, ttl_seconds=TTL_SECONDS)
    if served is None:
        raise StatusListNotFound()
    headers = {
        "Cache-Control": f"public, max-age={served.ttl_seconds}",
        "ETag": f'"{served.sha256_hex}"',
    }
    if request.headers.get("if-none-match") == headers["ETag"]:
        return Response(status_code=304, headers=headers)
    return Response(served.token.encode(), media_type=MEDIA_TYPE, headers=headers)


class SuspensionReasonName(StrEnum):
    """Why a certificate is suspended (contracts.values.SuspensionReason)."""

    APPEAL = "appeal"
    INQUIRY = "inquiry"
    PAYMENT = "payment"
    OTHER = "other"


class NewSuspension(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: SuspensionReasonName
    note: str = Field(min_length=1, max_length=500)


class Lifting(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(min_length=1, max_length=500)


class SuspensionView(BaseModel):
    certificate_id: str
    suspended: bool
    since: datetime | None = Field(description="Block time of the suspension that stands.")
    reason: SuspensionReasonName | None
    carried_out: int = Field(description="Suspension changes carried out on chain by this call.")


def _view(outcome: SuspensionOutcome) -> SuspensionView:
    return SuspensionView(
        certificate_id=outcome.certificate_id,
        suspended=outcome.suspended,
        since=outcome.since,
        reason=SuspensionReasonName(outcome.reason) if outcome.reason else None,
        carried_out=outcome.carried_out,
    )


@admin.post("/certificates/{certificate_id}/suspend", responses=CHANGE_ERRORS)
def suspend(
    certificate_id: str, body: NewSuspension, state: State, token: Revoker
) -> SuspensionView:
    """Suspend a certificate on chain now (reversible; nothing is shredded)."""
    with state.revoking:  # one revoking account per process: one transaction at a time
        outcome = suspend_now(
            state.suspensions(),
            certificate_id,
            reason=body.reason.value,
            note=body.note,
            actor=_actor(token),
            now=state.now(),
        )
    return _view(outcome)


@admin.post("/certificates/{certificate_id}/unsuspend", responses=CHANGE_ERRORS)
def unsuspend(certificate_id: str, body: Lifting, state: State, token: Revoker) -> SuspensionView:
    """Lift a certificate's suspension on chain now."""
    with state.revoking:
        outcome = lift_now(
            state.suspensions(),
            certificate_id,
            note=body.note,
            actor=_actor(token),
            now=state.now(),
        )
    return _view(outcome)
