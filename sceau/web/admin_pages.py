"""The admin pages: sign-in with a token, then import, batches, revocations and the audit log.

The same services as the admin JSON API. A session cookie (see `session`) replaces the bearer
token; every page re-reads the token, so a revoked token is signed out at once, and every
form carries a CSRF field checked before anything changes.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from contracts.errors import RegistryError
from issuer.batches import recent_batches
from issuer.columns import ColumnMappingError, parse_column_mapping
from issuer.intake import IntakeReport, ResultsFileError, parse_results
from issuer.revocation import RevocationError, UnknownCertificate, approve_request, decide, requests
from issuer.suspension import REASONS, SuspensionError, lift_now, suspend_now
from offchain_store.audit import count, entries, verify_chain
from offchain_store.records import RequestState
from offchain_store.tokens import AdminRole, AdminTokenRecord, TokenError, authenticate, get_token
from sceau.web.deps import State
from sceau.web.i18n import ADMIN, Catalogs, language_of
from sceau.web.import_jobs import ImportJobs, JobView
from sceau.web.pages import error_page, render
from sceau.web.session import (
    COOKIE_PATH,
    LOGIN_COOKIE,
    LOGIN_FORM_LIFETIME,
    SESSION_COOKIE,
    SESSION_LIFETIME,
    AdminSession,
    SessionSigner,
)
from sceau.web.state import AppState
from sceau.web.statuses import shown_message, status_of
from sceau_errors import SceauError

router = APIRouter(prefix="/admin", include_in_schema=False)

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_MAPPING_BYTES = 16 * 1024  # fits in the multipart slack below
_MULTIPART_SLACK = 64 * 1024  # room for the form's other fields and boundaries
AUDIT_PAGE = 100
BATCHES_SHOWN = 200
OUTCOMES = ("approved", "refused", "suspended", "lifted")
# The status of a refused form is the API's (sceau/web/statuses.py); its words, by the error's
# code there. The words of an unknown certificate say all there is: no detail after them.
IMPORT_PROBLEMS: Final = {"results_file_refused": "import.unreadable"}
DECISION_PROBLEMS: Final = {
    "request_not_found": "rev.not_decided",
    "decision_refused": "rev.not_decided",
    "certificate_not_found": "rev.not_carried_out",
    "revocation_refused": "rev.not_carried_out",
    "chain_unavailable": "rev.not_carried_out",
}
SUSPENSION_PROBLEMS: Final = {
    "certificate_not_found": "susp.unknown",
    "suspension_refused": "susp.refused",
    "chain_unavailable": "susp.not_carried_out",
}
_NO_DETAIL: Final = frozenset({"susp.unknown"})

# Each section, the roles that may open it (admin always may), and its words.
SECTIONS: tuple[tuple[str, str, tuple[AdminRole, ...]], ...] = (
    ("/admin/import", "import", (AdminRole.ISSUER,)),
    ("/admin/batches", "batches", (AdminRole.ISSUER, AdminRole.AUDITOR)),
    ("/admin/revocations", "revocations", (AdminRole.REVOKER,)),
    ("/admin/audit", "audit", (AdminRole.AUDITOR,)),
    ("/admin/letters", "letters", (AdminRole.ISSUER,)),
)
ISSUER, BATCH_READERS, REVOKER, AUDITOR, _LETTER_HANDLERS = (roles for _, _, roles in SECTIONS)

ADMIN_WORDS: Final = Catalogs(ADMIN)  # sceau/locale/*/LC_MESSAGES/admin.po


class PageWords:
    """Some pages' words in one language, French when the language has none."""

    def __init__(self, table: Mapping[str, Mapping[str, str]], lang: str) -> None:
        self._words = table.get(lang, table["fr"])

    def __call__(self, key: str, **values: object) -> str:
        text = self._words.get(key, key)
        return text.format(**values) if values else text


class AdminWords(PageWords):
    """The admin pages' words in one language (the shared words stay in `i18n`)."""

    def __init__(self, lang: str) -> None:
        super().__init__(ADMIN_WORDS, lang)

    def action(self, name: str) -> str:
        """An audit action in words; one without words yet is shown as recorded."""
        return self._words.get(f"action.{name}", name)

    def js_words(self) -> dict[str, str]:
        """What admin.js shows while it follows an import."""
        return {k: v for k, v in self._words.items() if k.startswith("job.")}


