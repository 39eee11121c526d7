"""Wallet credentials: OpenID4VCI issuer endpoints, the candidate's offer, presentation checks.

The protocol endpoints answer in the protocol's own error form (`error`, `error_description`)
with Sceau's code beside it (sceau/web/statuses.py maps each refusal to its status, with the
others).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Header, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from issuer.oid4vci import (
    Issuing,
    WalletPolicy,
    create_offer,
    exchange_code,
    issue_credential,
    status_from_list,
    suspended_in_records,
)
from issuer.wallet_credential import (
    CLAIM_LABELS,
    CREDENTIAL_CONFIGURATION_ID,
    CREDENTIAL_FORMAT,
    VCT_PATH,
    credential_type,
    load_credential_signer,
    type_metadata,
)
from offchain_store.crypto import LinkKey
from offchain_store.wallet_offers import (
    ISSUANCE,
    PRESENTATION,
    new_nonce,
)
from sceau import compose
from sceau.web.deps import State
from sceau.web.json_bodies import StrictJsonRoute, check_json_body
from sceau.web.schemas import (
    ERROR_ANSWERS,
    JSON_BODY_ERRORS,
    ApiError,
    LinkKeyBody,
    error_answers,
)
from sceau.web.state import AppState
from verifier.presentation import PresentationContext, verify_presentation

PRESENTATIONS_PATH = "/api/v1/presentations"
ISSUER_DISPLAY = ("fr-FR", "en-US")


WALLET_ANSWERS: dict[int, str] = {
    400: "The wallet's request is refused: `error` is OAuth's code, `code` Sceau's own.",
    401: "No valid access token for the credential endpoint.",
    403: "The certificate is revoked or suspended: nothing is issued.",
    409: "The certificate cannot be offered yet (not delivered) or was issued before wallets.",
}


def answers(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these statuses, each answered with an ApiError."""
    return {
        status: {
            "model": ApiError,
            "description": WALLET_ANSWERS.get(status) or ERROR_ANSWERS[status],
        }
        for status in statuses
    }


def policy(state: AppState) -> WalletPolicy:
    """The wallet's policy, from the settings' `[wallet]` section."""
    wallet = state.settings.wallet
    return WalletPolicy.for_issuer(
        state.settings.public_base_url,
        offer_minutes=wallet.offer_minutes,
        token_minutes=wallet.token_minutes,
        nonce_minutes=wallet.nonce_minutes,
        tx_code=wallet.tx_code,
        tx_code_attempts=wallet.tx_code_attempts,
    )


def audience(state: AppState) -> str:
    """What a presentation's key binding must name: this verifier's presentation endpoint."""
    return state.settings.public_base_url.rstrip("/") + PRESENTATIONS_PATH


# --- metadata ------------------------------------------------------------------------------------

protocol = APIRouter(tags=["wallet"])


@protocol.get("/.well-known/openid-credential-issuer", summary="Credential issuer metadata")
def issuer_metadata(state: State) -> dict[str, Any]:
    base = policy(state).issuer_url
    name = state.settings.issuer_name
    return {
        "credential_issuer": base,
        "credential_endpoint": f"{base}/wallet/credential",
        "nonce_endpoint": f"{base}/wallet/nonce",
        "display": [{"name": name, "locale": locale} for locale in ISSUER_DISPLAY],
        "credential_configurations_supported": {
            CREDENTIAL_CONFIGURATION_ID: _configuration(base, state)
        },
    }


def _configuration(base: str, state: AppState) -> dict[str, Any]:
    algorithm = load_credential_signer(compose.signing_identity(state.settings)).algorithm
    return {
        "format": CREDENTIAL_FORMAT,
        "vct": credential_type(base),
        "scope": "sceau_certificate",
        "cryptographic_binding_methods_supported": ["jwk"],
        "credential_signing_alg_values_supported": [algorithm],
        "proof_types_supported": {
            "jwt": {"proof_signing_alg_values_supported": ["ES256", "ES384", "EdDSA"]}
        },
        "credential_metadata": {
            "display": [
                {"name": "Certificat d'examen", "locale": "fr-FR"},
                {"name": "Exam certificate", "locale": "en-US"},
            ],
            "claims": [
                {
                    "path": [claim],
                    "display": [
                        {"name": labels[0], "locale": "fr-FR"},
                        {"name": labels[1], "locale": "en-US"},
                    ],
                }
                for claim, labels in CLAIM_LABELS.items()
            ],
        },
    }


@protocol.get("/.well-known/oauth-authorization-server", summary="Authorization server metadata")
def authorization_server_metadata(state: State) -> dict[str, Any]:
    base = policy(state).issuer_url
    return {
        "issuer": base,
        "token_endpoint": f"{base}/wallet/token",
        "grant_types_supported": ["urn:ietf:params:oauth:grant-type:pre-authorized_code"],
        "pre-authorized_grant_anonymous_access_supported": True,
        "token_endpoint_auth_methods_supported": ["none"],
    }


@protocol.get(VCT_PATH, summary="Type metadata of the certificate credential (FR/EN)")
def credential_type_metadata(state: State) -> dict[str, Any]:
    return type_metadata(policy(state).issuer_url)


# --- the OpenID4VCI endpoints ------------------------------------------------------------------


