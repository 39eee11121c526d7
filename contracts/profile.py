"""The issuer profile: the public, self-checking record of who an issuer is on chain and in PDFs.

The service publishes it at `/.well-known/sceau-issuer.json`. It keeps every signing certificate
and anchoring address the issuer ever used, each with its period of use, so a certificate is
judged as of its anchoring time, not as of today.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, Literal

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
    model_validator,
)

from contracts.documents import Address, DateTime, canonical_json, parse_document, same_address
from contracts.receipt import (
    STATUS_LIST_URI_PATTERN,
    UINT64_MAX,
    URL_PATTERN,
    StatusListReference,
    origin_of,
    present_object,
)
from sceau_errors import SceauError

PROFILE_FORMAT = "sceau-issuer-profile/1"
PROFILE_PATH = "/.well-known/sceau-issuer.json"
# One certificate, LF line ends, a final LF, nothing before or after (docs/profile.md, 1.1).
_PEM_FORM = re.compile(
    r"-----BEGIN CERTIFICATE-----\n(?:[A-Za-z0-9+/=]+\n)+-----END CERTIFICATE-----\n"
)


class InvalidProfile(SceauError, ValueError):
    """An issuer profile that is malformed or does not hold together."""


class _Period(BaseModel):
    """A period of use: from `valid_from` (inclusive) until `valid_until` (exclusive, or open)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    valid_from: DateTime
    valid_until: DateTime | None = None

    @model_validator(mode="after")
    def _ordered(self) -> _Period:
        if self.valid_until is not None and self.valid_until <= self.valid_from:
            raise ValueError("valid_until must be later than valid_from")
        return self

    def covers(self, when: datetime) -> bool:
        """True when `when` (timezone-aware) falls in this period."""
        return self.valid_from <= when and (self.valid_until is None or when < self.valid_until)


class AnchoringAddress(_Period):
    """An account the issuer anchors roots from, and when."""

    address: Address


class SigningCertificate(_Period):
    """An X.509 certificate (PEM) the issuer signs PDFs with, and when."""

    pem: str

    @field_validator("pem")
    @classmethod
    def _one_certificate(cls, pem: str) -> str:
        _load_pem(pem)
        return pem

    def der(self) -> bytes:
        """The certificate in DER."""
        return _load_pem(self.pem).public_bytes(Encoding.DER)


class ProfileStatusList(BaseModel):
    """Where the issuer serves its Token Status List, and its width (docs/status-list.md)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    uri: str = Field(pattern=STATUS_LIST_URI_PATTERN)
    bits: Literal[2]


class IssuerProfile(BaseModel):
    """Who the issuer is: its chain and contract, anchoring addresses, signing certificates."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: Literal["sceau-issuer-profile/1"] = "sceau-issuer-profile/1"
    name: str = Field(min_length=1)
    public_base_url: str = Field(pattern=URL_PATTERN)
    chain_id: int = Field(ge=1, le=UINT64_MAX)
    contract: Address
    anchoring_addresses: tuple[AnchoringAddress, ...] = Field(min_length=1)
    signing_certificates: tuple[SigningCertificate, ...] = Field(min_length=1)
    trust_roots: tuple[str, ...] = Field(min_length=1)
    status_list: ProfileStatusList | None = None  # optional: profiles made before the list

    @field_validator("status_list", mode="before")
    @classmethod
    def _status_list_present(cls, value: object) -> object:
        return present_object(value)

    @model_validator(mode="after")
    def _status_list_at_home(self) -> IssuerProfile:
        listed = self.status_list
        if listed is not None and origin_of(listed.uri) != origin_of(self.public_base_url):
            raise ValueError("status_list.uri is not on public_base_url's origin")
        return self

    @model_serializer(mode="wrap")
    def _without_absent_status_list(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # Absent, not null: a profile without a status list keeps its bytes, hence its hash.
        document: dict[str, Any] = handler(self)
        if document.get("status_list", 0) is None:
            del document["status_list"]
        return document

    def lists_status_of(self, reference: StatusListReference) -> bool:
        """True when a receipt's status reference points at this issuer's published list."""
        return self.status_list is not None and reference.uri == self.status_list.uri

    @field_validator("trust_roots")
    @classmethod
    def _roots_parse(cls, roots: tuple[str, ...]) -> tuple[str, ...]:
        for pem in roots:
            _load_pem(pem)
        return roots

    def is_contract(self, chain_id: int, contract: str) -> bool:
        """True when (`chain_id`, `contract`) is this issuer's registry."""
        return chain_id == self.chain_id and same_address(contract, self.contract)

    def anchoring_address_at(self, address: str, when: datetime) -> bool:
        """True when `address` anchored for this issuer at `when` (case-insensitive)."""
        return any(
            same_address(a.address, address) and a.covers(when) for a in self.anchoring_addresses
        )

    def signing_certificate_at(self, der_or_cert: bytes | x509.Certificate, when: datetime) -> bool:
        """True when the certificate (DER or parsed) signed for this issuer at `when`."""
        der = (
            der_or_cert.public_bytes(Encoding.DER)
            if isinstance(der_or_cert, x509.Certificate)
            else bytes(der_or_cert)
        )
        return any(c.der() == der and c.covers(when) for c in self.signing_certificates)

    def trust_roots_der(self) -> tuple[bytes, ...]:
        """The trust roots in DER (parsed once per process: every opening asks for them)."""
        return _roots_der(self.trust_roots)

    @classmethod
    def from_json(cls, raw: bytes | str) -> IssuerProfile:
        """Parse and check an issuer profile; raises InvalidProfile with the reason."""
        return parse_document(cls, raw, error=InvalidProfile, what="issuer profile")

    def to_json(self) -> bytes:
        """Canonical JSON (sorted keys, two-space indent, trailing newline): the bytes whose
        SHA-256 the registry's `currentProfile()` holds (docs/profile.md, section 4)."""
        return canonical_json(self)


@lru_cache(maxsize=64)
def _roots_der(pems: tuple[str, ...]) -> tuple[bytes, ...]:
    return tuple(_load_pem(pem).public_bytes(Encoding.DER) for pem in pems)


@dataclass(frozen=True)
class PublishedProfile:
    """A profile with the exact bytes it was read from: their SHA-256 is what the chain vouches
    for, so a verifier never hashes a re-serialisation."""

    profile: IssuerProfile
    sha256: bytes

    @classmethod
    def from_bytes(cls, raw: bytes) -> PublishedProfile:
        """Parse `raw` strictly (InvalidProfile) and keep the hash of those very bytes."""
        return cls(profile=IssuerProfile.from_json(raw), sha256=hashlib.sha256(raw).digest())

    @classmethod
    def of(cls, profile: IssuerProfile) -> PublishedProfile:
        """A profile built in Python, as `sceau profile` publishes it (its canonical bytes)."""
        return cls(profile=profile, sha256=hashlib.sha256(profile.to_json()).digest())


def _load_pem(pem: str) -> x509.Certificate:
    if not _PEM_FORM.fullmatch(pem):
        raise ValueError(
            "not one PEM certificate in the strict form (BEGIN line, base64 lines, END line,"
            " each ending in LF)"
        )
    try:
        certs = x509.load_pem_x509_certificates(pem.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise ValueError("not a PEM X.509 certificate") from None
    if len(certs) != 1:
        raise ValueError(f"expected one PEM certificate, found {len(certs)}")
    return certs[0]