@dataclass(frozen=True)
class SignedIn:
    """Who is signed in: the token's record (re-read on this request) and the session."""

    token: AdminTokenRecord
    session: AdminSession

    @property
    def csrf(self) -> str:
        return self.session.csrf_field()

    def may(self, roles: tuple[AdminRole, ...]) -> bool:
        return self.token.role == AdminRole.ADMIN or self.token.role in roles

    def sections(self) -> list[tuple[str, str]]:
        return [(href, name) for href, name, roles in SECTIONS if self.may(roles)]


_JOBS_LOCK = threading.Lock()


def import_jobs(request: Request) -> ImportJobs:
    """The app's imports, made on first use (kept on the app, not in a global)."""
    with _JOBS_LOCK:
        jobs = getattr(request.app.state, "admin_imports", None)
        if not isinstance(jobs, ImportJobs):
            jobs = request.app.state.admin_imports = ImportJobs(
                issuance=request.app.state.sceau.issuance
            )
        return jobs


Jobs = Annotated[ImportJobs, Depends(import_jobs)]
FormField = Annotated[str, Form()]


# --- sign-in, sign-out, home -------------------------------------------------------------------


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, state: State) -> Response:
    return _login_page(request, state)


@router.post("/login")
def login(request: Request, state: State, token: FormField = "", csrf: FormField = "") -> Response:
    signer = _signer(state)
    if not signer.login_accepts(request.cookies.get(LOGIN_COOKIE), csrf):
        return error_page(request, state, 403, "error.csrf")
    try:
        record = authenticate(state.engine, token, now=state.now())
    except TokenError as refused:
        status, _ = status_of(refused)
        return _login_page(request, state, status_code=status, refused=True)
    _, cookie = signer.open_session(record.id, now=state.now())
    response = RedirectResponse("/admin", status_code=303)
    _set_cookie(response, state, SESSION_COOKIE, cookie, SESSION_LIFETIME)
    _clear_cookie(response, state, LOGIN_COOKIE)
    return response


@router.post("/logout")
def logout(request: Request, state: State, csrf: FormField = "") -> Response:
    who = _admit_form(request, state, csrf)
    if isinstance(who, Response):
        return who  # not signed in (a redirect to sign in), or a wrong CSRF field
    response = RedirectResponse("/admin/login", status_code=303)
    _clear_cookie(response, state, SESSION_COOKIE)
    return response


@router.get("", response_class=HTMLResponse)
def home(request: Request, state: State) -> Response:
    who = _admit(request, state)
    if isinstance(who, Response):
        return who
    return _page(request, state, "admin_home.html", who)


# --- import ------------------------------------------------------------------------------------


@router.get("/import", response_class=HTMLResponse)
def import_page(request: Request, state: State) -> Response:
    who = _admit(request, state, *ISSUER)
    if isinstance(who, Response):
        return who
    return _page(request, state, "admin_import.html", who)


@router.post("/import")
async def import_results(request: Request, state: State, jobs: Jobs) -> Response:
    """Check the file at once; issue in the background only if every row (or the admin) allows."""
    who = await run_in_threadpool(_admit, request, state, *ISSUER)
    if isinstance(who, Response):
        return who
    declared = request.headers.get("content-length", "")
    if not declared.isdigit() or int(declared) > MAX_UPLOAD_BYTES + _MULTIPART_SLACK:
        return _import_problem(request, state, who, 413, "import.too_large")
    async with request.form(max_files=2, max_fields=6) as form:  # closes the spooled files
        csrf, issue_valid_rows = str(form.get("csrf") or ""), bool(form.get("issue_valid_rows"))
        check_only = bool(form.get("check_only"))
        name, raw = await _uploaded(form.get("results"), MAX_UPLOAD_BYTES)
        mapping_name, mapping_raw = await _uploaded(form.get("columns"), MAX_MAPPING_BYTES)
    if not who.session.accepts(csrf):
        return error_page(request, state, 403, "error.csrf")
    if not name:
        return _import_problem(request, state, who, 422, "import.no_file")
    if len(raw) > MAX_UPLOAD_BYTES or len(mapping_raw) > MAX_MAPPING_BYTES:
        return _import_problem(request, state, who, 413, "import.too_large")
    try:
        report = await run_in_threadpool(
            _check_results, state, raw, name, mapping_raw, mapping_name
        )
    except ResultsFileError as error:
        status, problem, detail = problem_of(error, IMPORT_PROBLEMS)
        return _import_problem(request, state, who, status, problem, detail=detail)
    if check_only:
        return _page(request, state, "admin_import.html", who, report=report, checked=True)
    if not report.rows or (report.rejected and not issue_valid_rows):
        problem = "import.no_valid_rows" if not report.rows else "import.nothing_issued"
        return _import_problem(request, state, who, 422, problem, report=report)
    job = jobs.start(state.settings, state.engine, report, raw)
    return RedirectResponse(f"/admin/imports/{job.id}", status_code=303)


