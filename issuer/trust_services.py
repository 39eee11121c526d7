"""The outside services a PAdES signature above B-B needs: an RFC 3161 time-stamping authority,
and the OCSP responders and CRL distribution points of the signing certificate's chain.

When one of them is down or slow, signing raises :class:`SigningServiceUnavailable`, naming the
service's host (never the URL's credentials); it never falls back to a weaker level.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import AuthorityInformationAccessOID
from pyhanko.sign.timestamps import TimeStamper, TimestampRequestError
from pyhanko.sign.timestamps.requests_client import RequestsHTTPTimeStamper
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.errors import InsufficientRevinfoError, RevokedError
from pyhanko_certvalidator.fetchers.requests_fetchers import RequestsFetcherBackend

from issuer.errors import SigningError


class SigningServiceUnavailable(SigningError):
    """The time-stamping authority or a revocation service (OCSP, CRL) is down or too slow.

    Nothing was signed; retrying later may succeed.
    """


class SigningCertificateRevoked(SigningError):
    """The signing certificate's chain is revoked, per its OCSP responder or CRL."""


@dataclass(frozen=True)
class TrustServices:
    """Where signatures get their timestamps and their chain's revocation data."""

    tsa_url: str
    timeout_seconds: float
    trust_roots: tuple[asn1_x509.Certificate, ...]
    other_certs: tuple[asn1_x509.Certificate, ...]
    revocation_hosts: tuple[str, ...]

    @property
    def tsa_host(self) -> str:
        return service_host(self.tsa_url)

    def timestamper(self) -> TimeStamper:
        """A client of the TSA; keep it for the signer's life (it caches a size estimate)."""
        return RequestsHTTPTimeStamper(  # type: ignore[no-untyped-call]  # untyped upstream
            self.tsa_url, timeout=self.timeout_seconds
        )

    def fetching_context(self) -> ValidationContext:
        """A fresh context that fetches the chain's OCSP responses and CRLs, failing hard.

        Fresh per document, so every PDF carries revocation data fetched when it was signed.
        """
        return ValidationContext(
            trust_roots=list(self.trust_roots),
            other_certs=list(self.other_certs),
            allow_fetching=True,
            revocation_mode="hard-fail",  # soft-fail would silently embed nothing
            fetcher_backend=RequestsFetcherBackend(per_request_timeout=self.timeout_seconds),
        )

    def explain(self, error: BaseException) -> SigningError | None:
        """The typed error for a failure caused by a trust service, or None if it is not one."""
        for cause in _causes(error):
            if isinstance(cause, TimestampRequestError):
                return SigningServiceUnavailable(
                    f"the time-stamping authority at {self.tsa_host} did not answer in time "
                    f"or answered with an error ({_first_line(cause)})"
                )
            if isinstance(cause, RevokedError):
                return SigningCertificateRevoked(
                    f"the signing certificate cannot be used: {_first_line(cause)}"
                )
            if isinstance(cause, InsufficientRevinfoError):
                hosts = ", ".join(self.revocation_hosts) or "unknown hosts"
                return SigningServiceUnavailable(
                    f"the revocation services (OCSP, CRL) at {hosts} did not answer in time: "
                    f"{_first_line(cause)}"
                )
        return None


def trust_services(
    tsa_url: str, *, timeout_seconds: float, chain: Iterable[x509.Certificate]
) -> TrustServices:
    """Trust services for a signing certificate and its chain, anchored in its self-signed roots."""
    certs = list(chain)
    roots = [c for c in certs if _self_signed(c)]
    if not roots:
        raise SigningError(
            "PAdES B-LT and B-LTA need the root certificate in the signing chain files, "
            "to check the chain's revocation data"
        )
    return TrustServices(
        tsa_url=tsa_url,
        timeout_seconds=timeout_seconds,
        trust_roots=tuple(_asn1(c) for c in roots),
        other_certs=tuple(_asn1(c) for c in certs if not _self_signed(c)),
        revocation_hosts=tuple(dict.fromkeys(h for c in certs for h in _revocation_hosts(c))),
    )


def service_host(url: str) -> str:
    """The host (and port) of `url`, without any user name or password it may carry."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    return f"{host}:{parts.port}" if parts.port else host


def _revocation_hosts(cert: x509.Certificate) -> list[str]:
    urls: list[str] = []
    try:
        aia = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
        urls += [
            d.access_location.value
            for d in aia
            if d.access_method == AuthorityInformationAccessOID.OCSP
            and isinstance(d.access_location, x509.UniformResourceIdentifier)
        ]
    except x509.ExtensionNotFound:
        pass
    try:
        points = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
        urls += [
            name.value
            for point in points
            for name in point.full_name or ()
            if isinstance(name, x509.UniformResourceIdentifier)
        ]
    except x509.ExtensionNotFound:
        pass
    return [service_host(u) for u in urls]


def _self_signed(cert: x509.Certificate) -> bool:
    return cert.issuer == cert.subject


def _asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(Encoding.DER))


def _causes(error: BaseException) -> Iterable[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0][:300]
