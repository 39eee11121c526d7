"""Build the collaborators from the settings, in one place (files vs S3, outbox vs SMTP...)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from eth_account.signers.local import LocalAccount
from pydantic import ValidationError
from sqlalchemy.engine import Engine

from contracts.client import RegistryClient
from contracts.keystore import load_account
from contracts.profile import IssuerProfile
from issuer.audit_hook import AuditHook, audit_log
from issuer.content import IssuerBranding
from issuer.delivery import Mailer, OutboxMailer, SmtpMailer
from issuer.delivery_pack import DeliveryPacks
from issuer.design import check_design, load_design
from issuer.keys import certificate_pem, issuer_profile, register_issuer, register_keys_in_use
from issuer.pipeline import FaultHook, Issuance, Progress, SilentProgress, _no_fault
from issuer.recovery import Recovery
from issuer.revocation import DeliveredCopies, Revocations
from issuer.signing import SignatureLevel, SigningIdentity, load_signer
from issuer.status_list import StatusListPolicy, StatusListPublication, status_list_signer
from issuer.suspension import Suspensions
from offchain_store.blobs import BlobStore, blob_store_from_url
from offchain_store.crypto import load_recovery_public_key
from offchain_store.records import make_engine
from offchain_store.schema import create_schema
from offchain_store.staging import StagingVault
from sceau.settings import ConfigurationError, Settings

OWNER_ONLY_UMASK = 0o077


def restrict_new_files() -> None:
    """Files and folders this process creates are its owner's alone (records, keys, letters)."""
    os.umask(OWNER_ONLY_UMASK)


def database(settings: Settings) -> Engine:
    """The SQL engine. An empty database is made to the latest schema; an older one is refused
    (SchemaOutdated: `sceau db upgrade` changes a database in use, never a server starting)."""
    engine = open_database(settings)
    create_schema(engine)
    return engine


def open_database(settings: Settings) -> Engine:
    """The SQL engine as the database is, schema unchecked: for `sceau db` and `sceau init`.

    SQLite's file is made owner-only, its folder too."""
    url = settings.database_url
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        _create_owner_only(Path(url.removeprefix("sqlite:///")))
    return make_engine(url)


def _create_owner_only(path: Path) -> None:
    """The SQLite file holds candidates' e-mail addresses: 0600 (SQLite gives its WAL the same).

    Only a missing file is created: opening and closing an existing one would drop this
    process's SQLite locks on it (POSIX locks belong to the process, not the descriptor)."""
    if path.exists():
        return
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        return


def blob_store(settings: Settings) -> BlobStore:
    url = settings.blob_store_url
    if url.startswith("file://") and not url.startswith("file:///"):
        url = "file://" + str(Path(url.removeprefix("file://")).resolve())  # relative to cwd
    return blob_store_from_url(url)


def mailer(settings: Settings) -> Mailer:
    mail = settings.mail
    if mail.smtp_host:
        return SmtpMailer(
            mail.smtp_host,
            mail.smtp_port,
            username=mail.smtp_username,
            password=mail.smtp_password,
            starttls=mail.smtp_starttls,
            connections=mail.smtp_connections,
        )
    return OutboxMailer(mail.outbox)


def signing_identity(settings: Settings) -> SigningIdentity:
    """The signing key and the PAdES level (B-LTA when a time-stamping authority is set)."""
    signing = settings.signing
    level = SignatureLevel(signing.level) if signing.level else None
    if signing.pkcs12 is not None:
        return SigningIdentity(
            pkcs12_file=signing.pkcs12,
            passphrase=signing.passphrase,
            level=level,
            tsa_url=signing.tsa_url,
            tsa_timeout_seconds=signing.tsa_timeout_seconds,
        )
    return SigningIdentity(
        key_file=signing.key,
        cert_file=signing.certificate,
        chain_files=tuple(signing.chain),
        passphrase=signing.passphrase,
        level=level,
        tsa_url=signing.tsa_url,
        tsa_timeout_seconds=signing.tsa_timeout_seconds,
    )


def branding(settings: Settings) -> IssuerBranding:
    return IssuerBranding(name=settings.issuer_name, public_base_url=settings.public_base_url)


