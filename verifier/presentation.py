"""Verification of an SD-JWT VC presentation (with key binding JWT) of a Sceau certificate.

The same report shape as for a PDF: one result per check with a code and FR/EN messages, a
verdict computed, never stored. On top of the issuer's signature and its `x5c` chain to the
profile, every disclosure must be referenced by exactly one digest (an unreferenced one is a
claim the issuer never signed), the key binding must be for this verifier and one of its
nonces, and the anchored leaf the credential names is checked on the profile's chain.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import itertools
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, OKPKey, RSAKey
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy.engine import Engine

from contracts.profile import IssuerProfile
from contracts.receipt import Receipt
from offchain_store.wallet_offers import PRESENTATION, use_nonce
from verifier.chain import DEFAULT_TIMEOUT, ChainCache, ChainReading, Registry, read_chain
from verifier.checks.anchoring import check_anchoring
from verifier.checks.identity import check_issuer_identity
from verifier.checks.inclusion import check_inclusion
from verifier.checks.revocation import check_revocation
from verifier.errors import VerificationError
from verifier.presentation_report import (
    PresentationCheck,
    PresentationCheckName,
    PresentationReport,
)
from verifier.report import CheckResult, CheckStatus

CREDENTIAL_TYP = "dc+sd-jwt"
KB_TYP = "kb+jwt"
VCT_PATH = "/credentials/types/sceau-certificate/v1"  # docs/wallet.md; the issuer's constant
ANCHOR_CLAIM = "sceau_anchor"
ALGORITHMS = ("ES256", "ES384", "RS256", "EdDSA")
STRUCTURAL_CLAIMS = frozenset({"iss", "iat", "nbf", "exp", "vct", "cnf", "status", "_sd_alg"})
KB_MAX_AGE_SECONDS = 300
MAX_HEADER_BYTES = 16_384  # an x5c of a few certificates


# --- the presentation, parsed ------------------------------------------------------------------


class AnchorClaim(BaseModel):
    """The `sceau_anchor` claim: what the chain checks ask about (a receipt without its salt)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    leaf: str = Field(pattern=r"^0x[0-9a-f]{64}$")
    proof: tuple[str, ...]
    root: str = Field(pattern=r"^0x[0-9a-f]{64}$")
    chain_id: int = Field(ge=1)
    contract: str = Field(pattern=r"^0x[0-9a-fA-F]{40}$")
    transaction: str = Field(pattern=r"^0x[0-9a-f]{64}$")
    block_number: int = Field(ge=0)
    anchored_at: AwareDatetime


class Malformed(VerificationError):
    """The presentation cannot be read; the message is a short public reason."""


@dataclass(frozen=True)
class _Parts:
    issuer_jwt: str
    disclosures: tuple[str, ...]
    kb_jwt: str
    header: dict[str, Any]
    payload: dict[str, Any]


def _split(presentation: str) -> _Parts:
    parts = presentation.strip().split("~")
    if len(parts) < 2 or not parts[0]:
        raise Malformed("not <jwt>~<disclosures>~<kb-jwt>")
    if any(not d for d in parts[1:-1]):
        raise Malformed("an empty disclosure")
    try:
        extracted = jws.extract_compact(parts[0].encode(), registry=_registry(ALGORITHMS))
        header = dict(extracted.headers())
        payload = json.loads(extracted.payload)
    except (JoseError, ValueError):
        raise Malformed("the issuer-signed JWT is unreadable") from None
    if not isinstance(payload, dict):
        raise Malformed("the payload is not a JSON object")
    return _Parts(parts[0], tuple(parts[1:-1]), parts[-1], header, payload)


def _b64url_json(text: str) -> Any:
    try:
        return json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (binascii.Error, ValueError):
        raise Malformed("a disclosure is not base64url JSON") from None


def _digest(text: str) -> str:
    return (
        base64.urlsafe_b64encode(hashlib.sha256(text.encode("ascii")).digest())
        .rstrip(b"=")
        .decode()
    )


# --- checks -------------------------------------------------------------------------------------


