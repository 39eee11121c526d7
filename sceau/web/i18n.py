"""French and English: the reader's language, the words of the pages, dates in their format."""

from __future__ import annotations

from datetime import datetime

from babel.dates import format_date, format_datetime
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
        "verdict.SUSPENDED": "SUSPENDU",
        "verdict.SUSPENDED.explain": "Ce certificat est authentique, mais l'organisme émetteur "
        "l'a suspendu : il ne vaut pas tant que la suspension n'est pas levée.",
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
        "check_title": "Vérifier un certificat PDF",
        "check_intro": "Déposez le PDF ici, ou choisissez-le. Le fichier est vérifié par ce "
        "service ; il n'est pas conservé.",
        "choose_file": "Choisir un fichier PDF",
        "drop_here": "Déposez le PDF ici",
        "status_title": "Statut du certificat",
        "status_issued": "Délivré et ancré",
        "status_pending": "En cours de délivrance",
        "status_revoked": "Révoqué",
        "status_suspended": "Suspendu",
        "suspended_since": "Suspendu depuis le",
        "suspended.title": "Ce certificat est suspendu depuis le {date} ({reason})",
        "suspended.title.undated": "Ce certificat est suspendu",
        "suspended.explain": "Une suspension est provisoire : le certificat n'est pas révoqué "
        "et son contenu n'est pas détruit, mais il ne vaut pas tant qu'elle dure. L'organisme "
        "émetteur peut la lever ; le certificat redevient alors valide.",
        "me_suspended.title": "Votre certificat est suspendu depuis le {date} ({reason})",
        "me_suspended.title.undated": "Votre certificat est suspendu",
        "me_suspended.explain": "L'organisme émetteur a suspendu votre certificat. Tant que la "
        "suspension dure, toute vérification affiche « suspendu » : il n'est pas révoqué, son "
        "contenu n'est pas détruit et vos partages restent ouverts, mais il ne vaut pas. La "
        "suspension peut être levée ; pour en savoir plus, écrivez à l'organisme émetteur.",
        "suspension_reason.appeal": "recours en cours",
        "suspension_reason.inquiry": "enquête en cours",
        "suspension_reason.payment": "paiement en attente",
        "suspension_reason.other": "autre motif",
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
        "error.not_found.title": "Cette page n'existe pas",
        "error.not_found": "Vérifiez l'adresse, ou recopiez-la en entier depuis le message reçu.",
        "error.share_unknown.title": "Ce lien de partage n'existe pas",
        "error.share_unknown": "Vérifiez qu'il a été recopié en entier depuis le message reçu, "
        "ou demandez un nouveau lien au candidat.",
        "error.share_expired.title": "Ce partage a expiré le {date}",
        "error.share_expired.title.undated": "Ce partage a expiré",
        "error.share_expired": "Le candidat l'avait ouvert pour une durée limitée. Demandez-lui un "
        "nouveau lien si vous avez encore besoin de voir le certificat.",
        "error.share_ended.title": "Ce partage a été clos par le candidat",
        "error.share_ended": "Le certificat ne peut plus être consulté par ce lien. Demandez un "
        "nouveau lien au candidat si vous en avez encore besoin.",
        "error.share_exhausted.title": "Ce partage a été ouvert autant de fois que le candidat "
        "l'avait permis",
        "error.share_exhausted": "Il ne peut plus être ouvert. Demandez un nouveau lien au "
        "candidat si vous en avez encore besoin.",
        "error.wrong_link_key.title": "Ce lien est incomplet ou mal recopié",
        "error.wrong_link_key": "Copiez-le à nouveau en entier depuis le message que vous avez "
        "reçu, sans oublier la fin après «\u00a0#\u00a0». Cette page ne dit rien du "
        "certificat lui-même.",
        "error.revoked.title": "Ce certificat a été révoqué le {date} {reason}",
        "error.revoked.title.no_reason": "Ce certificat a été révoqué le {date}",
        "error.revoked.title.undated": "Ce certificat a été révoqué",
        "error.revoked": "Il n'est plus valable, et son contenu a été détruit : il ne peut plus "
        "être consulté.",
        "reason.holder_request": "à la demande de son titulaire",
        "reason.issuer_error": "à la suite d'une erreur de l'organisme émetteur",
        "reason.fraud": "pour fraude",
        "reason.superseded": "parce qu'un nouveau certificat le remplace",
        "reason.retention_expired": "au terme de sa durée de conservation",
        "reason_name.holder_request": "Demande du titulaire",
        "reason_name.issuer_error": "Erreur de l'organisme émetteur",
        "reason_name.fraud": "Fraude",
        "reason_name.superseded": "Remplacé par un nouveau certificat",
        "reason_name.retention_expired": "Fin de la durée de conservation",
        "reason_name.unspecified": "Non précisé",
        "check.revoked": "Révoqué sur la chaîne le {date} (motif : {reason}).",
        "check.share_expired": "Ce partage a expiré le {date}.",
        "check.anchored": "Racine ancrée le {date} (bloc {block_number}) par {anchored_by}.",
        "check.signature_valid": "La signature PAdES est intacte, couvre tout le fichier et "
        "remonte à une racine de confiance (au {date}).",
        "error.chain": "La chaîne de blocs est injoignable : la vérification est impossible "
        "pour l'instant.",
        "error.not_pdf": "Ce fichier n'est pas un PDF.",
        "error.too_large": "Ce fichier est trop volumineux (10 Mo au plus).",
        "error.chain.title": "Vérification impossible pour l'instant",
        "error.server.title": "Le service n'a pas pu répondre",
        "error.server": "Une erreur interne est survenue. Réessayez plus tard.",
        "error.forbidden.title": "Accès refusé",
        "error.forbidden": "Votre jeton ne donne pas accès à cette page.",
        "error.csrf.title": "Le formulaire a expiré",
        "error.csrf": "Rechargez la page et recommencez.",
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
        "verdict.SUSPENDED": "SUSPENDED",
        "verdict.SUSPENDED.explain": "This certificate is genuine, but the issuing body has "
        "suspended it: it does not count until the suspension is lifted.",
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
        "check_title": "Check a PDF certificate",
        "check_intro": "Drop the PDF here, or choose it. The file is checked by this service; "
        "it is not kept.",
        "choose_file": "Choose a PDF file",
        "drop_here": "Drop the PDF here",
        "status_title": "Certificate status",
        "status_issued": "Issued and anchored",
        "status_pending": "Being issued",
        "status_revoked": "Revoked",
        "status_suspended": "Suspended",
        "suspended_since": "Suspended since",
        "suspended.title": "This certificate has been suspended since {date} ({reason})",
        "suspended.title.undated": "This certificate is suspended",
        "suspended.explain": "A suspension is provisional: the certificate is not revoked and "
        "its content is not destroyed, but it does not count while the suspension lasts. The "
        "issuing body may lift it; the certificate is then valid again.",
        "me_suspended.title": "Your certificate has been suspended since {date} ({reason})",
        "me_suspended.title.undated": "Your certificate is suspended",
        "me_suspended.explain": "The issuing body has suspended your certificate. While the "
        "suspension lasts, every check says 'suspended': it is not revoked, its content is not "
        "destroyed and your shares stay open, but it does not count. The suspension may be "
        "lifted; to know more, write to the issuing body.",
        "suspension_reason.appeal": "appeal under way",
        "suspension_reason.inquiry": "inquiry under way",
        "suspension_reason.payment": "payment pending",
        "suspension_reason.other": "other reason",
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
        "error.not_found.title": "This page does not exist",
        "error.not_found": "Check the address, or copy it again in full from the message you "
        "received.",
        "error.share_unknown.title": "This share link does not exist",
        "error.share_unknown": "Check that it was copied in full from the message you received, "
        "or ask the candidate for a new link.",
        "error.share_expired.title": "This share expired on {date}",
        "error.share_expired.title.undated": "This share has expired",
        "error.share_expired": "The candidate opened it for a limited time. Ask them for a new "
        "link if you still need to see the certificate.",
        "error.share_ended.title": "This share was ended by the candidate",
        "error.share_ended": "The certificate can no longer be seen through this link. Ask the "
        "candidate for a new link if you still need it.",
        "error.share_exhausted.title": "This share has been opened as many times as the "
        "candidate allowed",
        "error.share_exhausted": "It cannot be opened again. Ask the candidate for a new link if "
        "you still need it.",
        "error.wrong_link_key.title": "This link is incomplete or mistyped",
        "error.wrong_link_key": "Copy it again in full from the message you received, including "
        "the end after '#'. This page says nothing about the certificate itself.",
        "error.revoked.title": "This certificate was revoked on {date} {reason}",
        "error.revoked.title.no_reason": "This certificate was revoked on {date}",
        "error.revoked.title.undated": "This certificate was revoked",
        "error.revoked": "It is no longer valid, and its content was destroyed: it can no "
        "longer be seen.",
        "reason.holder_request": "at the holder's request",
        "reason.issuer_error": "because of an error by the issuing body",
        "reason.fraud": "for fraud",
        "reason.superseded": "because a new certificate replaces it",
        "reason.retention_expired": "because its retention period ended",
        "reason_name.holder_request": "Holder's request",
        "reason_name.issuer_error": "Error by the issuing body",
        "reason_name.fraud": "Fraud",
        "reason_name.superseded": "Replaced by a new certificate",
        "reason_name.retention_expired": "Retention period ended",
        "reason_name.unspecified": "Not specified",
        "check.revoked": "Revoked on chain on {date} (reason: {reason}).",
        "check.share_expired": "This share expired on {date}.",
        "check.anchored": "Root anchored on {date} (block {block_number}) by {anchored_by}.",
        "check.signature_valid": "The PAdES signature is intact, covers the whole file and "
        "chains to a trusted root (as of {date}).",
        "error.chain": "The blockchain cannot be reached: the check is impossible for now.",
        "error.not_pdf": "This file is not a PDF.",
        "error.too_large": "This file is too large (10 MB at most).",
        "error.chain.title": "The check cannot be done for now",
        "error.server.title": "The service could not answer",
        "error.server": "An internal error occurred. Please try again later.",
        "error.forbidden.title": "Access denied",
        "error.forbidden": "Your token does not give access to this page.",
        "error.csrf.title": "The form has expired",
        "error.csrf": "Reload the page and try again.",
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
        self._locale = "fr_FR" if lang == "fr" else "en_GB"  # as the pages' script formats them

    def __call__(self, key: str) -> str:
        return self._words.get(key, WORDS[DEFAULT].get(key, key))

    def date(self, value: datetime | None) -> str:
        if value is None:
            return "—"
        return self._first(
            format_datetime(value, format="long", locale=self._locale, tzinfo=value.tzinfo)
        )

    def day(self, value: datetime) -> str:
        """The day of `value` in its own time zone: "1er décembre 2026", "1 December 2026"."""
        return self._first(format_date(value, format="long", locale=self._locale))

    def _first(self, text: str) -> str:
        # French writes the first day of a month as an ordinal: « le 1er décembre ».
        return "1er" + text[1:] if self.lang == "fr" and text.startswith("1 ") else text

    def reason_name(self, code: str | None) -> str:
        """A revocation reason category in words; an unknown one is "not specified"."""
        return self._words.get(f"reason_name.{code}", self._words["reason_name.unspecified"])

    def revoked_headline(self, at: datetime | None, reason: str | None) -> str:
        """ "This certificate was revoked on 1 December 2026 at the holder's request"."""
        if at is None:
            return self("error.revoked.title.undated")
        phrase = self._words.get(f"reason.{reason}")
        if phrase is None:
            return self("error.revoked.title.no_reason").format(date=self.day(at))
        return self("error.revoked.title").format(date=self.day(at), reason=phrase)

    def suspension_reason(self, code: str | None) -> str:
        """A suspension reason in words ("appeal under way"); an unknown one is "other"."""
        return self._words.get(f"suspension_reason.{code}", self._words["suspension_reason.other"])

    def suspended_headline(self, at: datetime | None, reason: str | None, *, key: str) -> str:
        """ "This certificate has been suspended since 1 December 2026 (appeal under way)";
        `key` is "suspended" (anyone's pages) or "me_suspended" (the candidate's)."""
        if at is None:
            return self(f"{key}.title.undated")
        return self(f"{key}.title").format(date=self.day(at), reason=self.suspension_reason(reason))

    def expired_headline(self, at: datetime | None) -> str:
        """ "This share expired on 1 December 2026"."""
        if at is None:
            return self("error.share_expired.title.undated")
        return self("error.share_expired.title").format(date=self.day(at))

    def js_words(self) -> dict[str, str]:
        """The words the page's script needs (passed as data, never as inline script)."""
        prefixes = ("verdict", "status.", "error.", "reason", "check.", "suspen")
        return {k: v for k, v in self._words.items() if k.startswith(prefixes)} | {
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