def anchoring_account(settings: Settings) -> LocalAccount:
    """The issuer's Ethereum account, from its encrypted keystore."""
    return load_account(
        settings.chain.keystore, settings.chain.keystore_passphrase.get_secret_value()
    )


def revoking_account(settings: Settings) -> LocalAccount:
    """The account holding REVOKER_ROLE: its own keystore, or the issuer's."""
    path = settings.chain.revoker_keystore or settings.chain.keystore
    return load_account(path, settings.chain.keystore_passphrase.get_secret_value())


def registry(settings: Settings, *, account: LocalAccount | None = None) -> RegistryClient:
    """A client of the configured registry; it checks the node, the chain id and the contract."""
    chain_id, address = settings.resolved_chain()
    return RegistryClient.connect(
        rpc_url=settings.chain.rpc_url,
        address=address,
        chain_id=chain_id,
        account=account,
        confirmations=settings.chain.confirmations,
    )


@dataclass(frozen=True)
class Sender:
    """A chain client that sends from `address`, its account."""

    client: RegistryClient
    address: str


@dataclass
class ChainAccounts:
    """This process's chain clients that may send, made on first use: each keystore unlocked
    once and one client per account, so one account's nonces are counted in one place."""

    settings: Settings
    _senders: dict[Path, Sender] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def anchoring(self) -> Sender:
        """The issuer's account (ISSUER_ROLE: anchors batches and the status list's hash)."""
        return self._sender(self.settings.chain.keystore, anchoring_account)

    def revoking(self) -> Sender:
        """The account holding REVOKER_ROLE: its own keystore, or the issuer's (then the
        same client as `anchoring`)."""
        keystore = self.settings.chain.revoker_keystore or self.settings.chain.keystore
        return self._sender(keystore, revoking_account)

    def _sender(self, keystore: Path, unlock: Callable[[Settings], LocalAccount]) -> Sender:
        key = keystore.resolve()
        with self._lock:
            sender = self._senders.get(key)
            if sender is None:
                account = unlock(self.settings)
                sender = Sender(registry(self.settings, account=account), account.address)
                self._senders[key] = sender
            return sender


def issuance(
    settings: Settings,
    *,
    progress: Progress | None = None,
    fault: FaultHook = _no_fault,
    engine: Engine | None = None,
    chain: ChainAccounts | None = None,
) -> Issuance:
    """Everything the issuer's pipeline needs, from the settings; on the process's own `engine`
    and `chain` accounts when given, else on ones opened here."""
    workers = settings.issue_workers or os.cpu_count() or 1
    if workers > 1:
        # The signing fork server imports its code on another core while this process
        # unlocks the keystore, connects to the chain and stages the results.
        from issuer.signing_server import start_signing_server

        start_signing_server()
    anchoring = (chain or ChainAccounts(settings)).anchoring()
    client = anchoring.client
    chain_id, address = settings.resolved_chain()
    identity = signing_identity(settings)
    engine = engine or database(settings)
    ensure_issuer(engine, settings)
    the_branding = branding(settings)
    design = load_design(settings.design_file)
    check_design(design, branding=the_branding)  # a design that cannot render: before signing
    register_keys_in_use(
        engine,
        settings.issuer_id,
        signing_pem=certificate_pem(load_signer(identity).certificate_der),
        anchoring_address=anchoring.address,
        now=client.latest_block_time(),  # periods of use are judged in chain time
    )
    return Issuance(
        engine=engine,
        blobs=blob_store(settings),
        chain=client,
        mailer=mailer(settings),
        signing=identity,
        branding=the_branding,
        issuer_id=settings.issuer_id,
        recovery_public_key=load_recovery_public_key(settings.recovery_public_key),
        staging=StagingVault(settings.staging_secret.get_secret_value()),
        receipts_dir=settings.receipts_dir,
        sender=settings.mail.sender,
        chain_id=chain_id,
        contract_address=address,
        anchoring_address=anchoring.address,
        workers=workers,
        batch_size=settings.batch_size,
        design=design,
        letters_dir=settings.letters_dir,
        language=settings.issuer_language,
        progress=progress or SilentProgress(),
        fault=fault,
    )


