"""French and English: the reader's language, the words of the pages, dates in their format."""

from __future__ import annotations

from datetime import datetime

from babel.dates import format_datetime
from fastapi import Request

LANGUAGES = ("fr", "en")
DEFAULT = "fr"
COOKIE = "sceau_lang"

WORDS: dict[str, dict[str, str]] = {
    "fr": {
        "site": "Sceau — vérification de certificats",
        "skip": "Aller au contenu",
        "switch": "English",
        "switch_title": "Read this page in English",
        "verdict.VALID": "VALIDE",
        "verdict.REVOKED": "RÉVOQUÉ",
        "verdict.INVALID": "NON VALIDE",
        "verdict.ERROR": "VÉRIFICATION IMPOSSIBLE",
        "verdict.VALID.explain": "Ce certificat est authentique, intact et en vigueur.",
        "verdict.REVOKED.explain": "Ce certificat a été révoqué : il n'est plus valable.",
        "verdict.INVALID.explain": "Ce document ne peut pas être tenu pour authentique.",
        "verdict.ERROR.explain": "La vérification n'a pas pu aboutir. Réessayez plus tard.",
        "checking": "Vérification en cours…",
        "checks": "Le détail des vérifications",
        "status.valid": "réussie",
        "status.invalid": "échouée",
        "status.error": "impossible",
        "status.skipped": "non faite",
        "download": "Télécharger le PDF",
        "download_receipt": "Télécharger le reçu (JSON)",
        "anchored_on": "Ancré sur la chaîne le",
        "transaction": "Transaction",
        "revoked_on": "Révoqué le",
        "reason": "Motif",
        "shared_with": "Partagé avec",
        "expires": "Expire le",
        "no_key": "Ce lien est incomplet : la clé (après « # ») manque. Demandez un nouveau lien.",
        "check_title": "Vérifier un certificat PDF",
        "check_intro": "Déposez le PDF ici, ou choisissez-le. Le fichier est vérifié par ce "
        "service ; il n'est pas conservé.",
        "choose_file": "Choisir un fichier PDF",
        "drop_here": "Déposez le PDF ici",
        "status_title": "Statut du certificat",
        "status_issued": "Délivré et ancré",
        "status_pending": "En cours de délivrance",
        "status_revoked": "Révoqué",
        "issuer": "Émetteur",
        "certificate_id": "Identifiant du certificat",
        "status_privacy": "Cette page ne montre aucune donnée personnelle. Pour vérifier un "
        "document, déposez son PDF ci-dessous.",
        "me_title": "Mon certificat",
        "me_intro": "Ce lien est personnel : il ouvre votre certificat. Ne le transmettez pas ; "
        "créez plutôt un partage pour chaque destinataire.",
        "shares": "Mes partages",
        "new_share": "Partager avec un employeur ou un financeur",
        "recipient": "Destinataire (nom de l'organisme)",
        "days": "Durée du partage (jours)",
        "max_opens": "Nombre maximal d'ouvertures (facultatif)",
        "create_share": "Créer le lien de partage",
        "share_link": "Lien de partage, à envoyer au destinataire",
        "copy": "Copier le lien",
        "copied": "Lien copié",
        "end_share": "Mettre fin à ce partage",
        "ended": "Terminé",
        "opens": "Ouvertures",
        "access_log": "Qui a ouvert mes partages",
        "no_shares": "Aucun partage pour l'instant.",
        "no_opens": "Aucune ouverture.",
        "request_title": "Demander la révocation ou l'effacement",
        "request_explain": "Une fois la demande approuvée, le certificat est révoqué sur la "
        "chaîne et son contenu détruit (fichier chiffré, clés, partages). Un certificat ancré "
        "ne peut pas être effacé sans être révoqué. Cette action est définitive.",
        "kind_revocation": "Révocation",
        "kind_erasure": "Effacement",
        "request_reason": "Motif (facultatif)",
        "send_request": "Envoyer la demande",
        "request_sent": "Demande envoyée. L'organisme vous répondra.",
        "error_title": "Un problème est survenu",
        "back_home": "Vérifier un autre certificat",
        "error.not_found": "Cette page n'existe pas.",
        "error.share_expired": "Ce lien de partage a expiré. Demandez un nouveau lien au candidat.",
        "error.share_ended": "Le candidat a mis fin à ce partage.",
        "error.wrong_key": "La clé de ce lien n'ouvre pas le certificat. Vérifiez que le lien "
        "est complet.",
        "error.revoked": "Ce certificat a été révoqué.",
        "error.chain": "La chaîne de blocs est injoignable : la vérification est impossible "
        "pour l'instant.",
        "error.not_pdf": "Ce fichier n'est pas un PDF.",
        "error.too_large": "Ce fichier est trop volumineux (10 Mo au plus).",
        "error.server": "Une erreur interne est survenue. Réessayez plus tard.",
        "error.forbidden": "Accès refusé.",
        "error.csrf": "Le formulaire a expiré. Rechargez la page et recommencez.",
        "admin": "Administration",
        "admin_login": "Connexion de l'administration",
        "token": "Jeton d'accès",
        "sign_in": "Se connecter",
        "sign_out": "Se déconnecter",
        "bad_token": "Jeton refusé.",
    },
    "en": {
        "site": "Sceau — certificate verification",
        "skip": "Skip to content",
        "switch": "Français",
        "switch_title": "Lire cette page en français",
        "verdict.VALID": "VALID",
        "verdict.REVOKED": "REVOKED",
        "verdict.INVALID": "INVALID",
        "verdict.ERROR": "COULD NOT VERIFY",
        "verdict.VALID.explain": "This certificate is genuine, intact and in force.",
        "verdict.REVOKED.explain": "This certificate was revoked: it is no longer valid.",
        "verdict.INVALID.explain": "This document cannot be taken as genuine.",
        "verdict.ERROR.explain": "The check could not be completed. Please try again later.",
        "checking": "Checking…",
        "checks": "Every check, in detail",
        "status.valid": "passed",
        "status.invalid": "failed",
        "status.error": "could not run",
        "status.skipped": "not done",
        "download": "Download the PDF",
        "download_receipt": "Download the receipt (JSON)",
        "anchored_on": "Anchored on chain on",
        "transaction": "Transaction",
        "revoked_on": "Revoked on",
        "reason": "Reason",
        "shared_with": "Shared with",
        "expires": "Expires on",
        "no_key": "This link is incomplete: the key (after '#') is missing. Ask for a new link.",
        "check_title": "Check a PDF certificate",
        "check_intro": "Drop the PDF here, or choose it. The file is checked by this service; "
        "it is not kept.",
        "choose_file": "Choose a PDF file",
        "drop_here": "Drop the PDF here",
        "status_title": "Certificate status",
        "status_issued": "Issued and anchored",
        "status_pending": "Being issued",
        "status_revoked": "Revoked",
        "issuer": "Issuer",
        "certificate_id": "Certificate id",
        "status_privacy": "This page shows no personal data. To check a document, drop its PDF "
        "below.",
        "me_title": "My certificate",
        "me_intro": "This link is personal: it opens your certificate. Do not pass it on; "
        "create a share for each recipient instead.",
        "shares": "My shares",
        "new_share": "Share with an employer or a funder",
        "recipient": "Recipient (organisation name)",
        "days": "Share duration (days)",
        "max_opens": "Maximum number of opens (optional)",
        "create_share": "Create the share link",
        "share_link": "Share link, to send to the recipient",
        "copy": "Copy the link",
        "copied": "Link copied",
        "end_share": "End this share",
        "ended": "Ended",
        "opens": "Opens",
        "access_log": "Who opened my shares",
        "no_shares": "No shares yet.",
        "no_opens": "Not opened yet.",
        "request_title": "Ask for revocation or erasure",
        "request_explain": "Once the request is approved, the certificate is revoked on the "
        "chain and its content destroyed (encrypted file, keys, shares). An anchored "
        "certificate cannot be erased without being revoked. This cannot be undone.",
        "kind_revocation": "Revocation",
        "kind_erasure": "Erasure",
        "request_reason": "Reason (optional)",
        "send_request": "Send the request",
        "request_sent": "Request sent. The issuing body will answer you.",
        "error_title": "Something went wrong",
        "back_home": "Check another certificate",
        "error.not_found": "This page does not exist.",
        "error.share_expired": "This share link has expired. Ask the candidate for a new link.",
        "error.share_ended": "The candidate ended this share.",
        "error.wrong_key": "This link's key does not open the certificate. Check that the link "
        "is complete.",
        "error.revoked": "This certificate was revoked.",
        "error.chain": "The blockchain cannot be reached: the check is impossible for now.",
        "error.not_pdf": "This file is not a PDF.",
        "error.too_large": "This file is too large (10 MB at most).",
        "error.server": "An internal error occurred. Please try again later.",
        "error.forbidden": "Access denied.",
        "error.csrf": "The form has expired. Reload the page and try again.",
        "admin": "Administration",
        "admin_login": "Administration sign-in",
        "token": "Access token",
        "sign_in": "Sign in",
        "sign_out": "Sign out",
        "bad_token": "Token refused.",
    },
}


