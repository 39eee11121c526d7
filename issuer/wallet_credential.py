"""The certificate as an SD-JWT VC (IETF SD-JWT VC, media type `dc+sd-jwt`).

Every personal claim is a disclosure the holder may withhold; what stays visible is only what
a verifier needs to check the credential: the issuer, the type, the holder's key (`cnf`), the
status reference and the anchored leaf with its Merkle proof (`sceau_anchor`). The JWS is
signed with the same X.509 identity as the PDF signature, its chain in the `x5c` header.
SD-JWT encoding is done here on top of joserfc (docs/wallet.md says why): salts, base64url and
SHA-256 digests only; the signature is joserfc's.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from joserfc import jws
from joserfc.jwk import ECKey, RSAKey

from contracts.receipt import Receipt
from issuer.content import CertificateContent
from issuer.errors import IssuanceError
from issuer.signing import SigningIdentity, read_signing_material

CREDENTIAL_FORMAT = "dc+sd-jwt"
CREDENTIAL_CONFIGURATION_ID = "sceau_certificate_sd_jwt"
VCT_PATH = "/credentials/types/sceau-certificate/v1"
ANCHOR_CLAIM = "sceau_anchor"
SALT_BYTES = 16
# The claims a holder may disclose, in the type metadata's order.
PERSONAL_CLAIMS = (
    "name",
    "given_name",
    "family_name",
    "birthdate",
    "candidate_number",
    "exam",
    "language",
    "level",
    "score",
    "score_max",
    "skills",
    "session_date",
    "centre",
    "issued_on",
    "certificate_id",
)


class WalletCredentialError(IssuanceError):
    """The wallet credential cannot be built as asked."""


def credential_type(public_base_url: str) -> str:
    """The `vct` of Sceau certificates: a URL where its type metadata is served."""
    return public_base_url.rstrip("/") + VCT_PATH


@dataclass(frozen=True)
class CredentialSigner:
    """The issuer's signing key as a JOSE key, with its certificate chain for `x5c`."""

    key: ECKey | RSAKey
    algorithm: str
    x5c: tuple[str, ...]  # base64 (not url) DER, leaf first, trust anchor left out


def load_credential_signer(identity: SigningIdentity) -> CredentialSigner:
    """The PDF signing identity, for JWS: ES256/ES384 for ECDSA keys, RS256 for RSA."""
    return _load_cached(identity)


@functools.lru_cache(maxsize=4)
def _load_cached(identity: SigningIdentity) -> CredentialSigner:
    material = read_signing_material(identity)
    private, cert, chain = material.key, material.certificate, material.chain
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    if isinstance(private, rsa.RSAPrivateKey):
        return CredentialSigner(RSAKey.import_key(pem), "RS256", _x5c(cert, chain))
    algorithm = {"secp256r1": "ES256", "secp384r1": "ES384"}.get(private.curve.name)
    if not isinstance(private, ec.EllipticCurvePrivateKey) or algorithm is None:
        raise WalletCredentialError("the signing key's curve has no JOSE algorithm here")
    return CredentialSigner(ECKey.import_key(pem), algorithm, _x5c(cert, chain))


def _x5c(cert: x509.Certificate, chain: tuple[x509.Certificate, ...]) -> tuple[str, ...]:
    """Leaf and intermediates; a self-signed root is the verifier's trust anchor, not sent."""
    sent = [cert, *(c for c in chain if c.subject != c.issuer)]
    return tuple(
        base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode() for c in sent
    )


def personal_claims(content: CertificateContent) -> dict[str, Any]:
    """What the certificate says about the candidate, as SD-JWT VC claims (JSON values)."""
    claims: dict[str, Any] = {
        "name": content.candidate_name,
        "given_name": content.first_name,
        "family_name": content.last_name,
        "birthdate": content.date_of_birth.isoformat(),
        "candidate_number": content.candidate_number,
        "exam": content.exam,
        "language": content.language,
        "level": content.level.value if content.level else None,
        "score": str(content.score) if content.score is not None else None,
        "score_max": str(content.score_max) if content.score_max is not None else None,
        "skills": {s.skill: _skill_value(s) for s in content.skills} or None,
        "session_date": content.session_date.isoformat(),
        "centre": content.centre,
        "issued_on": content.issued_on.isoformat(),
        "certificate_id": content.certificate_id,
    }
    return {name: value for name, value in claims.items() if value is not None}


def _skill_value(skill: Any) -> str:
    return skill.level.value if skill.level is not None else str(skill.score)


def anchor_claim(receipt: Receipt) -> dict[str, Any]:
    """The anchored leaf, its proof and its anchoring: no salt, no PDF hash, no id."""
    return {
        "leaf": receipt.leaf,
        "proof": list(receipt.proof),
        "root": receipt.root,
        "chain_id": receipt.chain_id,
        "contract": receipt.contract,
        "transaction": receipt.transaction,
        "block_number": receipt.block_number,
        "anchored_at": receipt.anchored_at.isoformat().replace("+00:00", "Z"),
    }


