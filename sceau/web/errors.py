"""Errors of the HTTP layer itself: a body that is not JSON, an unknown id, a bad upload.

Each carries a fixed message: nothing of the request is ever put into it.
"""

from __future__ import annotations

from sceau_errors import SceauError


class WebError(SceauError):
    """A request the HTTP layer refuses before (or instead of) asking the domain."""

    message = "The request cannot be handled."

    def __init__(self) -> None:
        super().__init__()  # the class's fixed message, never the request's words


class BodyError(WebError):
    """A request body that is not one strict JSON object."""


class NotJsonContent(BodyError):
    message = "Send the body as JSON, with the header Content-Type: application/json."


class MalformedJson(BodyError):
    """Not JSON by RFC 8259, or JSON a careful reader refuses (NaN, duplicate keys, …)."""

    message = (
        "The body is not valid JSON: UTF-8 text, finite numbers, no duplicate keys, "
        "no lone surrogates or NUL characters, at most 32 levels deep."
    )


class ProofNotFound(WebError):
    message = "No certificate with this PDF hash."


class UploadTooLarge(WebError):
    message = "The file is larger than 10 MB."


class NotAPdf(WebError):
    message = "The file is not a PDF."