def language_of(request: Request) -> str:
    """?lang= (then remembered in a cookie), else the cookie, else the browser's preference."""
    asked = request.query_params.get("lang") or request.cookies.get(COOKIE)
    if asked in LANGUAGES:
        return asked
    for part in request.headers.get("accept-language", "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return DEFAULT


class Translator:
    """The words and formats of one language, for templates."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.other = "en" if lang == "fr" else "fr"
        self._words = WORDS[lang]

    def __call__(self, key: str) -> str:
        return self._words.get(key, WORDS[DEFAULT].get(key, key))

    def date(self, value: datetime | None) -> str:
        if value is None:
            return "—"
        return format_datetime(value, format="long", locale=self.lang, tzinfo=value.tzinfo)

    def js_words(self) -> dict[str, str]:
        """The words the page's script needs (passed as data, never as inline script)."""
        return {k: v for k, v in self._words.items() if k.startswith(("verdict", "status."))} | {
            k: self._words[k]
            for k in (
                "checking",
                "copied",
                "no_opens",
                "no_shares",
                "ended",
                "request_sent",
                "expires",
                "opens",
                "end_share",
                "anchored_on",
                "transaction",
                "revoked_on",
                "reason",
                "download",
                "shared_with",
                "copy",
                "share_link",
            )
        }
