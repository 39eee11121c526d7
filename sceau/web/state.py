"""What every request may use, built once per app from the settings."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.engine import Engine

from contracts.profile import IssuerProfile
from issuer.revocation import AuditHook
from offchain_store.blobs import BlobStore
from sceau import compose
from sceau.settings import Settings
from verifier.chain import ChainCache
from verifier.share_link import VerificationContext

PROFILE_TTL_SECONDS = 60.0


@dataclass
class AppState:
    """Long-lived collaborators of the web app; the issuer profile is re-read each minute."""

    settings: Settings
    engine: Engine
    blobs: BlobStore
    _profile: IssuerProfile | None = None
    _profile_at: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    chain_cache: ChainCache = field(default_factory=ChainCache)

    @classmethod
    def build(cls, settings: Settings) -> AppState:
        return cls(
            settings=settings, engine=compose.database(settings), blobs=compose.blob_store(settings)
        )

    def profile(self) -> IssuerProfile:
        with self._lock:
            if self._profile is None or time.monotonic() - self._profile_at > PROFILE_TTL_SECONDS:
                self._profile = compose.profile(self.settings)
                self._profile_at = time.monotonic()
            return self._profile

    def verification(self) -> VerificationContext:
        return VerificationContext(
            engine=self.engine,
            blobs=self.blobs,
            rpc_url=self.settings.chain.rpc_url,
            profile=self.profile(),
            cache=self.chain_cache,
        )

    @property
    def audit(self) -> AuditHook:
        return compose.audit_hook()

    def now(self) -> datetime:
        return datetime.now(UTC)