async def _uploaded(upload: object, limit: int) -> tuple[str | None, bytes]:
    """(file name, at most limit + 1 bytes) of a form's file field; (None, b"") when empty."""
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None, b""
    return upload.filename, await upload.read(limit + 1)


def _check_results(
    state: AppState, raw: bytes, name: str, mapping_raw: bytes, mapping_name: str | None
) -> IntakeReport:
    """The same reading as `sceau issue`: the format from the content, the mapping if given."""
    columns = None
    if mapping_name:
        try:
            text = mapping_raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ColumnMappingError(f"{mapping_name} is not UTF-8 text") from None
        columns = parse_column_mapping(text, source=mapping_name)
    return parse_results(
        raw,
        name=name,
        today=state.now().date(),
        columns=columns,
        default_language=state.settings.issuer_language,
    )


@router.get("/imports/{job_id}.json")
def import_progress(request: Request, state: State, jobs: Jobs, job_id: str) -> Response:
    """The job's state for admin.js; 401/403/404 as JSON, never a redirect."""
    who = _admit(request, state, *ISSUER)
    if isinstance(who, Response):
        status = 401 if who.status_code == 303 else who.status_code
        return JSONResponse({"code": "not_allowed"}, status_code=status)
    job = jobs.get(state.engine, job_id)
    if job is None:
        return JSONResponse({"code": "not_found"}, status_code=404)
    return JSONResponse(_job_json(job, AdminWords(language_of(request))))


@router.get("/imports/{job_id}", response_class=HTMLResponse)
def import_job_page(request: Request, state: State, jobs: Jobs, job_id: str) -> Response:
    who = _admit(request, state, *ISSUER)
    if isinstance(who, Response):
        return who
    job = jobs.get(state.engine, job_id)
    if job is None:
        return error_page(request, state, 404, "error.not_found")
    return _page(
        request,
        state,
        "admin_import_job.html",
        who,
        job=job,
        admin_words_json=_json_for_page(AdminWords(language_of(request)).js_words()),
    )


# --- batches, revocations, audit ---------------------------------------------------------------


@router.get("/batches", response_class=HTMLResponse)
def batches_page(request: Request, state: State) -> Response:
    who = _admit(request, state, *BATCH_READERS)
    if isinstance(who, Response):
        return who
    batches = recent_batches(state.engine, limit=BATCHES_SHOWN)
    return _page(request, state, "admin_batches.html", who, batches=batches)


@router.get("/revocations", response_class=HTMLResponse)
def revocations_page(request: Request, state: State) -> Response:
    who = _admit(request, state, *REVOKER)
    if isinstance(who, Response):
        return who
    outcome = request.query_params.get("outcome")
    return _revocations(
        request,
        state,
        who,
        outcome=outcome if outcome in OUTCOMES else None,
        revoked=query_number(request, "revoked") or 0,
    )


