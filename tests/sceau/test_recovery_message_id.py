"""A re-sent link is a message of its own, on the certificate's normalised Message-ID domain."""

from __future__ import annotations

from issuer.delivery import certificate_message_id
from issuer.recovery import recovery_message_id

CERT = "0123456789abcdef0123456789abcdef"


def test_the_recovery_message_id_is_the_certificates_with_a_random_tail() -> None:
    sender = "certificats@Écoles.Example."
    first, second = recovery_message_id(CERT, sender), recovery_message_id(CERT, sender)
    assert first != second, "each recovery message is new: the outbox keeps one per Message-ID"
    base = certificate_message_id(CERT, sender)
    assert base == f"<cert-{CERT}@xn--coles-9ra.example>"
    for made in (first, second):
        local, _, domain = made[1:-1].partition("@")
        assert made.startswith(f"<cert-{CERT}-") and f"<{domain}>" == "<xn--coles-9ra.example>"
        assert len(local) == len(f"cert-{CERT}-") + 8 and made.isascii()
