"""Admin bearer tokens with a role: shown once at creation, stored only as a hash.

A token reads `sceau_<id>_<secret>`: the id (12 hex) is public and names the token in lists
and in the audit log; the secret (256 random bits, 43 characters of base64url) is never
stored, logged or put in an error message. The fixed prefix lets secret scanners spot a
leaked token.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy import Column
from sqlalchemy.engine import Engine
from sqlmodel import Field, Session, SQLModel, col, select

from offchain_store.audit import UtcDateTime, transaction
from offchain_store.errors import StoreError
from offchain_store.records import enum_column

TOKEN_PATTERN = re.compile(r"sceau_([0-9a-f]{12})_([A-Za-z0-9_-]{43})")
# Writing last_used_at on every request would make each API call a database write.
LAST_USED_PRECISION = timedelta(minutes=1)
_HASH_LABEL = b"sceau admin token v1:"


class AdminRole(StrEnum):
    """What a token may do; `admin` may do everything, `auditor` only reads."""

    ADMIN = "admin"
    ISSUER = "issuer"
    REVOKER = "revoker"
    AUDITOR = "auditor"


class TokenError(StoreError):
    """An admin token that cannot be used as asked; never carries the token itself."""


class MalformedAdminToken(TokenError):
    def __init__(self) -> None:
        super().__init__(
            "The admin token is malformed: expected sceau_<12 hex>_<43 characters of base64url>."
        )


class UnknownToken(TokenError):
    """No token matches: unknown id and wrong secret look the same from outside."""

    def __init__(self) -> None:
        super().__init__("The admin token is not valid.")


class TokenRevoked(TokenError):
    def __init__(self, token_id: str) -> None:
        super().__init__(f"The admin token {token_id} was revoked.")
        self.token_id = token_id


class TokenNotFound(TokenError):
    def __init__(self, token_id: str) -> None:
        super().__init__(f"No admin token with the id {token_id[:40]!r}.")
        self.token_id = token_id


class TokenForbidden(TokenError):
    def __init__(self, token_id: str, role: AdminRole, allowed: tuple[AdminRole, ...]) -> None:
        needed = ", ".join(r.value for r in allowed)
        super().__init__(
            f"The admin token {token_id} has the role {role.value}; this needs {needed}."
        )
        self.token_id = token_id


class InvalidTokenName(TokenError):
    def __init__(self) -> None:
        super().__init__("A token name is 1 to 80 printable characters, and not a token.")


class AdminTokenRecord(SQLModel, table=True):
    __tablename__ = "admin_tokens"

    id: str = Field(primary_key=True)  # 12 hex, public
    name: str
    role: AdminRole = Field(sa_column=enum_column(AdminRole))
    token_hash: str  # hex SHA-256 of the secret; see _hash_secret
    created_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    last_used_at: datetime | None = Field(
        default=None, sa_column=Column(UtcDateTime(), nullable=True)
    )
    revoked_at: datetime | None = Field(
        default=None, sa_column=Column(UtcDateTime(), nullable=True)
    )


def create_token(
    bind: Engine | Session, *, name: str, role: AdminRole, now: datetime
) -> tuple[AdminTokenRecord, str]:
    """A new token: its record, and the token string, which is never shown again."""
    if not (0 < len(name) <= 80 and name.isprintable()) or looks_like_token(name):
        raise InvalidTokenName()
    token_id = secrets.token_hex(6)
    secret = secrets.token_bytes(32)
    record = AdminTokenRecord(
        id=token_id,
        name=name,
        role=AdminRole(role),
        token_hash=_hash_secret(token_id, secret),
        created_at=_utc(now),
    )
    with transaction(bind) as session:
        session.add(record)
    encoded = base64.urlsafe_b64encode(secret).rstrip(b"=").decode("ascii")
    return record, f"sceau_{token_id}_{encoded}"


def list_tokens(bind: Engine | Session) -> list[AdminTokenRecord]:
    """Every token, oldest first, revoked ones included (their hashes stay, harmlessly)."""
    with transaction(bind) as session:
        query = select(AdminTokenRecord).order_by(col(AdminTokenRecord.created_at))
        return list(session.exec(query).all())


def get_token(bind: Engine | Session, token_id: str) -> AdminTokenRecord:
    with transaction(bind) as session:
        record = session.get(AdminTokenRecord, token_id)
    if record is None:
        raise TokenNotFound(token_id)
    return record


def revoke_token(bind: Engine | Session, token_id: str, *, now: datetime) -> AdminTokenRecord:
    """Revoke a token for good; revoking it again keeps the first revocation date."""
    with transaction(bind) as session:
        record = session.get(AdminTokenRecord, token_id)
        if record is None:
            raise TokenNotFound(token_id)
        if record.revoked_at is None:
            record.revoked_at = _utc(now)
            session.add(record)
    return record


def authenticate(bind: Engine | Session, presented: str, *, now: datetime) -> AdminTokenRecord:
    """The record of a presented token, or TokenError: malformed, unknown or revoked."""
    token_id, secret = _parse(presented)
    with transaction(bind) as session:
        record = session.get(AdminTokenRecord, token_id)
        expected = record.token_hash if record else _hash_secret("0" * 12, b"\0" * 32)
        # Compared even for an unknown id, so both paths take the same time.
        matches = hmac.compare_digest(expected, _hash_secret(token_id, secret))
        if record is None or not matches:
            raise UnknownToken()
        if record.revoked_at is not None:
            raise TokenRevoked(record.id)
        last = record.last_used_at
        if last is None or _utc(now) - _utc(last) >= LAST_USED_PRECISION:
            record.last_used_at = _utc(now)
            session.add(record)
    return record


def require_role(record: AdminTokenRecord, *allowed: AdminRole) -> None:
    """Raise TokenForbidden unless the token's role is allowed; admin always is."""
    if record.revoked_at is not None:
        raise TokenRevoked(record.id)
    if record.role == AdminRole.ADMIN or AdminRole(record.role) in allowed:
        return
    raise TokenForbidden(record.id, AdminRole(record.role), (AdminRole.ADMIN, *allowed))


def looks_like_token(text: str) -> bool:
    """Whether `text` contains something shaped like an admin token (to keep it out of logs)."""
    return TOKEN_PATTERN.search(text) is not None


def _parse(presented: str) -> tuple[str, bytes]:
    match = TOKEN_PATTERN.fullmatch(presented.strip())
    if match is None:
        raise MalformedAdminToken()
    token_id, encoded = match.groups()
    try:
        secret = base64.urlsafe_b64decode(encoded + "=")
    except (binascii.Error, ValueError):
        raise MalformedAdminToken() from None
    if base64.urlsafe_b64encode(secret).rstrip(b"=").decode("ascii") != encoded:
        raise MalformedAdminToken()  # non-canonical spelling of the last character
    return token_id, secret


def _hash_secret(token_id: str, secret: bytes) -> str:
    # A plain SHA-256 is enough: the secret is 256 random bits, so no guessing is possible
    # whatever the hash speed. Slow hashes (argon2, bcrypt) protect low-entropy passwords;
    # here they would only slow every API request. The id is hashed in so a stored hash
    # cannot be moved onto another token's row.
    return hashlib.sha256(_HASH_LABEL + token_id.encode("ascii") + b":" + secret).hexdigest()


def _utc(value: datetime) -> datetime:
    """Aware UTC; SQLite gives naive datetimes back, which we stored as UTC."""
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