@router.post("/revocations/{request_id}")
def decide_revocation(
    request: Request,
    state: State,
    request_id: str,
    csrf: FormField = "",
    decision: FormField = "",
    note: FormField = "",
) -> Response:
    """Approve (then revoke on chain and shred at once) or refuse, with a note."""
    who = _admit_form(request, state, csrf, *REVOKER)
    if isinstance(who, Response):
        return who
    if decision not in ("approve", "refuse"):
        return _revocations(request, state, who, 422, problem="rev.not_decided")
    if not note.strip():
        return _revocations(request, state, who, 422, problem="rev.note_missing", noted=request_id)
    actor = f"token:{who.token.id}"
    try:
        if decision == "refuse":
            decide(
                state.engine,
                request_id,
                approve=False,
                actor=actor,
                note=note,
                now=state.now(),
                audit=state.audit,
            )
            return RedirectResponse("/admin/revocations?outcome=refused", status_code=303)
        with state.revoking:
            revoked = approve_request(
                state.revocations(), request_id, actor=actor, note=note, now=state.now()
            )
    except (RegistryError, RevocationError) as error:
        status, problem, detail = problem_of(error, DECISION_PROBLEMS)
        return _revocations(request, state, who, status, problem=problem, detail=detail)
    return RedirectResponse(
        f"/admin/revocations?outcome=approved&revoked={revoked}", status_code=303
    )


@router.post("/suspensions")
def change_suspension(
    request: Request,
    state: State,
    csrf: FormField = "",
    certificate_id: FormField = "",
    change: FormField = "",
    reason: FormField = "",
    suspension_note: FormField = "",
) -> Response:
    """Suspend a certificate (reversible, nothing shredded) or lift its suspension, on chain
    at once, with a note for the audit log (a field of its own name: the page's other notes
    decide revocation requests)."""
    note = suspension_note
    who = _admit_form(request, state, csrf, *REVOKER)
    if isinstance(who, Response):
        return who
    if change not in ("suspend", "lift"):
        return _revocations(request, state, who, 422, problem="susp.refused")
    asked = {"susp_certificate": certificate_id.strip().lower(), "susp_note": note}
    if not note.strip():
        return _revocations(request, state, who, 422, problem="rev.note_missing", **asked)
    try:
        with state.revoking:  # the revoking account sends suspensions too
            _change_suspension(state, who, change, asked["susp_certificate"], reason, note)
    except (UnknownCertificate, SuspensionError, RegistryError) as error:
        status, problem, detail = problem_of(error, SUSPENSION_PROBLEMS)
        return _revocations(request, state, who, status, problem=problem, detail=detail, **asked)
    outcome = "suspended" if change == "suspend" else "lifted"
    return RedirectResponse(f"/admin/revocations?outcome={outcome}", status_code=303)


def _change_suspension(
    state: AppState, who: SignedIn, change: str, certificate_id: str, reason: str, note: str
) -> None:
    actor, now = f"token:{who.token.id}", state.now()
    if change == "suspend":
        suspend_now(
            state.suspensions(), certificate_id, reason=reason, note=note, actor=actor, now=now
        )
    else:
        lift_now(state.suspensions(), certificate_id, note=note, actor=actor, now=now)


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, state: State) -> Response:
    who = _admit(request, state, *AUDITOR)
    if isinstance(who, Response):
        return who
    page = min(query_number(request, "page") or 0, 10**6)
    rows = entries(state.engine, limit=AUDIT_PAGE, offset=page * AUDIT_PAGE, newest_first=True)
    return _page(
        request,
        state,
        "admin_audit.html",
        who,
        check=verify_chain(state.engine),
        rows=rows,
        page=page,
        more=count(state.engine) > (page + 1) * AUDIT_PAGE,
    )


def query_number(request: Request, name: str) -> int | None:
    """A whole number from the query string (a count to show, a page), or None."""
    value = request.query_params.get(name, "")
    return int(value) if value.isdigit() and len(value) <= 9 else None


def problem_of(error: SceauError, problems: Mapping[str, str]) -> tuple[int, str, str]:
    """(status, the words' key, the detail shown) for a form refused with this error: the
    status and code from the one table, the words for that code from `problems`."""
    status, code = status_of(error)
    problem = problems[code]
    return status, problem, "" if problem in _NO_DETAIL else shown_message(error, status, code)


# --- the gate: session, token, role, CSRF ------------------------------------------------------


