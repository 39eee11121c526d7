"""One table of HTTP statuses for every error, read by the JSON API (app.py's handlers) and by
the pages (admin_pages, admin_delivery, pages), so a page and the API never disagree.

It imports errors only (no router, no page), so any web module may import it without a cycle.
"""

from __future__ import annotations

from contracts.errors import RegistryError
from issuer.delivery_pack import PackNotFound
from issuer.revocation import DecisionRefused, RevocationError, UnknownCertificate, UnknownRequest
from issuer.spreadsheets import ResultsFileError
from issuer.suspension import SuspensionError
from issuer.wallet_errors import (
    CertificateNotReady,
    CertificateRevokedRefusal,
    CertificateSuspendedRefusal,
    CredentialAlreadyIssued,
    MalformedCredentialRequest,
    OfferBurned,
    OfferExpired,
    OfferUnknown,
    OfferUsed,
    ProofInvalid,
    ProofStale,
    ProofWrongAudience,
    ProofWrongNonce,
    ProofWrongType,
    TokenExpired,
    TokenUnknown,
    UnknownConfiguration,
    UnsupportedGrant,
    WalletError,
    WrongTxCode,
)
from offchain_store.errors import BlobStoreUnavailable, MalformedToken, StoreError
from offchain_store.schema import DRIVER_UNREACHABLE, DatabaseUnreachable
from offchain_store.shares import (
    CertificateNotFound,
    CertificateRevoked,
    InvalidShareRequest,
    ShareEnded,
    ShareExhausted,
    ShareExpired,
    ShareNotFound,
    WrongLinkKey,
)
from offchain_store.tokens import TokenError, TokenForbidden
from offchain_store.wallet_offers import WalletClaimsMissing
from sceau.settings import ConfigurationError
from sceau.web.errors import (
    MalformedJson,
    NotAPdf,
    NotJsonContent,
    ProofNotFound,
    UploadTooLarge,
    WebError,
)
from sceau.web.routes_status import StatusListNotFound
from sceau_errors import SceauError

# Messages are plain language, never secrets. An error takes the row of the nearest class in
# its MRO (Starlette's rule; see `http_status_of`), so a row's order does not matter, and
# SceauError, the root, is the last resort: a fixed message.
HTTP_STATUS: tuple[tuple[type[Exception], int, str], ...] = (
    (WebError, 400, "bad_request"),
    (NotJsonContent, 400, "not_json"),
    (MalformedJson, 400, "malformed_json"),
    (ProofNotFound, 404, "proof_not_found"),
    (UnknownRequest, 404, "request_not_found"),
    (UnknownCertificate, 404, "certificate_not_found"),
    (StatusListNotFound, 404, "status_list_not_found"),
    (UploadTooLarge, 413, "too_large"),
    (NotAPdf, 415, "not_a_pdf"),
    (TokenForbidden, 403, "forbidden"),
    (TokenError, 401, "unauthorized"),
    (CertificateNotFound, 404, "certificate_not_found"),
    (ShareNotFound, 404, "share_not_found"),
    (WrongLinkKey, 403, "wrong_link_key"),
    (CertificateRevoked, 410, "certificate_revoked"),
    (ShareEnded, 410, "share_ended"),
    (ShareExpired, 410, "share_expired"),
    (ShareExhausted, 410, "share_exhausted"),
    (InvalidShareRequest, 422, "invalid_request"),
    (MalformedToken, 403, "wrong_link_key"),
    (RevocationError, 422, "revocation_refused"),
    (DecisionRefused, 422, "decision_refused"),
    (SuspensionError, 422, "suspension_refused"),
    (RegistryError, 503, "chain_unavailable"),
    (ConfigurationError, 503, "not_configured"),
    (BlobStoreUnavailable, 503, "storage_error"),
    (DatabaseUnreachable, 503, "database_unavailable"),
    *((kind, 503, "database_unavailable") for kind in DRIVER_UNREACHABLE),
    (StoreError, 500, "storage_error"),
    (WalletClaimsMissing, 409, "wallet_claims_missing"),
    # Answered by the admin pages only: the import form, the letters' packs.
    (ResultsFileError, 422, "results_file_refused"),
    (PackNotFound, 404, "pack_not_found"),
    # Wallet refusals (OpenID4VCI): answered in the protocol's form too (app's `_wallet_refusal`).
    (WalletError, 400, "wallet_refused"),
    (OfferUnknown, 400, "offer_unknown"),
    (OfferUsed, 400, "offer_used"),
    (OfferExpired, 400, "offer_expired"),
    (OfferBurned, 400, "offer_burned"),
    (WrongTxCode, 400, "wrong_tx_code"),
    (UnsupportedGrant, 400, "unsupported_grant"),
    (TokenUnknown, 401, "token_unknown"),
    (TokenExpired, 401, "token_expired"),
    (CredentialAlreadyIssued, 401, "credential_already_issued"),
    (UnknownConfiguration, 400, "unknown_configuration"),
    (MalformedCredentialRequest, 400, "malformed_credential_request"),
    (ProofInvalid, 400, "proof_invalid"),
    (ProofWrongType, 400, "proof_wrong_type"),
    (ProofWrongAudience, 400, "proof_wrong_audience"),
    (ProofWrongNonce, 400, "proof_wrong_nonce"),
    (ProofStale, 400, "proof_stale"),
    (CertificateRevokedRefusal, 403, "certificate_revoked"),
    (CertificateSuspendedRefusal, 403, "certificate_suspended"),
    (CertificateNotReady, 409, "certificate_not_ready"),
    (SceauError, 500, "internal_error"),
)
_ROWS = {kind: (status, code) for kind, status, code in HTTP_STATUS}

# What a caller is told of a server-side failure: its own message may name paths, buckets or
# hosts, so never that.
SERVER_MESSAGES = {
    "chain_unavailable": "The chain cannot be reached or refused the operation; try again later.",
    "not_configured": "The service is not fully set up yet; the administrator has been told.",
    "storage_error": "The certificate store is unavailable; try again later.",
    "database_unavailable": "The service's database cannot be reached; try again shortly.",
    "internal_error": "Internal error.",  # as the access log answers a failure nothing handled
}


def http_status_of(kind: type[BaseException]) -> tuple[int, str] | None:
    """The status and code an error of this type is answered with: its nearest row by MRO."""
    return next((_ROWS[base] for base in kind.__mro__ if base in _ROWS), None)


def status_of_kind(kind: type[SceauError]) -> int:
    """The HTTP status of one of Sceau's error types (the root's at the least)."""
    found = http_status_of(kind)
    assert found is not None  # SceauError has a row
    return found[0]


def status_of(error: SceauError) -> tuple[int, str]:
    """The status and code of one of Sceau's errors (the root's row at the least)."""
    found = http_status_of(type(error))
    assert found is not None  # SceauError has a row
    return found


def shown_message(error: BaseException, status: int, code: str) -> str:
    """What the caller may read of an error answered with this status: from 500, a fixed
    message for the code; below, the error's own plain-language message."""
    if status >= 500:
        return SERVER_MESSAGES.get(code, SERVER_MESSAGES["internal_error"])
    return str(error)
