"""What every request may use, built once per process from the settings.

One engine, one blob store, and on first use one unlock of each keystore and one chain client
per account (`compose.ChainAccounts`), shared by revocations, suspensions and the admin pages'
imports: never one per request or per job. Nothing here is a request's state, only collaborators
and caches (the issuer profile, chain reads).
"""

from __future__ import annotations

import dataclasses
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.engine import Engine

from contracts.keccak import bulk_keccak256
from contracts.profile import IssuerProfile
from issuer.audit_hook import AuditHook
from issuer.delivery_pack import DeliveryPacks
from issuer.pipeline import Issuance, Progress
from issuer.revocation import Revocations
from issuer.suspension import Suspensions
from offchain_store.blobs import BlobStore
from sceau import compose
from sceau.settings import Settings
from verifier.chain import ChainCache
from verifier.share_link import VerificationContext
from verifier.turns import Turns

PROFILE_TTL_SECONDS = 60.0
# Two: one thread's Python runs while another's C code (decryption, SQLite) runs beside it.
OPENING_TURNS = 2


@dataclass
class AppState:
    """Long-lived collaborators of the web app; the issuer profile is re-read each minute."""

    settings: Settings
    engine: Engine
    blobs: BlobStore
    chain: compose.ChainAccounts
    _profile: IssuerProfile | None = None
    _profile_at: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    chain_cache: ChainCache = field(default_factory=ChainCache)
    _revocations: Revocations | None = None
    _suspensions: Suspensions | None = None
    _issuance: Issuance | None = None
    _building_issuance: threading.Lock = field(default_factory=threading.Lock)
    # One revoking account per process: its transactions are sent one after another.
    revoking: threading.Lock = field(default_factory=threading.Lock)
    # Share openings running Python at once (verifier.turns); their waits on the chain node and
    # the blob store give the turn away, so more wait side by side.
    opening_turns: Turns = field(default_factory=lambda: Turns(OPENING_TURNS))

    @classmethod
    def build(cls, settings: Settings) -> AppState:
        """The server's parts, once per process; Keccak's C code loaded now, so every opening's
        hashes take it (contracts.keccak uses it once a process has it)."""
        bulk_keccak256()
        return cls(
            settings=settings,
            engine=compose.database(settings),
            blobs=compose.blob_store(settings),
            chain=compose.ChainAccounts(settings),
        )

    def profile(self) -> IssuerProfile:
        with self._lock:
            if self._profile is None or time.monotonic() - self._profile_at > PROFILE_TTL_SECONDS:
                self._profile = compose.profile(self.settings, engine=self.engine)
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

    def revocations(self) -> Revocations:
        """What revoking needs, built on first use: the keystores are unlocked once."""
        with self._lock:
            if self._revocations is None:
                self._revocations = compose.revocations(
                    self.settings, engine=self.engine, blobs=self.blobs, chain=self.chain
                )
            return self._revocations

    def suspensions(self) -> Suspensions:
        """What suspending and lifting need, built on first use like `revocations`."""
        with self._lock:
            if self._suspensions is None:
                self._suspensions = compose.suspensions(
                    self.settings, engine=self.engine, chain=self.chain
                )
            return self._suspensions

    def issuance(self, progress: Progress) -> Issuance:
        """The pipeline's collaborators on this process's engine and accounts, built on first
        use (an import started then waits for it); each import gets its own `progress`."""
        with self._building_issuance:
            if self._issuance is None:
                self._issuance = compose.issuance(
                    self.settings, engine=self.engine, chain=self.chain
                )
            return dataclasses.replace(self._issuance, progress=progress)

    def delivery_packs(self) -> DeliveryPacks:
        """The delivery packs, on this process's engine."""
        return compose.delivery_packs(self.settings, engine=self.engine)

    def now(self) -> datetime:
        return datetime.now(UTC)
