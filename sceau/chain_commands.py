"""`sceau chain …` and the development set-up: local anvil, registry, dev keys and PKI."""

from __future__ import annotations

from urllib.parse import urlparse

import typer

from contracts.keystore import create_keystore, keystore_address
from contracts.localchain import (
    LocalDeployment,
    chain_status,
    ensure_deployed,
    start_chain,
    stop_chain,
)
from issuer.dev_pki import create_dev_pki
from offchain_store.crypto import create_recovery_keypair
from sceau.console import console, out
from sceau.db_commands import describe_upgrade, upgrade_database
from sceau.settings import DEV_PASSPHRASE, ConfigurationError, Environment, Settings

chain_app = typer.Typer(no_args_is_help=True, help="The local anvil chain (development).")


def _settings(ctx: typer.Context) -> Settings:
    from sceau.cli import settings_of

    return settings_of(ctx)


@chain_app.command("start")
def chain_start(ctx: typer.Context) -> None:
    """Start the local chain (state kept on disk) and deploy the registry once."""
    settings = _settings(ctx)
    deployment, _ = _start_and_deploy(settings)
    out.print(
        f"Registry {deployment.contract_address} on chain {deployment.chain_id} "
        f"({settings.chain.rpc_url}); state in {settings.chain.local_data_dir}"
    )


@chain_app.command("stop")
def chain_stop(ctx: typer.Context) -> None:
    """Stop the local chain; its state is written to disk first."""
    stopped = stop_chain(_settings(ctx).chain.local_data_dir)
    out.print("Local chain stopped." if stopped else "The local chain was not running.")


@chain_app.command("status")
def chain_status_command(ctx: typer.Context) -> None:
    """Whether the local chain runs, its block height and the registry's address."""
    status = chain_status(_settings(ctx).chain.local_data_dir)
    if not status.running:
        out.print("The local chain is not running (`sceau chain start`).")
        raise typer.Exit(1)
    contract = (status.deployment or {}).get("contract_address", "not deployed")
    out.print(f"Running (pid {status.pid}) at {status.rpc_url}, block {status.block_number}")
    out.print(f"Registry: {contract}")


def start_local_chain(settings: Settings) -> None:
    host = urlparse(settings.chain.rpc_url)
    if host.hostname not in ("127.0.0.1", "localhost") or host.port != settings.chain.local_port:
        raise ConfigurationError(
            f"chain.rpc_url is {settings.chain.rpc_url}, not the local chain on "
            f"127.0.0.1:{settings.chain.local_port}; `sceau chain start` only runs a local node"
        )
    start_chain(settings.chain.local_data_dir, port=settings.chain.local_port)


def ensure_dev_environment(settings: Settings) -> None:
    """Create whatever the development set-up lacks; never overwrite anything."""
    if settings.environment is not Environment.DEVELOPMENT:
        raise ConfigurationError("`sceau init` and `sceau demo` are for development only")
    console.print(describe_upgrade(upgrade_database(settings)))
    _ensure_pki(settings)
    _ensure_recovery_key(settings)
    deployment, address = _start_and_deploy(settings)
    console.print(
        f"Local chain {settings.chain.rpc_url} (id {deployment.chain_id}), registry "
        f"{deployment.contract_address}, issuer address {address}"
    )
    from sceau.keys_commands import describe_publication, publish_profile

    # Verifiers trust the profile whose hash the registry holds: publish it from the start.
    console.print(describe_publication(publish_profile(settings, admin_passphrase=None)))


def _start_and_deploy(settings: Settings) -> tuple[LocalDeployment, str]:
    """The local chain running, the issuer key made, the registry deployed (each once)."""
    start_local_chain(settings)
    address = _ensure_issuer_key(settings)
    deployment = ensure_deployed(
        settings.chain.local_data_dir, rpc_url=settings.chain.rpc_url, issuer_address=address
    )
    return deployment, address


def _ensure_pki(settings: Settings) -> None:
    signing = settings.signing
    if signing.key is None or signing.certificate is None or signing.certificate.exists():
        return
    passphrase = signing.passphrase.get_secret_value() if signing.passphrase else None
    pki = create_dev_pki(
        signing.certificate.parent, issuer_name=settings.issuer_name, passphrase=passphrase
    )
    console.print(
        f"Created a development signing PKI in {pki.root_cert.parent} (not for production)"
    )


def _ensure_recovery_key(settings: Settings) -> None:
    public = settings.recovery_public_key
    if public.exists():
        return
    private = public.with_name("recovery-private.json")
    public.parent.mkdir(parents=True, exist_ok=True)
    create_recovery_keypair(private, public, passphrase=DEV_PASSPHRASE)
    console.print(
        f"Created a development recovery key pair in {public.parent} (passphrase "
        "'sceau-dev-only'); in production the private half lives offline with the admin"
    )


def _ensure_issuer_key(settings: Settings) -> str:
    path = settings.chain.keystore
    if not path.exists():
        create_keystore(path, settings.chain.keystore_passphrase.get_secret_value())
        console.print(f"Created the issuer's Ethereum keystore {path}")
    return keystore_address(path)
