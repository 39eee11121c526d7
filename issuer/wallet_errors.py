"""Why a wallet's OpenID4VCI request is refused: one type per refusal, each with Sceau's
own code, the OAuth/OpenID4VCI `error` the protocol names, and the HTTP status."""

from __future__ import annotations

from issuer.errors import IssuanceError


class WalletError(IssuanceError):
    """A wallet request refused; `code` is Sceau's, `oauth_error` the protocol's."""

    code = "wallet_refused"
    oauth_error = "invalid_request"
    message = "The request was refused."

    def __init__(self) -> None:
        super().__init__()  # the class's fixed message


def _refusal(code: str, oauth: str, message: str, status: int = 400) -> type[WalletError]:
    attrs = {"code": code, "oauth_error": oauth, "message": message}
    name = "".join(part.title() for part in code.split("_"))
    return type(name, (WalletError,), {**attrs, "__doc__": message})


OfferUnknown = _refusal("offer_unknown", "invalid_grant", "No such credential offer.")
OfferUsed = _refusal("offer_used", "invalid_grant", "This credential offer was already used.")
OfferExpired = _refusal("offer_expired", "invalid_grant", "This credential offer has expired.")
OfferBurned = _refusal(
    "offer_burned", "invalid_grant", "Too many wrong transaction codes: ask for a new offer."
)
WrongTxCode = _refusal("wrong_tx_code", "invalid_grant", "The transaction code is wrong.")
UnsupportedGrant = _refusal(
    "unsupported_grant", "unsupported_grant_type", "Only the pre-authorized code grant is offered."
)
TokenUnknown = _refusal("token_unknown", "invalid_token", "The access token is not valid.", 401)
TokenExpired = _refusal("token_expired", "invalid_token", "The access token has expired.", 401)
CredentialAlreadyIssued = _refusal(
    "credential_already_issued", "invalid_token", "The credential of this offer was issued.", 401
)
UnknownConfiguration = _refusal(
    "unknown_configuration", "unknown_credential_configuration", "No such credential type here."
)
MalformedCredentialRequest = _refusal(
    "malformed_credential_request", "invalid_credential_request", "The request is malformed."
)
ProofInvalid = _refusal("proof_invalid", "invalid_proof", "The key proof is not a valid JWT.")
ProofWrongType = _refusal(
    "proof_wrong_type", "invalid_proof", "The key proof's typ must be openid4vci-proof+jwt."
)
ProofWrongAudience = _refusal(
    "proof_wrong_audience", "invalid_proof", "The key proof is meant for another issuer."
)
ProofWrongNonce = _refusal(
    "proof_wrong_nonce", "invalid_nonce", "The key proof's nonce is unknown, used or expired."
)
ProofStale = _refusal("proof_stale", "invalid_proof", "The key proof is too old or in the future.")
CertificateRevokedRefusal = _refusal(
    "certificate_revoked", "credential_request_denied", "This certificate was revoked.", 403
)
CertificateSuspendedRefusal = _refusal(
    "certificate_suspended", "credential_request_denied", "This certificate is suspended.", 403
)
CertificateNotReady = _refusal(
    "certificate_not_ready",
    "credential_request_denied",
    "This certificate is not anchored yet.",
    409,
)
