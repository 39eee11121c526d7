"""The report of a presentation check: one result per check, a verdict computed, never stored.

The same shape, statuses, verdict rule and FR/EN messages as `verifier.report` for a PDF;
the checks that a PDF does not have (format, key binding, disclosures…) have their codes here.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, JsonValue, computed_field

from verifier.messages import MESSAGES, Message
from verifier.report import SUSPENDED_CODE, CheckResult, CheckStatus, Unfilled, Verdict


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
        "La preuve de détention ne couvre pas cette présentation (sd_hash).",
        "The key binding does not cover this presentation (sd_hash).",
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


def _message(code: str) -> Message:
    return WALLET_MESSAGES.get(code) or MESSAGES[code]


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
        message = _message(code)
        values = Unfilled({k: str(v) for k, v in details.items()})
        return cls(
            name=name,
            status=status,
            code=code,
            message_fr=message.fr.format_map(values),
            message_en=message.en.format_map(values),
            details=details,
        )

    @classmethod
    def from_result(cls, result: CheckResult) -> PresentationCheck:
        """A chain check shared with the PDF verification, under the same name and code."""
        fields = result.model_dump()
        fields["name"] = PresentationCheckName(result.name.value)
        return cls(**fields)


class PresentationReport(BaseModel):
    """What was checked about one presentation; `disclosed` holds exactly the claims shown."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    checks: tuple[PresentationCheck, ...]
    disclosed: dict[str, JsonValue] = Field(default_factory=dict)
    checked_at: AwareDatetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def verdict(self) -> Verdict:
        """INVALID > REVOKED > SUSPENDED > ERROR > VALID; VALID only when every check ran valid."""
        failed = [c for c in self.checks if c.status is CheckStatus.INVALID]
        if any(c.name is not PresentationCheckName.REVOCATION for c in failed):
            return Verdict.INVALID
        if any(c.code != SUSPENDED_CODE for c in failed):
            return Verdict.REVOKED
        if failed:
            return Verdict.SUSPENDED
        if any(c.status is not CheckStatus.VALID for c in self.checks):
            return Verdict.ERROR
        return Verdict.VALID if set(REQUIRED) <= {c.name for c in self.checks} else Verdict.ERROR

    def check(self, name: PresentationCheckName) -> PresentationCheck | None:
        return next((c for c in self.checks if c.name is name), None)
