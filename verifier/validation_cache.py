"""Signature validations kept per process: a signed PDF's bytes never change and its signature
is judged as of its anchoring time, so one validation serves every later opening.

A finding is keyed by what it depends on: the PDF's SHA-256, the issuer profile's hash and the
trust roots it was judged against, and the moment (with its source) it was judged at. A changed
profile, another PDF or another anchoring time is another key. Revocation is not in a finding:
the chain is asked for it on every verification (`verifier.chain`).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from verifier.report import CheckStatus

if TYPE_CHECKING:
    from verifier.checks.signature import SignatureFinding

DEFAULT_MAX_ENTRIES = 20_000  # a finding is a few kilobytes: tens of megabytes at most


@dataclass(frozen=True)
class ValidationKey:
    """What a signature finding depends on."""

    pdf_sha256: bytes
    profile_sha256: bytes | None
    trust_roots_sha256: bytes
    moment: datetime
    moment_source: str

    def __post_init__(self) -> None:
        if len(self.pdf_sha256) != 32 or len(self.trust_roots_sha256) != 32:
            raise ValueError("a validation key holds SHA-256 digests of 32 bytes")
        if self.profile_sha256 is not None and len(self.profile_sha256) != 32:
            raise ValueError("a profile hash is a SHA-256 digest of 32 bytes")
        if self.moment.tzinfo is None:
            raise ValueError("a validation moment is an aware datetime")

    @classmethod
    def of(
        cls,
        pdf: bytes,
        *,
        profile_sha256: bytes | None,
        trust_roots: Sequence[bytes],
        moment: datetime,
        moment_source: str,
    ) -> ValidationKey:
        roots = hashlib.sha256()
        for root in trust_roots:  # order kept: the same profile lists them the same way
            roots.update(hashlib.sha256(root).digest())
        return cls(
            pdf_sha256=hashlib.sha256(pdf).digest(),
            profile_sha256=profile_sha256,
            trust_roots_sha256=roots.digest(),
            moment=moment,
            moment_source=moment_source,
        )


class ValidationCache:
    """A bounded, thread-safe store of signature findings (least recently used goes first).

    A finding that could not decide (ERROR: the check itself failed to run) is not kept.
    """

    def __init__(self, *, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        if max_entries < 1:
            raise ValueError("a validation cache holds at least one finding")
        self._max_entries = max_entries
        self._findings: OrderedDict[ValidationKey, SignatureFinding] = OrderedDict()
        self._lock = threading.Lock()

    def finding(
        self, key: ValidationKey, validate: Callable[[], SignatureFinding]
    ) -> SignatureFinding:
        """The kept finding for `key`, or `validate()`'s, kept for next time."""
        with self._lock:
            known = self._findings.get(key)
            if known is not None:
                self._findings.move_to_end(key)
                return known
        found = validate()  # outside the lock: validations of different PDFs run side by side
        self.remember(key, found)
        return found

    def remember(self, key: ValidationKey, found: SignatureFinding) -> None:
        """Keep `found` for `key` (a prefill at issuance, or after a validation)."""
        if found.result.status is CheckStatus.ERROR:
            return
        with self._lock:
            self._findings[key] = found
            self._findings.move_to_end(key)
            while len(self._findings) > self._max_entries:
                self._findings.popitem(last=False)

    def __len__(self) -> int:
        with self._lock:
            return len(self._findings)
