"""The admin session cookie and the CSRF fields of admin forms, signed with HMAC-SHA256.

The cookie carries the token's public id, an expiry and a random CSRF secret, never the
token itself; every page still re-reads the token, so revoking it ends its sessions at once.
A form's hidden field is an HMAC of the session's CSRF secret: a page of another site can
neither read it nor (the cookie being SameSite=Strict) send the cookie with its request.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

SESSION_COOKIE = "sceau_admin"
LOGIN_COOKIE = "sceau_admin_login"  # the sign-in form's own CSRF nonce, before any session
COOKIE_PATH = "/admin"
SESSION_LIFETIME = timedelta(hours=8)
LOGIN_FORM_LIFETIME = timedelta(hours=1)
_SESSION_LABEL = b"sceau admin session v1"
_FORM_LABEL = b"sceau admin form v1"
_LOGIN_LABEL = b"sceau admin sign-in form v1"


@dataclass(frozen=True)
class AdminSession:
    """What the session cookie says: whose token, until when, and the secret behind CSRF fields."""

    token_id: str
    expires_at: int  # seconds since the epoch
    csrf_secret: str  # 64 hex

    def csrf_field(self) -> str:
        """The hidden field every admin form carries."""
        return _mac(bytes.fromhex(self.csrf_secret), _FORM_LABEL).hex()

    def accepts(self, presented: str | None) -> bool:
        """Whether a form's CSRF field is this session's (compared in constant time)."""
        return bool(presented) and hmac.compare_digest(self.csrf_field(), str(presented))


class SessionSigner:
    """Signs and reads admin session cookies under a key derived from `session_secret`."""

    def __init__(self, session_secret: str) -> None:
        root = session_secret.encode("utf-8")
        self._session_key = _mac(root, _SESSION_LABEL)
        self._login_key = _mac(root, _LOGIN_LABEL)

    def open_session(self, token_id: str, *, now: datetime) -> tuple[AdminSession, str]:
        """A new session for a token just authenticated, and its cookie value."""
        session = AdminSession(
            token_id=token_id,
            expires_at=int((now + SESSION_LIFETIME).timestamp()),
            csrf_secret=secrets.token_hex(32),
        )
        payload = json.dumps(
            {"tid": session.token_id, "exp": session.expires_at, "csrf": session.csrf_secret},
            separators=(",", ":"),
            sort_keys=True,
        ).encode("utf-8")
        return session, f"{_b64(payload)}.{_b64(_mac(self._session_key, payload))}"

    def read_session(self, cookie: str | None, *, now: datetime) -> AdminSession | None:
        """The session of a cookie this server signed and that has not expired, else None."""
        payload = self._verified(cookie)
        if payload is None:
            return None
        try:
            doc = json.loads(payload)
            session = AdminSession(
                token_id=str(doc["tid"]), expires_at=int(doc["exp"]), csrf_secret=str(doc["csrf"])
            )
            bytes.fromhex(session.csrf_secret)
        except (ValueError, KeyError, TypeError):
            return None
        return session if now.timestamp() < session.expires_at else None

    def login_nonce(self) -> str:
        """A random value for the sign-in form's cookie."""
        return secrets.token_urlsafe(32)

    def login_field(self, nonce: str) -> str:
        """The sign-in form's hidden field for the nonce in its cookie."""
        return _mac(self._login_key, nonce.encode("utf-8")).hex()

    def login_accepts(self, nonce: str | None, presented: str | None) -> bool:
        if not nonce or not presented:
            return False
        return hmac.compare_digest(self.login_field(nonce), presented)

    def _verified(self, cookie: str | None) -> bytes | None:
        if not cookie or cookie.count(".") != 1:
            return None
        encoded, signature = cookie.split(".")
        try:
            payload, mac = _unb64(encoded), _unb64(signature)
        except (binascii.Error, ValueError):
            return None
        if not hmac.compare_digest(mac, _mac(self._session_key, payload)):
            return None
        return payload


def _mac(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
