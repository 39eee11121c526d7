"""Errors of the verifier: raised for misuse (unreadable inputs), never for a bad certificate."""

from __future__ import annotations

from sceau_errors import SceauError


class VerificationError(SceauError):
    """The verification could not be set up (an unreadable trust root, a wrong argument)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