@protocol.post(
    "/wallet/token",
    summary="Exchange a pre-authorized code for an access token",
    responses=answers(400, 422),
)
def token(
    state: State,
    grant_type: Annotated[str, Form(max_length=200)],
    pre_authorized_code: Annotated[str, Form(alias="pre-authorized_code", max_length=200)] = "",
    tx_code: Annotated[str | None, Form(max_length=20)] = None,
) -> JSONResponse:
    access = exchange_code(
        state.engine,
        grant_type=grant_type,
        code=pre_authorized_code,
        tx_code=tx_code,
        policy=policy(state),
        now=state.now(),
    )
    body = {"access_token": access.token, "token_type": "Bearer", "expires_in": access.expires_in}
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


@protocol.post("/wallet/nonce", summary="A fresh nonce for the wallet's key proof")
def issuance_nonce(state: State) -> JSONResponse:
    minutes = policy(state).nonce_minutes
    nonce = new_nonce(state.engine, purpose=ISSUANCE, minutes=minutes, now=state.now())
    return JSONResponse(
        {"c_nonce": nonce.value, "c_nonce_expires_in": minutes * 60},
        headers={"Cache-Control": "no-store"},
    )


@protocol.post(
    "/wallet/credential",
    summary="The credential, for a valid token and key proof",
    responses=answers(400, 401, 403, 411, 413, 422),
)
async def credential(
    request: Request, state: State, authorization: Annotated[str, Header()] = ""
) -> JSONResponse:
    raw = await request.body()
    check_json_body(raw, request.headers.get("content-type"))
    body = json.loads(raw) if raw else {}
    scheme, _, bearer = authorization.partition(" ")
    issued = await run_in_threadpool(  # database and signing: off the event loop
        issue_credential,
        _issuing(state),
        token=bearer.strip() if scheme.lower() == "bearer" else "",
        request=body if isinstance(body, dict) else {},
        now=state.now(),
    )
    return JSONResponse({"credentials": [{"credential": issued}]})


def _issuing(state: AppState) -> Issuing:
    settings = state.settings
    return Issuing(
        engine=state.engine,
        policy=policy(state),
        signer=load_credential_signer(compose.signing_identity(settings)),
        status_of=status_from_list(
            state.engine, public_base_url=settings.public_base_url, issuer_id=settings.issuer_id
        ),
        suspended=suspended_in_records(state.engine),
    )


# --- the candidate's offer -----------------------------------------------------------------------

candidate = APIRouter(
    prefix="/api/v1/me/{certificate_id}",
    tags=["candidate"],
    route_class=StrictJsonRoute,
    responses=error_answers(*JSON_BODY_ERRORS, 403, 404, 410),
)


class WalletOfferView(BaseModel):
    """The offer for the candidate's wallet: a link (and QR code) and, apart, the tx code."""

    offer_uri: str
    credential_offer: dict[str, Any]
    tx_code: str | None  # to type in the wallet: never put in the QR code or the link
    expires_at: datetime


@candidate.post(
    "/wallet-offer",
    summary="An offer of my certificate for my wallet",
    status_code=201,
    response_model=WalletOfferView,
    responses=answers(409),
)
def wallet_offer(certificate_id: str, body: LinkKeyBody, state: State) -> Response:
    offer = create_offer(
        state.engine,
        state.blobs,
        certificate_id=certificate_id,
        candidate_key=LinkKey.from_token(body.key),
        policy=policy(state),
        now=state.now(),
    )
    view = WalletOfferView(
        offer_uri=offer.uri,
        credential_offer=offer.offer,
        tx_code=offer.tx_code,
        expires_at=offer.expires_at,
    )
    return JSONResponse(view.model_dump(mode="json"), 201, headers={"Cache-Control": "no-store"})


# --- the verifier ---------------------------------------------------------------------------------

verifier = APIRouter(
    prefix=PRESENTATIONS_PATH,
    tags=["verify"],
    route_class=StrictJsonRoute,
    responses=answers(*JSON_BODY_ERRORS),
)


class PresentationBinding(BaseModel):
    """What a wallet's key binding must carry to be accepted here, once."""

    nonce: str
    audience: str
    expires_at: datetime


class PresentationBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    presentation: str = Field(min_length=1, max_length=60_000, repr=False)


@verifier.get("/nonce", summary="The nonce and audience a presentation must be bound to")
def presentation_nonce(state: State) -> PresentationBinding:
    nonce = new_nonce(
        state.engine,
        purpose=PRESENTATION,
        audience=audience(state),
        minutes=state.settings.wallet.nonce_minutes,
        now=state.now(),
    )
    return PresentationBinding(
        nonce=nonce.value, audience=nonce.audience, expires_at=nonce.expires_at
    )


@verifier.post("", summary="Verify an SD-JWT VC presentation of a certificate")
def verify(body: PresentationBody, state: State) -> dict[str, Any]:
    report = verify_presentation(body.presentation, _presentation_context(state), now=state.now())
    return report.model_dump(mode="json")


def _presentation_context(state: AppState) -> PresentationContext:
    return PresentationContext(
        engine=state.engine,
        rpc_url=state.settings.chain.rpc_url,
        profile=state.profile(),
        audience=audience(state),
        cache=state.chain_cache,
    )


ROUTERS = (protocol, candidate, verifier)
"""For the app factory: `for router in routes_wallet.ROUTERS: app.include_router(router)`."""
