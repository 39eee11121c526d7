"""Typed settings, built once at start-up from a TOML file and SCEAU_* environment variables."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from sceau_errors import SceauError

DEV_STAGING_SECRET = "sceau-dev-only-staging-secret"  # noqa: S105 - refused in production
DEV_SESSION_SECRET = "sceau-dev-only-session-secret"  # noqa: S105 - refused in production
DEV_PASSPHRASE = "sceau-dev-only"  # noqa: S105 - the development default; refused in production


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class ChainSettings(BaseModel):
    """Where the registry lives and how the issuer signs transactions."""

    rpc_url: str = "http://127.0.0.1:8545"
    chain_id: int | None = None  # None: taken from the local deployment file
    contract_address: str | None = None  # None: taken from the local deployment file
    confirmations: int = Field(default=1, ge=0, le=64)
    keystore: Path = Path("var/keys/issuer-eth.json")
    keystore_passphrase: SecretStr = SecretStr(DEV_PASSPHRASE)
    # The account that revokes (REVOKER_ROLE); None: the issuer's keystore, as in development.
    revoker_keystore: Path | None = None
    # The registry admin (grants and revokes roles, e.g. at key rotation); None: on the local
    # development chain only, anvil's well-known development account.
    admin_keystore: Path | None = None
    local_data_dir: Path = Path("var/chain")  # anvil's state and deployment.json
    # A block explorer's page for a transaction, e.g. "https://explorer.example/tx/{tx}";
    # None (the local chain): the hash is shown without a link.
    explorer_tx_url: str | None = Field(default=None, pattern=r"^https://.*\{tx\}")
    local_port: int = 8545


class SigningSettings(BaseModel):
    """The issuer's X.509 signing identity (PEM key + certificate, or PKCS#12)."""

    key: Path | None = Path("var/pki/issuer.key.pem")
    certificate: Path | None = Path("var/pki/issuer.pem")
    chain: list[Path] = [Path("var/pki/root.pem")]
    pkcs12: Path | None = None
    passphrase: SecretStr | None = None
    trust_root: Path = Path("var/pki/root.pem")
    # PAdES level: B-B, B-T, B-LT or B-LTA; None means B-LTA when a TSA is set, else B-B.
    level: str | None = Field(default=None, pattern=r"^B-(B|T|LT|LTA)$")
    tsa_url: str | None = None  # RFC 3161 time-stamping authority
    tsa_timeout_seconds: float = Field(default=10.0, gt=0)


class MailSettings(BaseModel):
    """Outbox of .eml files by default; SMTP when a host is set."""

    sender: str = "certificates@sceau.localhost"
    outbox: Path = Path("var/outbox")
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True
    # Messages sent at once, each on its own connection (a relay may cap them per client).
    smtp_connections: int = Field(default=3, ge=1, le=32)


class RetentionSettings(BaseModel):
    """How long personal data is kept (GDPR: no longer than needed)."""

    access_log_days: int = Field(default=365, ge=1)
    certificate_years: int = Field(default=10, ge=1, le=100)


MAX_WALLET_MINUTES = 1440  # a day: an offer, token or nonce is short-lived by design


class WalletSettings(BaseModel):
    """How OpenID4VCI offers, access tokens and nonces behave (docs/wallet.md)."""

    model_config = ConfigDict(extra="forbid")

    offer_minutes: int = Field(default=10, ge=1, le=MAX_WALLET_MINUTES)
    token_minutes: int = Field(default=5, ge=1, le=MAX_WALLET_MINUTES)
    nonce_minutes: int = Field(default=5, ge=1, le=MAX_WALLET_MINUTES)
    # A transaction code shown apart from the QR code, which the wallet must send back.
    tx_code: bool = True
    tx_code_attempts: int = Field(default=5, ge=1, le=20)  # wrong codes before an offer burns


