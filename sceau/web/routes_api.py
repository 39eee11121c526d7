"""The JSON API: public status and proofs, dropped-PDF verification, share opening."""

from __future__ import annotations

import base64
import re
from typing import Annotated, Any

from fastapi import APIRouter, File, UploadFile
from fastapi.responses import Response

from contracts.profile import PROFILE_PATH
from offchain_store.shares import CertificateNotFound
from sceau.web.deps import ClientHint, State
from sceau.web.errors import NotAPdf, ProofNotFound, UploadTooLarge
from sceau.web.json_bodies import StrictJsonRoute
from sceau.web.schemas import (
    JSON_BODY_ERRORS,
    CertificateStatus,
    LinkKeyBody,
    SharedCertificateBody,
    error_answers,
)
from verifier.share_link import verify_share
from verifier.status import public_status, receipt_for_hash
from verifier.upload import verify_uploaded

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
_ID = r"^[0-9a-f]{32}$"

router = APIRouter(route_class=StrictJsonRoute)
JSON_DOCUMENT: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/json": {"schema": {"type": "object"}}}}
}


@router.get(
    PROFILE_PATH,
    tags=["public"],
    summary="The issuer's public profile",
    responses={**JSON_DOCUMENT, **error_answers(503)},
)
def issuer_profile(state: State) -> Response:
    return Response(state.profile().to_json(), media_type="application/json")


@router.get(
    "/api/v1/certificates/{certificate_id}/status",
    tags=["public"],
    responses=error_answers(404, 422),
)
def certificate_status(certificate_id: str, state: State) -> CertificateStatus:
    """Issuer, status and anchoring of a certificate; no personal data."""
    found = public_status(state.engine, certificate_id) if re.match(_ID, certificate_id) else None
    if found is None:
        raise CertificateNotFound()
    return CertificateStatus(issuer=state.settings.issuer_name, **found.__dict__)


@router.get(
    "/api/v1/proofs/{pdf_sha256}",
    tags=["public"],
    responses={**JSON_DOCUMENT, **error_answers(404, 422)},
)
def proof_for_pdf_hash(pdf_sha256: str, state: State) -> Response:
    """The receipt (hashes only) of the certificate whose PDF has this SHA-256."""
    receipt = (
        receipt_for_hash(state.engine, pdf_sha256)
        if re.match(r"^[0-9a-fA-F]{64}$", pdf_sha256)
        else None
    )
    if receipt is None:
        raise ProofNotFound()
    return Response(receipt.to_json(), media_type="application/json")


@router.post(
    "/api/v1/verify", tags=["verify"], responses=error_answers(400, 411, 413, 415, 422, 503)
)
def verify_pdf(
    state: State, file: Annotated[UploadFile, File(description="The signed PDF")]
) -> dict[str, Any]:
    """Verify a dropped PDF: the service finds its proof by the PDF's hash."""
    pdf = _read_pdf(file)
    report = verify_uploaded(state.verification(), pdf, now=state.now())
    return report.model_dump(mode="json")


@router.post(
    "/api/v1/shares/{share_id}/open",
    tags=["verify"],
    response_model=SharedCertificateBody,
    responses=error_answers(*JSON_BODY_ERRORS, 403, 503),
)
def open_shared(share_id: str, body: LinkKeyBody, state: State, client: ClientHint) -> Response:
    """Open a share with its key (from the link's fragment) and verify the certificate."""
    context = state.verification()
    with state.opening_turns.held():  # see verifier.turns: its waits give the turn away
        shared = verify_share(
            context, share_id=share_id, token=body.key, now=state.now(), client=client
        )
        transaction = shared.receipt.transaction if shared.receipt else None
        answer = SharedCertificateBody(
            report=shared.report.model_dump(mode="json"),
            recipient=shared.share.recipient if shared.share and shared.pdf else None,
            expires_at=shared.share.expires_at if shared.share and shared.pdf else None,
            pdf_base64=base64.b64encode(shared.pdf).decode() if shared.pdf else None,
            transaction=transaction,
            transaction_url=_explorer_link(state, transaction),
        )
        # Serialised once, here: the answer carries the PDF, and FastAPI would validate the
        # model again, turn it into a dict and encode that (three passes over 50 kB).
        encoded = answer.model_dump_json()
    return Response(encoded, media_type="application/json")


def _explorer_link(state: State, transaction: str | None) -> str | None:
    template = state.settings.chain.explorer_tx_url
    return template.replace("{tx}", transaction) if template and transaction else None


def _read_pdf(file: UploadFile) -> bytes:
    data = file.file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadTooLarge()
    if not data.lstrip()[:5] == b"%PDF-":
        raise NotAPdf()
    return data
