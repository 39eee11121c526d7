"""The admin API: every endpoint needs a bearer token of the right role."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from issuer.revocation import carry_out, decide, requests, revoke_on_initiative
from offchain_store.audit import entries, verify_chain
from offchain_store.records import BatchRecord, RequestState
from offchain_store.tokens import (
    AdminRole,
    AdminTokenRecord,
    MalformedAdminToken,
    authenticate,
    require_role,
)
from sceau import compose
from sceau.web.deps import State, app_state

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])


def requires(*roles: AdminRole) -> Callable[..., AdminTokenRecord]:
    """A dependency: the bearer token must be valid and hold one of `roles` (admin always may)."""

    def check(request: Request) -> AdminTokenRecord:
        state = app_state(request)
        scheme, _, presented = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not presented:
            raise MalformedAdminToken()
        token = authenticate(state.engine, presented.strip(), now=state.now())
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
    note: str = Field(min_length=1, max_length=500)


class InitiativeRevocation(BaseModel):
    reason: str = Field(description="issuer_error, fraud or superseded")
    note: str = Field(min_length=1, max_length=500)


class RequestView(BaseModel):
    id: str
    certificate_id: str
    kind: str
    category: str
    state: str
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


@router.post("/revocations/{request_id}/approve")
def approve(request_id: str, body: Decision, state: State, token: Revoker) -> dict[str, int]:
    """Approve: the certificate (and any other approved one) is revoked on chain and shredded."""
    decide(
        state.engine,
        request_id,
        approve=True,
        actor=_actor(token),
        note=body.note,
        now=state.now(),
        audit=state.audit,
    )
    return {"revoked": carry_out(compose.revocations(state.settings), actor=_actor(token))}


@router.post("/revocations/{request_id}/refuse", status_code=204)
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


@router.post("/certificates/{certificate_id}/revoke")
def revoke(
    certificate_id: str, body: InitiativeRevocation, state: State, token: Admin
) -> dict[str, int]:
    """The issuer revokes on its own initiative (error, fraud, superseded)."""
    revoke_on_initiative(
        state.engine,
        certificate_id=certificate_id,
        category=body.reason,
        note=body.note,
        actor=_actor(token),
        now=state.now(),
        audit=state.audit,
    )
    return {"revoked": carry_out(compose.revocations(state.settings), actor=_actor(token))}


@router.get("/audit")
def audit_log(state: State, _: Auditor, limit: int = 50, offset: int = 0) -> dict[str, Any]:
    """The audit log, newest first, with its integrity status."""
    check = verify_chain(state.engine)
    rows = entries(
        state.engine,
        limit=max(1, min(limit, 500)),
        offset=max(0, min(offset, 10**9)),
        newest_first=True,
    )
    return {
        "intact": check.ok,
        "problem": check.problem,
        "entries": [
            {"seq": e.seq, "at": e.at, "actor": e.actor, "action": e.action, "subject": e.subject}
            for e in rows
        ],
    }


@router.get("/batches")
def batches(state: State, _: IssuerOrAuditor, limit: int = 50) -> list[dict[str, Any]]:
    """Issued batches with their anchoring transactions."""
    with Session(state.engine) as session:
        query = (
            select(BatchRecord)
            .order_by(col(BatchRecord.created_at).desc())
            .limit(max(1, min(limit, 500)))
        )
        found = session.exec(query).all()
    return [
        {
            "id": b.id,
            "source": b.source_name,
            "state": b.state,
            "created_at": b.created_at,
            "root": b.root,
            "transaction": b.tx_hash,
            "block": b.block_number,
            "anchored_at": b.anchored_at,
        }
        for b in found
    ]