def _format(parts: _Parts, expected_vct: str, now: datetime) -> PresentationCheck:
    name = PresentationCheckName.FORMAT
    header, payload = parts.header, parts.payload
    if header.get("typ") != CREDENTIAL_TYP or header.get("alg") not in ALGORITHMS:
        return PresentationCheck.of(
            name, CheckStatus.INVALID, "presentation_malformed", detail="typ or alg"
        )
    x5c = header.get("x5c")
    if not isinstance(x5c, list) or not x5c or not all(isinstance(c, str) for c in x5c):
        return PresentationCheck.of(
            name, CheckStatus.INVALID, "presentation_malformed", detail="x5c"
        )
    if payload.get("vct") != expected_vct:
        return PresentationCheck.of(
            name, CheckStatus.INVALID, "wrong_credential_type", vct=str(payload.get("vct"))
        )
    iat = payload.get("iat")
    if payload.get("_sd_alg", "sha-256") != "sha-256" or not isinstance(iat, int):
        return PresentationCheck.of(
            name, CheckStatus.INVALID, "presentation_malformed", detail="_sd_alg or iat"
        )
    if iat > now.timestamp() + KB_MAX_AGE_SECONDS:
        return PresentationCheck.of(
            name, CheckStatus.INVALID, "presentation_malformed", detail="signed in the future"
        )
    return PresentationCheck.of(name, CheckStatus.VALID, "credential_well_formed", vct=expected_vct)


def _certificates(header: dict[str, Any]) -> list[x509.Certificate]:
    try:
        return [x509.load_der_x509_certificate(base64.b64decode(c)) for c in header["x5c"]]
    except (ValueError, binascii.Error, TypeError):
        raise Malformed("an x5c certificate is unreadable") from None


def _issuer_signature(parts: _Parts, signer: x509.Certificate) -> PresentationCheck:
    name = PresentationCheckName.ISSUER_SIGNATURE
    if _jws_claims(parts.issuer_jwt, _jose_key(signer), str(parts.header["alg"])) is None:
        return PresentationCheck.of(name, CheckStatus.INVALID, "issuer_signature_invalid")
    return PresentationCheck.of(name, CheckStatus.VALID, "issuer_signature_valid")


def _jose_key(cert: x509.Certificate) -> ECKey | RSAKey | OKPKey:
    pem = cert.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    for kind in (ECKey, RSAKey, OKPKey):
        try:
            return kind.import_key(pem)
        except (JoseError, ValueError, TypeError):
            continue
    raise Malformed("the signing certificate's key type is not supported")


def _registry(algorithms: tuple[str, ...]) -> jws.JWSRegistry:
    """joserfc's registry, with room for an `x5c` chain in the header (its default is 512 B)."""
    registry = jws.JWSRegistry(algorithms=list(algorithms))
    registry.max_header_length = MAX_HEADER_BYTES
    return registry


def _jws_claims(token: str, key: Any, algorithm: str) -> dict[str, Any] | None:
    """The claims of a JWS checked with `key`, or None when the signature does not hold."""
    try:
        verified = jws.deserialize_compact(token, key, registry=_registry((algorithm,)))
        claims = json.loads(verified.payload)
    except (JoseError, ValueError, TypeError):
        return None
    return claims if isinstance(claims, dict) else None


def _certificate_chain(
    certs: list[x509.Certificate], profile: IssuerProfile, signed_at: datetime
) -> PresentationCheck:
    """x5c[0] is a profile signing certificate for `signed_at`; the chain reaches a profile root."""
    name = PresentationCheckName.CERTIFICATE_CHAIN
    leaf = certs[0]
    if not profile.signing_certificate_at(leaf, signed_at):
        return PresentationCheck.of(
            name, CheckStatus.INVALID, "signer_not_in_profile", at=signed_at.isoformat()
        )
    roots = [x509.load_der_x509_certificate(der) for der in profile.trust_roots_der()]
    problem = _chain_problem(certs, roots, signed_at)
    if problem is not None:
        return PresentationCheck.of(name, CheckStatus.INVALID, "chain_broken", detail=problem)
    return PresentationCheck.of(
        name, CheckStatus.VALID, "chain_to_profile", subject=leaf.subject.rfc4514_string()
    )


def _chain_problem(
    certs: list[x509.Certificate], roots: list[x509.Certificate], at: datetime
) -> str | None:
    """Each certificate issued by the next, the last by a root, each valid at `at`."""
    path = list(certs)
    for cert in path:
        if not cert.not_valid_before_utc <= at < cert.not_valid_after_utc:
            return "a certificate was not valid when the credential was signed"
    for child, parent in itertools.pairwise(path):
        if not _issued_by(child, parent):
            return "x5c is not an unbroken chain"
    last = path[-1]
    if any(
        last.public_bytes(serialization.Encoding.DER) == r.public_bytes(serialization.Encoding.DER)
        for r in roots
    ):
        return None
    if any(
        _issued_by(last, root) and root.not_valid_before_utc <= at < root.not_valid_after_utc
        for root in roots
    ):
        return None
    return "no trust root of the profile issued it"


