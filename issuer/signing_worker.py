"""What runs in a signing process: render a certificate and sign it, with the signing key
loaded once per process.

Kept apart from issuer.storing so that a signing process imports rendering and signing alone,
not the database, the chain client or the stores (a third of the import time).
"""

from __future__ import annotations

import signal

from issuer.content import CertificateContent, IssuerBranding
from issuer.design import Design
from issuer.render import render_certificate
from issuer.signing import SigningIdentity, load_signer
from issuer.worker_lifetime import die_with_parent

_worker_branding: IssuerBranding | None = None
_worker_design: Design | None = None
_worker_identity: SigningIdentity | None = None


def init_pool_worker(
    identity: SigningIdentity, branding: IssuerBranding, design: Design | None
) -> None:
    """A pool process's initializer."""
    die_with_parent()  # the parent is the fork server, which dies with the issuing process
    # Ctrl-C reaches the whole process group: the issuing process decides how to stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    init_worker(identity, branding, design)


def init_worker(identity: SigningIdentity, branding: IssuerBranding, design: Design | None) -> None:
    """Make this process a signer (also the issuing process itself, when it signs alone)."""
    global _worker_identity, _worker_branding, _worker_design
    _worker_identity, _worker_branding, _worker_design = identity, branding, design
    load_signer(identity)  # fail early (wrong passphrase, unreadable key) and warm the cache


def render_and_sign(cert_id: str, content_json: str) -> tuple[str, bytes]:
    """Render the certificate and sign it; the signed bytes are final."""
    assert _worker_identity is not None and _worker_branding is not None
    content = CertificateContent.model_validate_json(content_json)
    pdf = render_certificate(content, branding=_worker_branding, design=_worker_design)
    return cert_id, load_signer(_worker_identity).sign(pdf)
