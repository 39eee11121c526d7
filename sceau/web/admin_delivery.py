"""The admin page of delivery packs: letters for candidates without an e-mail address.

An issuer downloads a pack to print, hands each letter over, then confirms it here: the pack
is deleted with everything that could open its certificates. Same sign-in, roles and CSRF
field as the other admin pages (`admin_pages`).
"""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from issuer.delivery_pack import (
    DeliveryPackError,
    DeliveryPacks,
    PackSummary,
    confirm_handover,
    pack_bytes,
    pending_packs,
)
from offchain_store.tokens import AdminRole
from sceau.web.admin_pages import (
    PageWords,
    SignedIn,
    _admit,
    _admit_form,
    _page,
    problem_of,
    query_number,
)
from sceau.web.deps import State
from sceau.web.i18n import DELIVERY, Catalogs, language_of
from sceau.web.pages import error_page
from sceau.web.statuses import shown_message, status_of

router = APIRouter(prefix="/admin/letters", include_in_schema=False)

LETTER_SENDERS: Final = (AdminRole.ISSUER,)

DELIVERY_WORDS: Final = Catalogs(DELIVERY)  # sceau/locale/*/LC_MESSAGES/delivery.po
# A download refused: the status from the one table (sceau/web/statuses.py), the error page's
# words (pages.po) by the error's code there.
DOWNLOAD_PROBLEMS: Final = {"pack_not_found": "error.not_found", "internal_error": "error.server"}


class DeliveryWords(PageWords):
    """This page's words in one language."""

    def __init__(self, lang: str) -> None:
        super().__init__(DELIVERY_WORDS, lang)


FormField = Annotated[str, Form()]


def _packs(state: State) -> DeliveryPacks:
    """The packs, on the app's own engine (a second engine on the same SQLite file is avoided)."""
    return state.delivery_packs()


@router.get("", response_class=HTMLResponse)
def letters_page(request: Request, state: State) -> Response:
    """The packs waiting to be handed over."""
    who = _admit(request, state, *LETTER_SENDERS)
    if isinstance(who, Response):
        return who
    return _letters(request, state, who, confirmed=query_number(request, "confirmed"))


@router.get("/{pack_id}.pdf")
async def download_pack(request: Request, state: State, pack_id: str) -> Response:
    """The pack's PDF, rebuilt from the records (an erased letter is never in it)."""
    who = await run_in_threadpool(_admit, request, state, *LETTER_SENDERS)
    if isinstance(who, Response):
        return who
    try:
        pdf = await run_in_threadpool(pack_bytes, _packs(state), pack_id)
    except DeliveryPackError as error:
        status, problem, _ = problem_of(error, DOWNLOAD_PROBLEMS)
        return error_page(request, state, status, problem)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="letters-{pack_id}.pdf"',
            "Cache-Control": "no-store",
        },
    )


@router.post("/{pack_id}/confirm")
def confirm_pack(request: Request, state: State, pack_id: str, csrf: FormField = "") -> Response:
    """The admin handed the pack over: it is deleted, with what could open its certificates."""
    who = _admit_form(request, state, csrf, *LETTER_SENDERS)
    if isinstance(who, Response):
        return who
    packs = _packs(state)
    try:
        handed = confirm_handover(packs, pack_id, actor=f"token:{who.token.id}", now=state.now())
    except DeliveryPackError as error:
        status, code = status_of(error)
        detail = shown_message(error, status, code)
        return _letters(request, state, who, status_code=status, detail=detail)
    return RedirectResponse(f"/admin/letters?confirmed={handed}", status_code=303)


def _letters(
    request: Request,
    state: State,
    who: SignedIn,
    status_code: int = 200,
    *,
    confirmed: int | None = None,
    detail: str | None = None,
) -> Response:
    waiting: list[PackSummary] = pending_packs(_packs(state))
    return _page(
        request,
        state,
        "admin_delivery.html",
        who,
        status_code,
        d=DeliveryWords(language_of(request)),
        packs=waiting,
        confirmed=confirmed,
        detail=detail,
    )
