"""The report of a presentation check: one result per check, a verdict computed, never stored.

The same shape, statuses, verdict rule and FR/EN messages as `verifier.report` for a PDF;
the checks that a PDF does not have (format, key binding, disclosures…) have their codes here.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, JsonValue, computed_field

from verifier.messages import MESSAGES, Message
from verifier.report import ChainFacts, CheckResult, CheckStatus, Unfilled, Verdict, decide


class PresentationCheckName(StrEnum):
    """The checks of a presentation, in the order a report shows them."""

    FORMAT = "format"
    ISSUER_SIGNATURE = "issuer_signature"
    CERTIFICATE_CHAIN = "certificate_chain"
    DISCLOSURES = "disclosures"
    KEY_BINDING = "key_binding"
    INCLUSION = "inclusion"
    ANCHORING = "anchoring"
    REVOCATION = "revocation"
    ISSUER_IDENTITY = "issuer_identity"


REQUIRED = tuple(PresentationCheckName)

WALLET_MESSAGES: dict[str, Message] = {
    "presentation_malformed": Message(
        "La présentation n'est pas un SD-JWT avec liaison de clé : {detail}.",
        "The presentation is not an SD-JWT with key binding: {detail}.",
    ),
    "wrong_credential_type": Message(
        "Ce n'est pas un certificat de cet émetteur (type {vct}).",
        "This is not a certificate of this issuer (type {vct}).",
    ),
    "credential_well_formed": Message(
        "Attestation SD-JWT VC de type {vct}.", "SD-JWT VC credential of type {vct}."
    ),
    "issuer_signature_valid": Message(
        "La signature de l'émetteur est intacte.", "The issuer's signature is intact."
    ),
    "issuer_signature_invalid": Message(
        "La signature de l'émetteur ne correspond pas : l'attestation a été modifiée.",
        "The issuer's signature does not match: the credential was altered.",
    ),
    "chain_to_profile": Message(
        "Le certificat de signature {subject} est celui du profil et remonte à sa racine.",
        "The signing certificate {subject} is the profile's and chains to its root.",
    ),
    "signer_not_in_profile": Message(
        "Le certificat de signature n'est pas publié dans le profil de l'émetteur au {at}.",
        "The signing certificate is not published in the issuer's profile at {at}.",
    ),
    "chain_broken": Message(
        "La chaîne x5c ne remonte pas à une racine de confiance du profil : {detail}.",
        "The x5c chain does not lead to a trust root of the profile: {detail}.",
    ),
    "disclosures_valid": Message(
        "{count} information(s) divulguée(s), chacune signée par l'émetteur.",
        "{count} claim(s) disclosed, each signed by the issuer.",
    ),
    "disclosure_unreferenced": Message(
        "Une information divulguée n'est couverte par aucune empreinte signée.",
        "A disclosed claim is covered by no signed digest.",
    ),
    "disclosure_malformed": Message(
        "Une divulgation est illisible ou en double : {detail}.",
        "A disclosure is unreadable or repeated: {detail}.",
    ),
    "key_binding_valid": Message(
        "Le titulaire a présenté l'attestation à ce vérificateur, avec son nonce.",
        "The holder presented the credential to this verifier, with its nonce.",
    ),
    "key_binding_missing": Message(
        "La présentation n'a pas de preuve de détention (KB-JWT).",
        "The presentation has no key binding JWT.",
    ),
    "key_binding_invalid": Message(
        "La preuve de détention n'est pas signée par la clé du titulaire : {detail}.",
        "The key binding is not signed by the holder's key: {detail}.",
    ),
    "key_binding_wrong_audience": Message(
        "La preuve de détention est destinée à un autre vérificateur ({audience}).",
        "The key binding is meant for another verifier ({audience}).",
    ),
    "key_binding_wrong_nonce": Message(
        "Le nonce de la preuve de détention est inconnu, déjà utilisé ou expiré.",
        "The key binding's nonce is unknown, already used or expired.",
    ),
    "key_binding_sd_hash_mismatch": Message(
        "La preuve de détention ne couvre pas cette présentation : son empreinte diffère.",
        "The key binding does not cover this presentation: its digest differs.",
    ),
    "key_binding_stale": Message(
        "La preuve de détention est trop ancienne ou datée dans le futur.",
        "The key binding is too old or dated in the future.",
    ),
    "not_checked": Message(
        "Non vérifié : la présentation est illisible.",
        "Not checked: the presentation is unreadable.",
    ),
}


# What `verifier.presentation` says went wrong (a check's `detail`), in both languages; the
# details themselves keep its words, for programs. A detail without words here is shown as is.
DETAIL_WORDS: dict[str, Message] = {
    "typ or alg": Message("en-tête typ ou alg inattendu", "unexpected typ or alg header"),
    "x5c": Message("pas de chaîne x5c", "no x5c chain"),
    "_sd_alg or iat": Message("_sd_alg ou iat inattendu", "unexpected _sd_alg or iat"),
    "signed in the future": Message("signée dans le futur", "signed in the future"),
    "not <jwt>~<disclosures>~<kb-jwt>": Message(
        "pas de la forme <jwt>~<divulgations>~<kb-jwt>", "not <jwt>~<disclosures>~<kb-jwt>"
    ),
    "an empty disclosure": Message("une divulgation est vide", "a disclosure is empty"),
    "the issuer-signed JWT is unreadable": Message(
        "le JWT signé par l'émetteur est illisible", "the issuer-signed JWT is unreadable"
    ),
    "the payload is not a JSON object": Message(
        "son contenu n'est pas un objet JSON", "its payload is not a JSON object"
    ),
    "a disclosure is not base64url JSON": Message(
        "une divulgation n'est pas du JSON en base64url", "a disclosure is not base64url JSON"
    ),
    "an x5c certificate is unreadable": Message(
        "un certificat de la chaîne x5c est illisible",
        "a certificate of the x5c chain is unreadable",
    ),
    "the signing certificate's key type is not supported": Message(
        "le type de clé du certificat de signature n'est pas pris en charge",
        "the signing certificate's key type is not supported",
    ),
    "a disclosure is not [salt, name, value]": Message(
        "une divulgation n'est pas [sel, nom, valeur]", "a disclosure is not [salt, name, value]"
    ),
    "a disclosure is repeated or names a reserved claim": Message(
        "une divulgation est répétée ou nomme une information réservée",
        "a disclosure is repeated or names a reserved claim",
    ),
    "a digest is referenced twice": Message(
        "une empreinte est référencée deux fois", "a digest is referenced twice"
    ),
    "a disclosure overrides a claim": Message(
        "une divulgation remplace une information signée", "a disclosure overrides a signed claim"
    ),
    "the sceau_anchor claim is missing or malformed": Message(
        "la preuve d'ancrage de l'attestation manque ou est illisible",
        "the credential's anchoring proof is missing or unreadable",
    ),
    "a certificate was not valid when the credential was signed": Message(
        "un certificat n'était pas en vigueur quand l'attestation a été signée",
        "a certificate was not valid when the credential was signed",
    ),
    "x5c is not an unbroken chain": Message(
        "la chaîne x5c est interrompue", "the x5c chain is broken"
    ),
    "no trust root of the profile issued it": Message(
        "aucune racine de confiance du profil ne l'a émise",
        "no trust root of the profile issued it",
    ),
    "the credential names no holder key (cnf.jwk)": Message(
        "l'attestation ne désigne pas la clé du titulaire (cnf.jwk)",
        "the credential names no holder key (cnf.jwk)",
    ),
    "unreadable": Message("illisible", "unreadable"),
    "typ must be kb+jwt": Message("son typ doit être kb+jwt", "its typ must be kb+jwt"),
    "signature": Message("la signature ne correspond pas", "the signature does not match"),
}


def _message(code: str) -> Message:
    return WALLET_MESSAGES.get(code) or MESSAGES[code]


def _filled(message: Message, details: dict[str, JsonValue]) -> Message:
    """The message with its placeholders filled, a `detail` in the message's own language."""
    values = {k: str(v) for k, v in details.items()}
    detail = DETAIL_WORDS.get(values.get("detail", ""))
    fr, en = Unfilled(values), Unfilled(values)
    if detail is not None:
        fr["detail"], en["detail"] = detail.fr, detail.en
    return Message(message.fr.format_map(fr), message.en.format_map(en))


