"""The candidate's API: the link key (from the URL fragment) is posted in every body."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from issuer.revocation import request_by_candidate
from offchain_store.crypto import LinkKey
from offchain_store.records import RequestKind, RequestState
from offchain_store.shares import create_share, end_share, list_shares, open_as_candidate
from sceau.web.deps import State
from sceau.web.json_bodies import StrictJsonRoute
from sceau.web.schemas import JSON_BODY_ERRORS, LinkKeyBody, error_answers

router = APIRouter(
    prefix="/api/v1/me/{certificate_id}",
    tags=["candidate"],
    route_class=StrictJsonRoute,
    # 403: the key does not open this certificate; 404: no such certificate (or share).
    responses=error_answers(*JSON_BODY_ERRORS, 403, 404, 410),
)


class CandidateView(BaseModel):
    certificate_id: str
    pdf_base64: str
    receipt: dict[str, object] | None


class NewShare(LinkKeyBody):
    model_config = ConfigDict(extra="forbid")

    recipient: str = Field(min_length=1, max_length=200)
    expires_in_days: int = Field(default=30, ge=1, le=366)
    max_opens: int | None = Field(default=None, ge=1, le=10_000)


class CreatedShare(BaseModel):
    share_id: str
    link: str  # contains the share key in its fragment: shown to the candidate only
    expires_at: datetime
    max_opens: int | None


class Opening(BaseModel):
    opened_at: datetime
    client: str


class ShareView(BaseModel):
    share_id: str
    recipient: str
    created_at: datetime
    expires_at: datetime
    max_opens: int | None
    opens: int
    ended_at: datetime | None
    openings: list[Opening]


def _key(body: LinkKeyBody) -> LinkKey:
    return LinkKey.from_token(body.key)


@router.post("", summary="Open my certificate")
def candidate_certificate(certificate_id: str, body: LinkKeyBody, state: State) -> CandidateView:
    opened = open_as_candidate(state.engine, state.blobs, certificate_id, _key(body))
    receipt = json.loads(opened.record.receipt) if opened.record.receipt else None
    return CandidateView(
        certificate_id=certificate_id,
        pdf_base64=base64.b64encode(opened.pdf).decode(),
        receipt=receipt,
    )


@router.post("/shares", summary="Share my certificate with one recipient", status_code=201)
def new_share(certificate_id: str, body: NewShare, state: State) -> CreatedShare:
    now = state.now()
    share, share_key = create_share(
        state.engine,
        certificate_id=certificate_id,
        candidate_key=_key(body),
        recipient=body.recipient,
        expires_at=now + timedelta(days=body.expires_in_days),
        max_opens=body.max_opens,
        now=now,
    )
    base = state.settings.public_base_url.rstrip("/")
    return CreatedShare(
        share_id=share.id,
        link=f"{base}/s/{share.id}#{share_key.to_token()}",
        expires_at=share.expires_at,
        max_opens=share.max_opens,
    )


@router.post("/shares/list", summary="My shares and who opened them")
def my_shares(certificate_id: str, body: LinkKeyBody, state: State) -> list[ShareView]:
    return [
        ShareView(
            share_id=share.id,
            recipient=share.recipient,
            created_at=share.created_at,
            expires_at=share.expires_at,
            max_opens=share.max_opens,
            opens=share.opens,
            ended_at=share.ended_at,
            openings=[Opening(opened_at=e.opened_at, client=e.client) for e in log],
        )
        for share, log in list_shares(state.engine, certificate_id, _key(body))
    ]


@router.post("/shares/{share_id}/end", summary="End a share now", status_code=204)
def stop_share(certificate_id: str, share_id: str, body: LinkKeyBody, state: State) -> None:
    end_share(
        state.engine,
        certificate_id=certificate_id,
        candidate_key=_key(body),
        share_id=share_id,
        now=state.now(),
    )


class NewRequest(LinkKeyBody):
    model_config = ConfigDict(extra="forbid")

    kind: RequestKind
    explanation: str = Field(default="", max_length=1000)


class RequestView(BaseModel):
    request_id: str
    kind: RequestKind
    state: RequestState
    what_happens_en: str
    what_happens_fr: str


WHAT_HAPPENS = {
    "en": (
        "A revoker of the issuing body will review your request. Once approved, the certificate "
        "is revoked on the chain for good and its content is destroyed: the encrypted file, every "
        "key and every share. Anyone checking it then sees 'revoked'. An anchored certificate "
        "cannot be erased without being revoked: erasure is done this way."
    ),
    "fr": (
        "Un responsable de l'organisme examinera votre demande. Une fois approuvée, le certificat "
        "est révoqué définitivement sur la chaîne et son contenu détruit : le fichier chiffré, "
        "toutes les clés et tous les partages. Toute vérification affichera alors « révoqué ». "
        "Un certificat ancré ne peut être effacé sans être révoqué : l'effacement se fait ainsi."
    ),
}


@router.post("/requests", summary="Ask for revocation or erasure", status_code=201)
def ask_revocation(certificate_id: str, body: NewRequest, state: State) -> RequestView:
    request = request_by_candidate(
        state.engine,
        certificate_id=certificate_id,
        candidate_key=_key(body),
        kind=body.kind,
        explanation=body.explanation,
        now=state.now(),
        audit=state.audit,
    )
    return RequestView(
        request_id=request.id,
        kind=request.kind,
        state=request.state,
        what_happens_en=WHAT_HAPPENS["en"],
        what_happens_fr=WHAT_HAPPENS["fr"],
    )