class Settings(BaseSettings):
    """All of Sceau's configuration."""

    model_config = SettingsConfigDict(
        env_prefix="SCEAU_", env_nested_delimiter="__", extra="forbid"
    )

    environment: Environment = Environment.DEVELOPMENT
    issuer_id: str = Field(default="demo-centre", pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
    issuer_name: str = "Centre d'examens de démonstration"
    public_base_url: str = "http://127.0.0.1:8000"
    database_url: str = "sqlite:///var/sceau.db"
    blob_store_url: str = "file://var/blobs"
    receipts_dir: Path = Path("var/receipts")
    # Printable letters for candidates without an e-mail address, gathered in delivery packs.
    letters_dir: Path = Path("var/letters")
    # The language of messages, letters and pages when a result names none.
    issuer_language: str = Field(default="fr", pattern=r"^(fr|en)$")
    # The issuer's certificate design (logo, colours, wording, per exam); None: the built-in one.
    design_file: Path | None = None
    recovery_public_key: Path = Path("var/keys/recovery-public.json")
    # Seals content and link keys waiting for delivery; not stored with the data.
    staging_secret: SecretStr = SecretStr(DEV_STAGING_SECRET)
    # Signs the admin pages' session cookies.
    session_secret: SecretStr = SecretStr(DEV_SESSION_SECRET)
    issue_workers: int | None = None  # None: one per core
    batch_size: int = Field(default=1000, ge=1, le=100_000)
    chain: ChainSettings = ChainSettings()
    signing: SigningSettings = SigningSettings()
    mail: MailSettings = MailSettings()
    retention: RetentionSettings = RetentionSettings()
    wallet: WalletSettings = WalletSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = init_settings.init_kwargs.pop("_config_file", None)  # type: ignore[attr-defined]
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if toml_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_file))
        return tuple(sources)

    @model_validator(mode="after")
    def _no_development_secrets_in_production(self) -> Settings:
        if self.environment is Environment.PRODUCTION:
            if self.chain.keystore_passphrase.get_secret_value() == DEV_PASSPHRASE:
                raise ValueError(
                    "refusing to start in production with the development keystore passphrase: "
                    "set SCEAU_CHAIN__KEYSTORE_PASSPHRASE"
                )
            if self.staging_secret.get_secret_value() == DEV_STAGING_SECRET:
                raise ValueError(
                    "refusing to start in production with the development staging secret: "
                    "set SCEAU_STAGING_SECRET"
                )
            if self.session_secret.get_secret_value() == DEV_SESSION_SECRET:
                raise ValueError(
                    "refusing to start in production with the development session secret: "
                    "set SCEAU_SESSION_SECRET"
                )
            if self.public_base_url.startswith("http://"):
                raise ValueError("public_base_url must be https in production")
        return self

    def resolved_chain(self) -> tuple[int, str]:
        """Chain id and contract address: from settings, else from the local deployment file."""
        chain_id, address = self.chain.chain_id, self.chain.contract_address
        if chain_id is None or address is None:
            deployment = read_local_deployment(self.chain.local_data_dir)
            chain_id = chain_id if chain_id is not None else int(deployment["chain_id"])
            address = address or str(deployment["contract_address"])
        return chain_id, address


class ConfigurationError(SceauError):
    """The configuration cannot be used as it is; the message says what to change."""


def read_local_deployment(data_dir: Path) -> dict[str, Any]:
    """The deployment written by `sceau chain start` for the local chain."""
    path = data_dir / "deployment.json"
    try:
        return dict(json.loads(path.read_text()))
    except FileNotFoundError:
        raise ConfigurationError(
            f"no chain id / contract address configured and no local deployment at {path}: "
            "run `sceau chain start` (local anvil) or set SCEAU_CHAIN__CHAIN_ID and "
            "SCEAU_CHAIN__CONTRACT_ADDRESS"
        ) from None


def load_settings(config_file: Path | None = None) -> Settings:
    """Build the settings once: init > environment > TOML file > defaults."""
    if config_file is not None and not config_file.is_file():
        raise ConfigurationError(f"configuration file not found: {config_file}")
    try:
        return Settings(_config_file=config_file)  # type: ignore[call-arg]
    except ValidationError as exc:
        raise ConfigurationError(_without_values(exc)) from None
    except ValueError as exc:
        raise ConfigurationError(str(exc)) from exc


def _without_values(error: ValidationError) -> str:
    """What is wrong with each setting, never the value given: it may be a secret."""
    lines = [f"{len(error.errors())} setting(s) cannot be used:"]
    for problem in error.errors(include_url=False, include_input=False, include_context=False):
        where = ".".join(str(part) for part in problem["loc"]) or "settings"
        lines.append(f"  {where}: {problem['msg']}")
    return "\n".join(lines)