def _admit(request: Request, state: State, *roles: AdminRole) -> SignedIn | Response:
    """The signed-in token if it may open this page; else a redirect to sign in, or a 403."""
    session = _signer(state).read_session(request.cookies.get(SESSION_COOKIE), now=state.now())
    token = _live_token(state, session.token_id) if session else None
    if session is None or token is None:
        response = RedirectResponse("/admin/login", status_code=303)
        if request.cookies.get(SESSION_COOKIE):
            _clear_cookie(response, state, SESSION_COOKIE)
        return response
    who = SignedIn(token=token, session=session)
    if roles and not who.may(roles):
        return error_page(request, state, 403, "error.forbidden")
    return who


def _admit_form(
    request: Request, state: State, csrf: str, *roles: AdminRole
) -> SignedIn | Response:
    """As `_admit`, and the form's CSRF field must be the session's."""
    who = _admit(request, state, *roles)
    if isinstance(who, SignedIn) and not who.session.accepts(csrf):
        return error_page(request, state, 403, "error.csrf")
    return who


def _live_token(state: AppState, token_id: str) -> AdminTokenRecord | None:
    """The token behind a session, re-read: gone or revoked means signed out."""
    try:
        token = get_token(state.engine, token_id)
    except TokenError:
        return None
    return token if token.revoked_at is None else None


def _signer(state: AppState) -> SessionSigner:
    return SessionSigner(state.settings.session_secret.get_secret_value())


def _set_cookie(
    response: Response, state: AppState, name: str, value: str, lifetime: timedelta
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=int(lifetime.total_seconds()),
        path=COOKIE_PATH,
        secure=_https(state),
        httponly=True,
        samesite="strict",
    )


def _clear_cookie(response: Response, state: AppState, name: str) -> None:
    response.delete_cookie(
        name, path=COOKIE_PATH, secure=_https(state), httponly=True, samesite="strict"
    )


def _https(state: AppState) -> bool:
    return state.settings.public_base_url.startswith("https://")


# --- rendering ---------------------------------------------------------------------------------


def _page(
    request: Request,
    state: AppState,
    template: str,
    who: SignedIn | None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    return render(
        request,
        state,
        template,
        status_code,
        a=AdminWords(language_of(request)),
        who=who,
        **context,
    )


def _login_page(
    request: Request, state: AppState, *, status_code: int = 200, refused: bool = False
) -> HTMLResponse:
    signer = _signer(state)
    nonce = signer.login_nonce()
    response = _page(
        request,
        state,
        "admin_login.html",
        None,
        status_code,
        csrf=signer.login_field(nonce),
        refused=refused,
    )
    _set_cookie(response, state, LOGIN_COOKIE, nonce, LOGIN_FORM_LIFETIME)
    return response


def _import_problem(
    request: Request,
    state: AppState,
    who: SignedIn,
    status_code: int,
    problem: str,
    *,
    detail: str = "",
    report: IntakeReport | None = None,
) -> HTMLResponse:
    return _page(
        request,
        state,
        "admin_import.html",
        who,
        status_code,
        problem=problem,
        detail=detail,
        report=report,
    )


def _revocations(
    request: Request,
    state: AppState,
    who: SignedIn,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    pending = requests(state.engine, states=(RequestState.PENDING,))
    context.setdefault("reasons", tuple(REASONS))
    return _page(
        request, state, "admin_revocations.html", who, status_code, pending=pending, **context
    )


def _job_json(job: JobView, a: AdminWords) -> dict[str, Any]:
    error = ""
    if job.error_kind:
        error = " ".join(filter(None, (a(f"job.error.{job.error_kind}"), job.error_detail)))
    return {
        "id": job.id,
        "source": job.source_name,
        "phase": job.phase,
        "phase_label": a(f"job.phase.{job.phase}"),
        "done": job.done,
        "total": job.total,
        "batch": job.batch,
        "batches": job.batches,
        "finished": job.finished,
        "ok": job.ok,
        "error": error,
        "issued": job.issued,
        "skipped": job.skipped,
        "rejected": len(job.rejected),
        "resumed": job.resumed,
    }


def _json_for_page(value: object) -> str:
    """JSON for a <script type="application/json"> block (data, not script, so CSP allows it)."""
    return json.dumps(value, ensure_ascii=False).replace("</", "<\\/")