def _issued_by(child: x509.Certificate, parent: x509.Certificate) -> bool:
    try:
        child.verify_directly_issued_by(parent)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _disclosures(parts: _Parts) -> tuple[PresentationCheck, dict[str, Any]]:
    """Every disclosure referenced once by a signed digest; returns the claims they disclose."""
    name = PresentationCheckName.DISCLOSURES
    by_digest: dict[str, list[Any]] = {}
    for disclosure in parts.disclosures:
        value = _b64url_json(disclosure)
        if not (isinstance(value, list) and len(value) == 3 and isinstance(value[1], str)):
            raise Malformed("a disclosure is not [salt, name, value]")
        if value[1] in ("_sd", "...", "_sd_alg") or _digest(disclosure) in by_digest:
            raise Malformed("a disclosure is repeated or names a reserved claim")
        by_digest[_digest(disclosure)] = value
    used: set[str] = set()
    revealed = _reveal(parts.payload, by_digest, used)
    if used != set(by_digest):
        return PresentationCheck.of(name, CheckStatus.INVALID, "disclosure_unreferenced"), {}
    shown = {k: v for k, v in revealed.items() if k not in STRUCTURAL_CLAIMS | {ANCHOR_CLAIM}}
    count = len(by_digest)
    return PresentationCheck.of(name, CheckStatus.VALID, "disclosures_valid", count=count), shown


def _reveal(node: Any, by_digest: dict[str, list[Any]], used: set[str]) -> Any:
    """The payload with each referenced disclosure put back; a digest used twice is refused."""
    if isinstance(node, list):
        return [_reveal(item, by_digest, used) for item in node]
    if not isinstance(node, dict):
        return node
    found = {k: _reveal(v, by_digest, used) for k, v in node.items() if k != "_sd"}
    for digest in node.get("_sd", ()):
        if digest not in by_digest:
            continue  # withheld (or a decoy)
        if digest in used:
            raise Malformed("a digest is referenced twice")
        used.add(digest)
        _salt, claim, value = by_digest[digest]
        if claim in found:
            raise Malformed("a disclosure overrides a claim")
        found[claim] = _reveal(value, by_digest, used)
    return found


@dataclass(frozen=True)
class KeyBindingExpectation:
    """What the key binding must say: this verifier's audience and one of its nonces."""

    engine: Engine
    audience: str
    now: datetime


def _key_binding(parts: _Parts, expected: KeyBindingExpectation) -> PresentationCheck:
    name = PresentationCheckName.KEY_BINDING
    if not parts.kb_jwt:
        return PresentationCheck.of(name, CheckStatus.INVALID, "key_binding_missing")
    holder = (
        parts.payload.get("cnf", {}).get("jwk")
        if isinstance(parts.payload.get("cnf"), dict)
        else None
    )
    claims = _kb_claims(parts.kb_jwt, holder)
    if isinstance(claims, str):
        return PresentationCheck.of(name, CheckStatus.INVALID, "key_binding_invalid", detail=claims)
    if claims.get("aud") != expected.audience:
        audience = str(claims.get("aud"))[:120]
        return PresentationCheck.of(
            name, CheckStatus.INVALID, "key_binding_wrong_audience", audience=audience
        )
    presented = parts.issuer_jwt + "~" + "".join(d + "~" for d in parts.disclosures)
    if claims.get("sd_hash") != _digest(presented):
        return PresentationCheck.of(name, CheckStatus.INVALID, "key_binding_sd_hash_mismatch")
    iat = claims.get("iat")
    if not isinstance(iat, int) or abs(expected.now.timestamp() - iat) > KB_MAX_AGE_SECONDS:
        return PresentationCheck.of(name, CheckStatus.INVALID, "key_binding_stale")
    nonce = claims.get("nonce")
    spent = (
        use_nonce(expected.engine, nonce, purpose=PRESENTATION, now=expected.now)
        if isinstance(nonce, str)
        else None
    )
    if spent is None or spent.audience != expected.audience:
        return PresentationCheck.of(name, CheckStatus.INVALID, "key_binding_wrong_nonce")
    return PresentationCheck.of(name, CheckStatus.VALID, "key_binding_valid")


