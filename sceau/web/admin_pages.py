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
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from contracts.errors import RegistryError
from issuer.batches import recent_batches
from issuer.columns import ColumnMappingError, parse_column_mapping
from issuer.intake import IntakeReport, ResultsFileError, parse_results
from issuer.revocation import DecisionRefused, RevocationError, approve_request, decide, requests
from offchain_store.audit import count, entries, verify_chain
from offchain_store.records import RequestState
from offchain_store.tokens import AdminRole, AdminTokenRecord, TokenError, authenticate, get_token
from sceau.web.deps import State
from sceau.web.i18n import language_of
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

router = APIRouter(prefix="/admin", include_in_schema=False)

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_MAPPING_BYTES = 16 * 1024  # fits in the multipart slack below
_MULTIPART_SLACK = 64 * 1024  # room for the form's other fields and boundaries
AUDIT_PAGE = 100
BATCHES_SHOWN = 200
OUTCOMES = ("approved", "refused")

# Each section, the roles that may open it (admin always may), and its words.
SECTIONS: tuple[tuple[str, str, tuple[AdminRole, ...]], ...] = (
    ("/admin/import", "import", (AdminRole.ISSUER,)),
    ("/admin/batches", "batches", (AdminRole.ISSUER, AdminRole.AUDITOR)),
    ("/admin/revocations", "revocations", (AdminRole.REVOKER,)),
    ("/admin/audit", "audit", (AdminRole.AUDITOR,)),
    ("/admin/letters", "letters", (AdminRole.ISSUER,)),
)
ISSUER, BATCH_READERS, REVOKER, AUDITOR, _LETTER_HANDLERS = (roles for _, _, roles in SECTIONS)