@dataclass(frozen=True)
class CredentialRequest:
    """Everything one credential is made of."""

    content: CertificateContent
    receipt: Receipt
    holder_jwk: dict[str, Any]  # the wallet's public key, from its proof of possession
    issuer_url: str  # the credential issuer identifier (`iss`)
    status: dict[str, Any] | None  # the status list reference, when the issuer publishes one
    issued_at: datetime


def build_credential(request: CredentialRequest, signer: CredentialSigner) -> str:
    """The SD-JWT VC: `<issuer-signed JWT>~<disclosure>~…~` (no key binding: the holder adds it)."""
    disclosures: list[str] = []
    payload: dict[str, Any] = {
        "iss": request.issuer_url,
        "iat": int(request.issued_at.timestamp()),
        "vct": credential_type(request.issuer_url),
        "cnf": {"jwk": _public_jwk(request.holder_jwk)},
        ANCHOR_CLAIM: anchor_claim(request.receipt),
        "_sd_alg": "sha-256",
    }
    if request.status is not None:
        payload["status"] = request.status
    payload["_sd"] = _conceal(personal_claims(request.content), disclosures)
    header = {"alg": signer.algorithm, "typ": CREDENTIAL_FORMAT, "x5c": list(signer.x5c)}
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    signed = jws.serialize_compact(header, body, signer.key, algorithms=[signer.algorithm])
    return "~".join([signed, *disclosures]) + "~"


def _conceal(claims: dict[str, Any], disclosures: list[str]) -> list[str]:
    """One disclosure per claim (objects concealed member by member first); sorted digests."""
    digests = []
    for name, value in claims.items():
        if isinstance(value, dict):
            value = {"_sd": _conceal(value, disclosures)}
        disclosure = _disclosure(name, value)
        disclosures.append(disclosure)
        digests.append(disclosure_digest(disclosure))
    return sorted(digests)  # the order of digests must not give away which claim is which


def _disclosure(name: str, value: Any) -> str:
    salt = _b64url(secrets.token_bytes(SALT_BYTES))
    return _b64url(json.dumps([salt, name, value], ensure_ascii=False).encode())


def disclosure_digest(disclosure: str) -> str:
    """base64url(SHA-256(ASCII(disclosure))), as `_sd` lists it."""
    return _b64url(hashlib.sha256(disclosure.encode("ascii")).digest())


def _public_jwk(jwk: dict[str, Any]) -> dict[str, Any]:
    """Only the public members of the holder's key."""
    return {k: jwk[k] for k in ("kty", "crv", "x", "y", "n", "e") if k in jwk}


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


# Type metadata (SD-JWT VC, section 6): display names in French and English.
CLAIM_LABELS: dict[str, tuple[str, str]] = {
    "name": ("Nom du candidat", "Candidate's name"),
    "given_name": ("Prénom", "Given name"),
    "family_name": ("Nom de famille", "Family name"),
    "birthdate": ("Date de naissance", "Date of birth"),
    "candidate_number": ("Numéro de candidat", "Candidate number"),
    "exam": ("Examen", "Exam"),
    "language": ("Langue", "Language"),
    "level": ("Niveau (CECRL)", "Level (CEFR)"),
    "score": ("Note", "Score"),
    "score_max": ("Note maximale", "Maximum score"),
    "skills": ("Compétences", "Skills"),
    "session_date": ("Date de la session", "Session date"),
    "centre": ("Centre d'examen", "Exam centre"),
    "issued_on": ("Délivré le", "Issued on"),
    "certificate_id": ("Identifiant du certificat", "Certificate id"),
}
TYPE_NAMES = ("Certificat de résultat d'examen", "Exam result certificate")
TYPE_DESCRIPTIONS = (
    "Résultat d'examen délivré par un organisme certificateur, signé et ancré sur une chaîne.",
    "An exam result issued by a certification body, signed and anchored on a chain.",
)


def type_metadata(public_base_url: str) -> dict[str, Any]:
    """The JSON document served at the `vct` URL."""
    return {
        "vct": credential_type(public_base_url),
        "name": TYPE_NAMES[1],
        "description": TYPE_DESCRIPTIONS[1],
        "display": [
            {"locale": locale, "name": TYPE_NAMES[i], "description": TYPE_DESCRIPTIONS[i]}
            for i, locale in enumerate(("fr-FR", "en-US"))
        ],
        "claims": [
            {
                "path": [name],
                "display": [
                    {"locale": "fr-FR", "label": labels[0]},
                    {"locale": "en-US", "label": labels[1]},
                ],
                "sd": "always",
            }
            for name, labels in CLAIM_LABELS.items()
        ],
    }
