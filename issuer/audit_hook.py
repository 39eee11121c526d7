"""The audit hook the issuer's services are given: it appends an entry to the audit log in the
caller's own transaction, so a change and its entry are committed together or not at all."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session

from offchain_store.audit import append as append_audit

AuditHook = Callable[[Session, str, str, str, dict[str, Any]], None]
"""(session, actor, action, subject, details): appends to the audit log in the same transaction."""


def no_audit(_s: Session, _actor: str, _action: str, _subject: str, _d: dict[str, Any]) -> None:
    """The hook of a service built without an audit log (tests, one-off tools): records nothing."""
    return None


def audit_log(
    session: Session, actor: str, action: str, subject: str, details: dict[str, Any]
) -> None:
    """The AuditHook of the service: the hash-chained audit log, at the current UTC time."""
    append_audit(
        session, actor=actor, action=action, subject=subject, details=details, now=datetime.now(UTC)
    )
