"""Errors raised while issuing certificates; each message is meant for an admin to read."""

from __future__ import annotations

from sceau_errors import SceauError


class IssuanceError(SceauError):
    """Root of every issuance failure; ``str(error)`` is a plain-language explanation."""


class RenderError(IssuanceError):
    """The certificate PDF could not be rendered (missing font, content that cannot fit...)."""


class SigningError(IssuanceError):
    """The PDF could not be signed (unreadable key, wrong passphrase, expired certificate...)."""


class DevPkiError(IssuanceError):
    """The development PKI could not be written (files already there, directory not writable)."""