class PresentationCheck(BaseModel):
    """One check's outcome, as `verifier.report.CheckResult`, over the presentation's checks."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: PresentationCheckName
    status: CheckStatus
    code: str
    message_fr: str
    message_en: str
    details: dict[str, JsonValue] = {}

    @classmethod
    def of(
        cls, name: PresentationCheckName, status: CheckStatus, code: str, **details: JsonValue
    ) -> PresentationCheck:
        message = _filled(_message(code), details)
        return cls(
            name=name,
            status=status,
            code=code,
            message_fr=message.fr,
            message_en=message.en,
            details=details,
        )

    @classmethod
    def from_result(cls, result: CheckResult) -> PresentationCheck:
        """A chain check shared with the PDF verification, under the same name and code."""
        fields = result.model_dump()
        fields["name"] = PresentationCheckName(result.name.value)
        return cls(**fields)


class PresentationReport(ChainFacts):
    """What was checked about one presentation; `disclosed` holds exactly the claims shown."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    checks: tuple[PresentationCheck, ...]
    disclosed: dict[str, JsonValue] = Field(default_factory=dict)
    checked_at: AwareDatetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def verdict(self) -> Verdict:
        """As a PDF's (verifier.report.decide), every check of a presentation required."""
        return decide(self.checks, REQUIRED, revocation=PresentationCheckName.REVOCATION)

    def _anchoring(self) -> PresentationCheck | None:
        return self.check(PresentationCheckName.ANCHORING)

    def _revocation(self) -> PresentationCheck | None:
        return self.check(PresentationCheckName.REVOCATION)

    def check(self, name: PresentationCheckName) -> PresentationCheck | None:
        return next((c for c in self.checks if c.name is name), None)
