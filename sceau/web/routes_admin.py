"""The admin API: every endpoint needs a bearer token of the right role."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field

from issuer.batches import recent_batches
from issuer.revocation import approve_request, decide, requests, revoke_and_shred
from offchain_store.audit import entries, verify_chain
from offchain_store.records import BatchState, RequestKind, RequestState
from offchain_store.tokens import (
    AdminRole,
    AdminTokenRecord,
    MalformedAdminToken,
    authenticate,
    require_role,
)
from sceau.web.deps import State, state_of
from sceau.web.json_bodies import StrictJsonRoute
from sceau.web.schemas import JSON_BODY_ERRORS, error_answers

BEARER = HTTPBearer(
    scheme_name="AdminToken",
    description="An admin token (sceau_<12 hex>_<43 base64url>), made with `sceau admin token`.",
    auto_error=False,
)
router = APIRouter(
    prefix="/api/v1/admin",
    tags=["admin"],
    route_class=StrictJsonRoute,
    # 401: no valid token; 403: a valid token whose role may not do this.
    responses=error_answers(401, 403, 422),
)
DECISION_ERRORS = error_answers(*JSON_BODY_ERRORS, 404)


def requires(*roles: AdminRole) -> Callable[..., AdminTokenRecord]:
    """A dependency: the bearer token must be valid and hold one of `roles` (admin always may)."""

    def check(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)],
    ) -> AdminTokenRecord:
        state = state_of(request)
        if credentials is None:
            raise MalformedAdminToken()
        token = authenticate(state.engine, credentials.credentials.strip(), now=state.now())
        require_role(token, *roles)
        return token

    return check


Revoker = Annotated[AdminTokenRecord, Depends(requires(AdminRole.REVOKER))]
RevokerOrAuditor = Annotated[
    AdminTokenRecord, Depends(requires(AdminRole.REVOKER, AdminRole.AUDITOR))
]
Admin = Annotated[AdminTokenRecord, Depends(requires())]
Auditor = Annotated[AdminTokenRecord, Depends(requires(AdminRole.AUDITOR))]
IssuerOrAuditor = Annotated[
    AdminTokenRecord, Depends(requires(AdminRole.ISSUER, AdminRole.AUDITOR))
]


class Decision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(min_length=1, max_length=500)


class InitiativeReason(StrEnum):
    """Why the issuer revokes on its own initiative."""

    ISSUER_ERROR = "issuer_error"
    FRAUD = "fraud"
    SUPERSEDED = "superseded"


class RevocationCategory(StrEnum):
    """A request's reason category (the names of contracts.client.RevocationReason)."""

    HOLDER_REQUEST = "holder_request"
    ISSUER_ERROR = "issuer_error"
    FRAUD = "fraud"
    SUPERSEDED = "superseded"
    RETENTION_EXPIRED = "retention_expired"


class InitiativeRevocation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: InitiativeReason
    note: str = Field(min_length=1, max_length=500)


class Revoked(BaseModel):
    revoked: int = Field(description="How many certificates were revoked on chain and shredded.")


class AuditEntry(BaseModel):
    seq: int
    at: datetime
    actor: str
    action: str
    subject: str


class AuditPage(BaseModel):
    intact: bool
    problem: str | None
    entries: list[AuditEntry]


class BatchView(BaseModel):
    """A batch read from the domain's summary (its field names are the API's own)."""

    id: str
    source: str = Field(validation_alias="source_name")
    state: BatchState
    created_at: datetime
    root: str | None
    transaction: str | None = Field(validation_alias="tx_hash")
    block: int | None = Field(validation_alias="block_number")
    anchored_at: datetime | None


class RequestView(BaseModel):
    id: str
    certificate_id: str
    kind: RequestKind
    category: RevocationCategory
    state: RequestState
    explanation: str
    created_at: datetime
    decided_at: datetime | None
    decision_note: str | None


def _actor(token: AdminTokenRecord) -> str:
    return f"token:{token.id}"


@router.get("/revocations")
def list_revocations(state: State, _: RevokerOrAuditor, all: bool = False) -> list[RequestView]:
    found = requests(state.engine, states=() if all else (RequestState.PENDING,))
    return [RequestView.model_validate(r, from_attributes=True) for r in found]


@router.post(
    "/revocations/{request_id}/approve", responses={**DECISION_ERRORS, **error_answers(503)}
)
def approve(request_id: str, body: Decision, state: State, token: Revoker) -> Revoked:
    """Approve: the certificate (and any other approved one) is revoked on chain and shredded."""
    with state.revoking:
        revoked = approve_request(
            state.revocations(), request_id, actor=_actor(token), note=body.note, now=state.now()
        )
    return Revoked(revoked=revoked)


@router.post("/revocations/{request_id}/refuse", status_code=204, responses=DECISION_ERRORS)
def refuse(request_id: str, body: Decision, state: State, token: Revoker) -> None:
    decide(
        state.engine,
        request_id,
        approve=False,
        actor=_actor(token),
        note=body.note,
        now=state.now(),
        audit=state.audit,
    )


@router.post(
    "/certificates/{certificate_id}/revoke", responses={**DECISION_ERRORS, **error_answers(503)}
)
def revoke(certificate_id: str, body: InitiativeRevocation, state: State, token: Admin) -> Revoked:
    """The issuer revokes on its own initiative (error, fraud, superseded)."""
    with state.revoking:
        revoked = revoke_and_shred(
            state.revocations(),
            certificate_id,
            category=body.reason.value,
            note=body.note,
            actor=_actor(token),
            now=state.now(),
        )
    return Revoked(revoked=revoked)


@router.get("/audit")
def audit_log(state: State, _: Auditor, limit: int = 50, offset: int = 0) -> AuditPage:
    """The audit log, newest first, with its integrity status."""
    check = verify_chain(state.engine)
    rows = entries(
        state.engine,
        limit=max(1, min(limit, 500)),
        offset=max(0, min(offset, 10**9)),
        newest_first=True,
    )
    return AuditPage(
        intact=check.ok,
        problem=check.problem,
        entries=[AuditEntry.model_validate(e, from_attributes=True) for e in rows],
    )


@router.get("/batches")
def batches(state: State, _: IssuerOrAuditor, limit: int = 50) -> list[BatchView]:
    """Issued batches with their anchoring transactions."""
    found = recent_batches(state.engine, limit=limit)
    return [BatchView.model_validate(b, from_attributes=True) for b in found]