def ensure_issuer(engine: Engine, settings: Settings) -> None:
    """The configured issuer's row, created or renamed (safe beside processes starting at once)."""
    register_issuer(engine, settings.issuer_id, settings.issuer_name)


def profile(settings: Settings, *, engine: Engine | None = None) -> IssuerProfile:
    """The issuer's public profile, from its key history and the configured chain."""
    chain_id, address = settings.resolved_chain()
    try:
        return issuer_profile(
            engine or database(settings),
            settings.issuer_id,
            name=settings.issuer_name,
            public_base_url=settings.public_base_url,
            chain_id=chain_id,
            contract=address,
            trust_root_pems=(settings.signing.trust_root.read_text(),),
        )
    except ValidationError as exc:
        raise ConfigurationError(
            "the issuer profile cannot be published yet: no signing certificate or anchoring "
            f"address recorded (issue a first batch) ({exc.error_count()} problem(s))"
        ) from None


def recovery(settings: Settings) -> Recovery:
    """What `sceau recover-link` needs: records, blobs and the mailer; no chain."""
    engine = database(settings)
    return Recovery(
        engine=engine,
        blobs=blob_store(settings),
        mailer=mailer(settings),
        branding=branding(settings),
        sender=settings.mail.sender,
        issuer_language=settings.issuer_language,
        packs=delivery_packs(settings, engine=engine),
    )


def audit_hook() -> AuditHook:
    """Admin actions go to the hash-chained audit log, in the caller's transaction."""
    return audit_log


def revocations(
    settings: Settings,
    *,
    engine: Engine | None = None,
    blobs: BlobStore | None = None,
    chain: ChainAccounts | None = None,
) -> Revocations:
    """What carrying out revocations needs: records, blobs, a chain client that may revoke,
    and the status list published again after each shredding; on the process's own engine,
    blob store and chain accounts when given."""
    engine = engine or database(settings)
    chain = chain or ChainAccounts(settings)
    revoking = chain.revoking()
    return Revocations(
        engine=engine,
        blobs=blobs or blob_store(settings),
        chain=revoking.client,
        audit=audit_hook(),
        copies=delivered_copies(settings, engine=engine),
        status_list=status_list_publication(settings, engine=engine, chain=chain),
        revoker_address=revoking.address,
    )


def status_list_publication(
    settings: Settings, *, engine: Engine, chain: ChainAccounts | None = None
) -> StatusListPublication:
    """The issuer's list: signed with the PDF signing key, its hash published by the issuer
    account (ISSUER_ROLE)."""
    return StatusListPublication(
        engine=engine,
        issuer_id=settings.issuer_id,
        signer=status_list_signer(signing_identity(settings)),
        policy=StatusListPolicy(public_base_url=settings.public_base_url),
        chain=(chain or ChainAccounts(settings)).anchoring().client,
    )


def suspensions(
    settings: Settings, *, engine: Engine, chain: ChainAccounts | None = None
) -> Suspensions:
    """Suspensions sent by the revoking account (it needs SUSPENDER_ROLE), then the list."""
    chain = chain or ChainAccounts(settings)
    suspending = chain.revoking()
    return Suspensions(
        engine=engine,
        chain=suspending.client,
        status_list=status_list_publication(settings, engine=engine, chain=chain),
        audit=audit_hook(),
        suspender_address=suspending.address,
    )


def delivered_copies(settings: Settings, *, engine: Engine) -> DeliveredCopies:
    """Every place delivery leaves a copy that revocation must destroy."""
    return DeliveredCopies(
        receipts_dir=settings.receipts_dir,
        letters_dir=settings.letters_dir,
        outbox_dir=None if settings.mail.smtp_host else settings.mail.outbox,
        packs=delivery_packs(settings, engine=engine),
    )


def delivery_packs(settings: Settings, *, engine: Engine | None = None) -> DeliveryPacks:
    """The delivery packs of the configured issuer (records, staging secret, letters folder);
    pass the engine already open in this process (the web app's) rather than a second one."""
    return DeliveryPacks(
        engine=engine or database(settings),
        staging=StagingVault(settings.staging_secret.get_secret_value()),
        branding=branding(settings),
        letters_dir=settings.letters_dir,
        issuer_language=settings.issuer_language,
        audit=audit_hook(),
    )