ADMIN_WORDS: dict[str, dict[str, str]] = {
    "fr": {
        "home.title": "Administration",
        "nav.label": "Sections de l'administration",
        "nav.home": "Accueil",
        "nav.import": "Importer des résultats",
        "nav.batches": "Lots délivrés",
        "nav.revocations": "Demandes de révocation",
        "nav.audit": "Journal d'audit",
        "nav.letters": "Lettres à remettre",
        "action.revocation.requested": "Révocation demandée par le candidat",
        "action.erasure.requested": "Effacement demandé par le candidat",
        "action.revocation.approved": "Demande approuvée",
        "action.revocation.refused": "Demande refusée",
        "action.certificate.revoked": "Certificat révoqué et effacé",
        "action.token.created": "Jeton créé",
        "action.token.revoked": "Jeton retiré",
        "action.keys.signing_rotated": "Certificat de signature remplacé",
        "action.keys.anchoring_rotated": "Adresse d'ancrage remplacée",
        "action.letters.handed_over": "Lettres remises",
        "action.profile.publishing": "Profil de l'émetteur publié sur la chaîne",
        "home.letters": "Les lettres des candidats sans courriel, à imprimer et remettre.",
        "home.import": "Vérifier un fichier de résultats et délivrer les certificats.",
        "home.batches": "Les lots délivrés et leurs transactions d'ancrage.",
        "home.revocations": "Approuver ou refuser les demandes des candidats.",
        "home.audit": "Les actions d'administration et l'intégrité du journal.",
        "home.nothing": "Ce jeton n'ouvre aucune section.",
        "signed_in_as": "Connecté avec le jeton",
        "role": "rôle :",
        "role.admin": "administrateur",
        "role.issuer": "émission",
        "role.revoker": "révocation",
        "role.auditor": "audit",
        "login.intro": "Collez votre jeton d'accès. Il sert à ouvrir une session de 8 heures ; "
        "il n'est conservé ni dans le navigateur ni dans la page.",
        "import.intro": "Fichier de résultats validés par le jury, 10 Mo au plus : CSV "
        "(séparateur virgule, point-virgule ou tabulation ; UTF-8 ou Windows-1252), XLSX, ODS "
        "ou JSON. Les noms de colonnes usuels, en français ou en anglais, sont reconnus. "
        "Chaque ligne est vérifiée avant toute délivrance.",
        "import.file": "Fichier de résultats (.csv, .xlsx, .ods ou .json)",
        "import.columns": "Correspondance des colonnes (facultatif, fichier .toml)",
        "import.columns_hint": "Une table [columns], une ligne par colonne : notre champ = "
        'votre en-tête, par exemple level = "Niveau final".',
        "import.check": "Vérifier seulement",
        "import.checked": "Vérification seulement : {n} certificat(s) seraient délivrés. Rien "
        "n'a été signé, ancré ni envoyé.",
        "import.read_as": "Lu comme :",
        "import.columns_title": "Colonnes comprises",
        "import.rows_title": "Ce qui serait délivré",
        "import.ignored": "ignorée",
        "import.ignored_columns": "Colonnes ignorées :",
        "import.repeated": "Lignes {lines} identiques ({rid}) : un seul certificat.",
        "import.by_email": "e-mail",
        "import.by_letter": "lettre",
        "col.column": "Votre colonne",
        "col.field": "Compris comme",
        "col.how": "Comment",
        "col.name": "Nom",
        "col.level": "Niveau",
        "col.delivery": "Remise",
        "how.known_name": "nom reconnu",
        "how.mapping_file": "fichier de correspondance",
        "how.skill_column": "colonne de compétence",
        "how.not_understood": "non comprise",
        "how.no_header": "sans en-tête",
        "how.mapped_elsewhere": "le fichier de correspondance désigne une autre colonne",
        "import.issue_valid": "Délivrer les lignes valides même si d'autres sont rejetées",
        "import.submit": "Vérifier et délivrer",
        "import.no_file": "Choisissez un fichier de résultats.",
        "import.too_large": "Ce fichier dépasse 10 Mo.",
        "import.unreadable": "Ce fichier ne peut pas être lu :",
        "import.rejected": "Lignes rejetées",
        "import.nothing_issued": "Rien n'a été délivré : {n} ligne(s) rejetée(s). Corrigez-les "
        "et importez à nouveau le fichier, ou cochez « Délivrer les lignes valides ».",
        "import.no_valid_rows": "Aucune ligne valide : rien à délivrer.",
        "col.line": "Ligne",
        "col.result_id": "Identifiant du résultat",
        "col.reasons": "Motifs",
        "job.title": "Import de",
        "job.phase": "Étape",
        "job.phase.queued": "En attente de la fin d'un autre import",
        "job.phase.preparing": "Préparation (clés, chaîne)",
        "job.phase.staging": "Enregistrement des lignes",
        "job.phase.sign": "Rendu, signature, chiffrement",
        "job.phase.anchor": "Ancrage sur la chaîne",
        "job.phase.deliver": "Envoi aux candidats",
        "job.phase.done": "Terminé",
        "job.phase.failed": "Arrêté sur une erreur",
        "job.phase.interrupted": "Interrompu",
        "job.phase.enqueued": "Confié au « sceau worker » en cours, qui délivre ces certificats",
        "job.progress": "Avancement",
        "job.batch": "Lot",
        "job.of": "sur",
        "job.issued": "Certificats délivrés",
        "job.skipped": "Lignes déjà délivrées, ignorées",
        "job.rejected": "Lignes rejetées, non délivrées",
        "job.resumed": "Lots inachevés repris",
        "job.refresh": "Actualiser",
        "job.error.chain": "La chaîne de blocs est injoignable ou a refusé la transaction.",
        "job.error.signing": "La clé de signature ne peut pas être utilisée.",
        "job.error.delivery": "L'envoi des messages aux candidats a échoué.",
        "job.error.issuance": "La délivrance a échoué.",
        "job.error.storage": "L'enregistrement a échoué.",
        "job.error.configuration": "La configuration est incomplète.",
        "job.error.internal": "Une erreur interne est survenue ; le détail est dans le journal "
        "du serveur.",
        "job.error.interrupted": "Le serveur qui menait cet import s'est arrêté. Ce qui est "
        "délivré est conservé ; « sceau resume » ou un « sceau worker » termine les lots "
        "inachevés.",
        "job.retry": "Ce qui est déjà délivré est conservé. Corrigez la cause, puis importez à "
        "nouveau le fichier : les lots inachevés seront terminés, les lignes déjà délivrées "
        "ignorées.",
        "job.another": "Importer un autre fichier",
        "batches.none": "Aucun lot pour l'instant.",
        "col.source": "Fichier source",
        "col.state": "État",
        "col.date": "Date",
        "col.root": "Racine de Merkle",
        "col.transaction": "Transaction",
        "col.block": "Bloc",
        "batch.open": "en signature",
        "batch.sealed": "scellé",
        "batch.anchoring": "en cours d'ancrage",
        "batch.anchored": "ancré",
        "batch.delivered": "délivré",
        "rev.none": "Aucune demande en attente.",
        "rev.certificate": "Certificat",
        "rev.kind": "Demande",
        "rev.requested": "Reçue le",
        "rev.explanation": "Explication du candidat",
        "rev.no_explanation": "(aucune explication)",
        "rev.note": "Note de décision (obligatoire, gardée au journal d'audit)",
        "rev.approve": "Approuver et révoquer",
        "rev.refuse": "Refuser",
        "rev.warning": "Approuver révoque le certificat sur la chaîne et détruit son contenu. "
        "C'est définitif.",
        "rev.approved": "Demande approuvée : {n} certificat(s) révoqué(s) sur la chaîne et "
        "détruit(s).",
        "rev.refused": "Demande refusée.",
        "rev.note_missing": "Donnez une note pour motiver la décision.",
        "rev.not_decided": "La décision n'a pas pu être enregistrée :",
        "rev.not_carried_out": "La demande est approuvée, mais la révocation n'a pas pu être "
        "inscrite sur la chaîne pour l'instant. Elle le sera à la prochaine approbation, ou "
        "avec « sceau revocations run ». Détail :",
        "audit.intact": "Journal intact : {n} entrée(s), chaîne de hachage vérifiée.",
        "audit.broken": "Journal altéré, à examiner avant toute autre action :",
        "audit.none": "Le journal est vide.",
        "col.seq": "N°",
        "col.actor": "Auteur",
        "col.action": "Action",
        "col.subject": "Objet",
        "audit.newer": "Entrées plus récentes",
        "audit.older": "Entrées plus anciennes",
    },
    "en": {
        "home.title": "Administration",
        "nav.label": "Administration sections",
        "nav.home": "Home",
        "nav.import": "Import results",
        "nav.batches": "Issued batches",
        "nav.revocations": "Revocation requests",
        "nav.audit": "Audit log",
        "home.import": "Check a results file and issue the certificates.",
        "home.batches": "Issued batches and their anchoring transactions.",
        "home.revocations": "Approve or refuse the candidates' requests.",
        "nav.letters": "Letters to hand over",
        "action.revocation.requested": "Revocation requested by the candidate",
        "action.erasure.requested": "Erasure requested by the candidate",
        "action.revocation.approved": "Request approved",
        "action.revocation.refused": "Request refused",
        "action.certificate.revoked": "Certificate revoked and erased",
        "action.token.created": "Token created",
        "action.token.revoked": "Token withdrawn",
        "action.keys.signing_rotated": "Signing certificate replaced",
        "action.keys.anchoring_rotated": "Anchoring address replaced",
        "action.letters.handed_over": "Letters handed over",
        "action.profile.publishing": "Issuer profile published on chain",
        "home.letters": "Letters for candidates without an e-mail address, to print and hand over.",
        "home.audit": "Admin actions and the integrity of the log.",
        "home.nothing": "This token opens no section.",
        "signed_in_as": "Signed in with the token",
        "role": "role:",
        "role.admin": "administrator",
        "role.issuer": "issuing",
        "role.revoker": "revoking",
        "role.auditor": "auditing",
        "login.intro": "Paste your access token. It opens an 8-hour session; it is kept "
        "neither in the browser nor in the page.",
        "import.intro": "A file of jury-approved results, 10 MB at most: CSV (comma, semicolon "
        "or tab separated; UTF-8 or Windows-1252), XLSX, ODS or JSON. The usual column names, "
        "in French or English, are understood. Every row is checked before anything is issued.",
        "import.file": "Results file (.csv, .xlsx, .ods or .json)",
        "import.columns": "Column mapping (optional, a .toml file)",
        "import.columns_hint": "A [columns] table, one line per column: our field = your "
        'header, for example level = "Niveau final".',
        "import.check": "Check only",
        "import.checked": "Check only: {n} certificate(s) would be issued. Nothing was signed, "
        "anchored or sent.",
        "import.read_as": "Read as:",
        "import.columns_title": "Columns understood",
        "import.rows_title": "What would be issued",
        "import.ignored": "ignored",
        "import.ignored_columns": "Columns ignored:",
        "import.repeated": "Lines {lines} are the same ({rid}): one certificate.",
        "import.by_email": "e-mail",
        "import.by_letter": "letter",
        "col.column": "Your column",
        "col.field": "Understood as",
        "col.how": "How",
        "col.name": "Name",
        "col.level": "Level",
        "col.delivery": "Delivery",
        "how.known_name": "known name",
        "how.mapping_file": "mapping file",
        "how.skill_column": "skill column",
        "how.not_understood": "not understood",
        "how.no_header": "no header",
        "how.mapped_elsewhere": "the mapping file chose another column",
        "import.issue_valid": "Issue the valid rows even when others are rejected",
        "import.submit": "Check and issue",
        "import.no_file": "Choose a results file.",
        "import.too_large": "This file is larger than 10 MB.",
        "import.unreadable": "This file cannot be read:",
        "import.rejected": "Rejected rows",
        "import.nothing_issued": "Nothing was issued: {n} row(s) rejected. Fix them and import "
        "the file again, or tick “Issue the valid rows”.",
        "import.no_valid_rows": "No valid row: nothing to issue.",
        "col.line": "Line",
        "col.result_id": "Result id",
        "col.reasons": "Reasons",
        "job.title": "Import of",
        "job.phase": "Step",
        "job.phase.queued": "Waiting for another import to finish",
        "job.phase.preparing": "Preparing (keys, chain)",
        "job.phase.staging": "Recording the rows",
        "job.phase.sign": "Render, sign, encrypt",
        "job.phase.anchor": "Anchoring on chain",
        "job.phase.deliver": "Delivering to candidates",
        "job.phase.done": "Finished",
        "job.phase.failed": "Stopped on an error",
        "job.phase.interrupted": "Interrupted",
        "job.phase.enqueued": "Handed to the running `sceau worker`, which issues them",
        "job.progress": "Progress",
        "job.batch": "Batch",
        "job.of": "of",
        "job.issued": "Certificates issued",
        "job.skipped": "Rows already issued, skipped",
        "job.rejected": "Rows rejected, not issued",
        "job.resumed": "Unfinished batches resumed",
        "job.refresh": "Refresh",
        "job.error.chain": "The blockchain cannot be reached or refused the transaction.",
        "job.error.signing": "The signing key cannot be used.",
        "job.error.delivery": "Sending the messages to candidates failed.",
        "job.error.issuance": "Issuing failed.",
        "job.error.storage": "Saving failed.",
        "job.error.configuration": "The configuration is incomplete.",
        "job.error.internal": "An internal error occurred; the details are in the server log.",
        "job.error.interrupted": "The server running this import stopped. What was issued is "
        "kept; `sceau resume` or a `sceau worker` finishes the unfinished batches.",
        "job.retry": "What was issued is kept. Fix the cause, then import the file again: "
        "unfinished batches will be finished and rows already issued skipped.",
        "job.another": "Import another file",
        "batches.none": "No batch yet.",
        "col.source": "Source file",
        "col.state": "State",
        "col.date": "Date",
        "col.root": "Merkle root",
        "col.transaction": "Transaction",
        "col.block": "Block",
        "batch.open": "being signed",
        "batch.sealed": "sealed",
        "batch.anchoring": "being anchored",
        "batch.anchored": "anchored",
        "batch.delivered": "delivered",
        "rev.none": "No pending request.",
        "rev.certificate": "Certificate",
        "rev.kind": "Request",
        "rev.requested": "Received on",
        "rev.explanation": "The candidate's explanation",
        "rev.no_explanation": "(no explanation)",
        "rev.note": "Decision note (required, kept in the audit log)",
        "rev.approve": "Approve and revoke",
        "rev.refuse": "Refuse",
        "rev.warning": "Approving revokes the certificate on chain and destroys its content. "
        "This cannot be undone.",
        "rev.approved": "Request approved: {n} certificate(s) revoked on chain and destroyed.",
        "rev.refused": "Request refused.",
        "rev.note_missing": "Give a note explaining the decision.",
        "rev.not_decided": "The decision could not be recorded:",
        "rev.not_carried_out": "The request is approved, but the revocation could not be "
        "written on chain for now. It will be at the next approval, or with "
        "`sceau revocations run`. Details:",
        "audit.intact": "Log intact: {n} entries, hash chain checked.",
        "audit.broken": "Log tampered with; investigate before any other action:",
        "audit.none": "The log is empty.",
        "col.seq": "No.",
        "col.actor": "Actor",
        "col.action": "Action",
        "col.subject": "Subject",
        "audit.newer": "Newer entries",
        "audit.older": "Older entries",
    },
}


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
            jobs = request.app.state.admin_imports = ImportJobs()
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
    except TokenError:
        return _login_page(request, state, status_code=401, refused=True)
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
        return _import_problem(request, state, who, 422, "import.unreadable", detail=str(error))
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
    except DecisionRefused as error:
        return _revocations(request, state, who, 422, problem="rev.not_decided", detail=str(error))
    except (RegistryError, RevocationError) as error:
        problem = "rev.not_carried_out"
        return _revocations(request, state, who, 503, problem=problem, detail=str(error))
    return RedirectResponse(
        f"/admin/revocations?outcome=approved&revoked={revoked}", status_code=303
    )


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