def _kb_claims(kb_jwt: str, holder: Any) -> dict[str, Any] | str:
    """The key binding's claims, or why it does not hold."""
    if not isinstance(holder, dict):
        return "the credential names no holder key (cnf.jwk)"
    try:
        header = jws.extract_compact(kb_jwt.encode(), registry=_registry(ALGORITHMS)).headers()
        key = OKPKey.import_key(holder) if holder.get("kty") == "OKP" else ECKey.import_key(holder)
    except (JoseError, ValueError, TypeError):
        return "unreadable"
    if header.get("typ") != KB_TYP or header.get("alg") not in ALGORITHMS:
        return "typ must be kb+jwt"
    claims = _jws_claims(kb_jwt, key, str(header["alg"]))
    return claims if claims is not None else "signature"


# --- the chain ----------------------------------------------------------------------------------


def _chain_checks(
    anchor: AnchorClaim, signer_der: bytes, context: PresentationContext
) -> tuple[PresentationCheck, ...]:
    """Inclusion, anchoring, revocation and issuer identity, as for a PDF and its receipt."""
    profile = context.profile
    as_receipt = cast(Receipt, anchor)  # the checks read only the fields both carry
    reading = read_chain(
        context.rpc_url,
        as_receipt,
        registry=Registry(profile.chain_id, profile.contract),
        timeout=context.timeout,
        cache=context.cache,
    )
    found = reading.status.anchor if isinstance(reading, ChainReading) else None
    results: Iterable[CheckResult] = (
        check_inclusion(as_receipt),
        check_anchoring(as_receipt, reading),
        check_revocation(reading),
        check_issuer_identity(
            profile,
            as_receipt,
            signer_der=signer_der,
            anchored_by=found.issuer if found else None,
            anchored_at=found.anchored_at if found else None,
        ),
    )
    return tuple(PresentationCheck.from_result(r) for r in results)


# --- the front door -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PresentationContext:
    """Where a presentation is checked: this verifier's nonces, the chain and the profile."""

    engine: Engine
    rpc_url: str
    profile: IssuerProfile
    audience: str  # what the key binding's `aud` must be
    cache: ChainCache | None = None
    timeout: float = DEFAULT_TIMEOUT


def credential_type(public_base_url: str) -> str:
    return public_base_url.rstrip("/") + VCT_PATH


def verify_presentation(
    presentation: str, context: PresentationContext, *, now: datetime | None = None
) -> PresentationReport:
    """Check an SD-JWT VC presentation fully; the report lists only the disclosed claims."""
    moment = now or datetime.now(UTC)
    try:
        return _verify(presentation, context, moment)
    except Malformed as problem:
        check = PresentationCheck.of(
            PresentationCheckName.FORMAT,
            CheckStatus.INVALID,
            "presentation_malformed",
            detail=str(problem),
        )
        return PresentationReport(checks=(check,), checked_at=moment)


def _verify(presentation: str, context: PresentationContext, now: datetime) -> PresentationReport:
    parts = _split(presentation)
    checks = [_format(parts, credential_type(context.profile.public_base_url), now)]
    if checks[0].status is not CheckStatus.VALID:
        return PresentationReport(checks=tuple(checks), checked_at=now)
    certs = _certificates(parts.header)
    signed_at = datetime.fromtimestamp(parts.payload["iat"], UTC)
    checks.append(_issuer_signature(parts, certs[0]))
    checks.append(_certificate_chain(certs, context.profile, signed_at))
    disclosure_check, disclosed = _disclosures(parts)
    checks.append(disclosure_check)
    checks.append(_key_binding(parts, KeyBindingExpectation(context.engine, context.audience, now)))
    try:
        anchor = AnchorClaim.model_validate(parts.payload.get(ANCHOR_CLAIM))
    except ValueError:
        raise Malformed("the sceau_anchor claim is missing or malformed") from None
    if all(
        c.status is CheckStatus.VALID for c in checks
    ):  # the chain is asked only for a whole one
        signer_der = certs[0].public_bytes(serialization.Encoding.DER)
        checks.extend(_chain_checks(anchor, signer_der, context))
    valid = all(c.status is CheckStatus.VALID for c in checks[:4])
    return PresentationReport(
        checks=tuple(checks), disclosed=disclosed if valid else {}, checked_at=now
    )
