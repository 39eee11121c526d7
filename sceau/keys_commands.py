"""`sceau keys …`: switch the issuer to a new signing certificate or a new anchoring address,
and publish the issuer profile's hash in the registry (each rotation does it at its end).

The period logic, the role changes and the publication live in `issuer.keys` and
`issuer.profile_publication`; this module reads the options, builds the collaborators and
installs files: each new file is written beside its target and renamed over it (atomic), after
the old one is copied to `<name>.retired-<UTC time>`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated
from urllib.parse import urlparse

import typer
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from eth_account.signers.local import LocalAccount
from pydantic import SecretStr

from contracts.keystore import create_keystore, keystore_address, load_account
from contracts.localchain import dev_account, fund_account
from issuer.keys import (
    KeyRotationError,
    certificate_pem,
    certificate_sha256,
    check_signing_certificate,
    next_period_start,
    record_signing_rotation,
    refuse_while_unanchored,
    register_keys_in_use,
    rotate_anchoring,
)
from issuer.profile_publication import ProfileFacts, ProfilePublication, publish_current_profile
from issuer.signing import SigningIdentity, load_signer
from sceau import compose
from sceau.admin_commands import cli_actor
from sceau.console import out
from sceau.settings import ConfigurationError, Settings, SigningSettings

keys_app = typer.Typer(
    no_args_is_help=True,
    help="The issuer's keys: rotate the signing certificate or the anchoring address.",
)
LOCAL_HOSTS = ("127.0.0.1", "localhost")
AdminPassphrase = Annotated[
    str | None,
    typer.Option(
        envvar="SCEAU_ADMIN_KEYSTORE_PASSPHRASE",
        help="Passphrase of chain.admin_keystore (or SCEAU_ADMIN_KEYSTORE_PASSPHRASE).",
    ),
]


def _settings(ctx: typer.Context) -> Settings:
    from sceau.cli import settings_of

    return settings_of(ctx)


@keys_app.command("rotate-signing")
def rotate_signing(
    ctx: typer.Context,
    key: Annotated[Path, typer.Option(help="The new private key (PEM).", exists=True)],
    certificate: Annotated[
        Path, typer.Option(help="The new signing certificate (PEM).", exists=True)
    ],
    chain: Annotated[
        list[Path] | None,
        typer.Option(
            help="CA certificates, one per configured signing.chain file (default: unchanged).",
            exists=True,
        ),
    ] = None,
    passphrase_env: Annotated[
        str | None,
        typer.Option(help="Variable holding the new key's passphrase (default: the configured)."),
    ] = None,
    admin_passphrase: AdminPassphrase = None,
) -> None:
    """Sign with a new certificate from the next block on; the old one keeps its period.

    Ends by publishing the new profile's hash in the registry, with the registry admin's key.
    """
    settings = _settings(ctx)
    signing = _pem_signing(settings)
    engine = compose.database(settings)
    compose.ensure_issuer(engine, settings)
    refuse_while_unanchored(engine, settings.issuer_id)
    chain_files = _chain_files(signing, chain)
    key_passphrase = _passphrase(passphrase_env) or signing.passphrase
    identity = SigningIdentity(
        key_file=key, cert_file=certificate, chain_files=chain_files, passphrase=key_passphrase
    )
    pem = certificate_pem(load_signer(identity).certificate_der)  # key matches, valid, may sign
    new_cert = x509.load_pem_x509_certificate(pem.encode())
    registry = compose.registry(settings)
    check_signing_certificate(
        new_cert,
        [c for path in chain_files for c in x509.load_pem_x509_certificates(path.read_bytes())],
        trust_root_pem=signing.trust_root.read_text(),
        at=registry.latest_block_time(),
    )
    admin = compose.registry(settings, account=_admin_account(settings, admin_passphrase))
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    _install_signing_files(signing, key, key_passphrase, certificate, chain, stamp)
    at = next_period_start(registry.latest_block_time())
    rotation = record_signing_rotation(
        engine,
        settings.issuer_id,
        pem=pem,
        at=at,
        audit=compose.audit_hook(),
        actor=cli_actor(),
        admin=admin,
        profile=profile_facts(settings),
    )
    if rotation.retired is None:
        out.print(f"Certificate {certificate_sha256(pem)[:16]}… was already in use: installed.")
    else:
        out.print(
            f"Signing certificate {certificate_sha256(pem)[:16]}… in use from "
            f"{at:%Y-%m-%d %H:%M:%S} UTC (chain time); {len(rotation.retired)} retired "
            f"certificate(s) keep their period. Old files kept as *.retired-{stamp}."
        )
    out.print(describe_publication(rotation.profile))


def _pem_signing(settings: Settings) -> SigningSettings:
    signing = settings.signing
    if signing.pkcs12 is not None or signing.key is None or signing.certificate is None:
        raise ConfigurationError(
            "`sceau keys rotate-signing` installs PEM files at signing.key and "
            "signing.certificate; with signing.pkcs12, replace that file and its configuration"
        )
    return signing


def _chain_files(signing: SigningSettings, given: list[Path] | None) -> tuple[Path, ...]:
    if not given:
        return tuple(signing.chain)
    if len(given) != len(signing.chain):
        raise ConfigurationError(
            f"--chain gives {len(given)} file(s) for the {len(signing.chain)} configured in "
            "signing.chain: give one per configured file, or change signing.chain"
        )
    return tuple(given)


def _passphrase(variable: str | None) -> SecretStr | None:
    if variable is None:
        return None
    value = os.environ.get(variable)  # named by the admin on the command line
    if not value:
        raise ConfigurationError(f"--passphrase-env names {variable}, which is not set")
    return SecretStr(value)


def _install_signing_files(
    signing: SigningSettings,
    key: Path,
    passphrase: SecretStr | None,
    certificate: Path,
    chain: list[Path] | None,
    stamp: str,
) -> None:
    """Key first, then certificate, then chain: a re-run after a crash installs what is left."""
    assert signing.key is not None and signing.certificate is not None  # _pem_signing
    new_cert = certificate.read_bytes()
    key_pem = _reencrypted_key(key, passphrase, signing.passphrase)
    if not _key_matches(signing.key, signing.passphrase, x509.load_pem_x509_certificate(new_cert)):
        _replace(signing.key, key_pem, mode=0o600, stamp=stamp)
    if not _same_bytes(signing.certificate, new_cert):
        _replace(signing.certificate, new_cert, mode=0o644, stamp=stamp)
    for target, source in zip(signing.chain, chain or [], strict=False):
        content = source.read_bytes()
        if _same_bytes(target, content):
            continue
        if target.resolve() == signing.trust_root.resolve():
            raise KeyRotationError(
                f"--chain {source} would replace the trust root {target}: a key rotation "
                "keeps the trust root (verifiers pin it)"
            )
        _replace(target, content, mode=0o644, stamp=stamp)


def _reencrypted_key(key: Path, given: SecretStr | None, configured: SecretStr | None) -> bytes:
    """The new key, encrypted under the configured passphrase so that `sceau issue` opens it."""
    private = serialization.load_pem_private_key(key.read_bytes(), _secret(given))
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(configured.get_secret_value().encode())
        if configured is not None and configured.get_secret_value()
        else serialization.NoEncryption()
    )
    return private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )


def _key_matches(path: Path, passphrase: SecretStr | None, cert: x509.Certificate) -> bool:
    try:
        private = serialization.load_pem_private_key(path.read_bytes(), _secret(passphrase))
    except (OSError, TypeError, ValueError):
        return False
    return _spki(private.public_key()) == _spki(cert.public_key())


def _spki(public_key: object) -> bytes:
    return public_key.public_bytes(  # type: ignore[attr-defined, no-any-return]
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _secret(value: SecretStr | None) -> bytes | None:
    return value.get_secret_value().encode() if value is not None else None


def _same_bytes(path: Path, content: bytes) -> bool:
    try:
        return path.read_bytes() == content
    except OSError:
        return False


def _replace(target: Path, content: bytes, *, mode: int, stamp: str) -> None:
    """Keep the old file as `<name>.retired-<stamp>`, then rename the new one over it."""
    if target.exists():
        shutil.copy2(target, target.with_name(f"{target.name}.retired-{stamp}"))
    descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    finally:
        Path(temporary).unlink(missing_ok=True)


@keys_app.command("rotate-anchoring")
def rotate_anchoring_command(
    ctx: typer.Context,
    new_keystore: Annotated[
        Path | None,
        typer.Option(
            help="The new account's keystore (the configured passphrase opens it).", exists=True
        ),
    ] = None,
    create: Annotated[bool, typer.Option(help="Create a new account.")] = False,
    admin_passphrase: AdminPassphrase = None,
) -> None:
    """Anchor from a new address: grant it the roles, revoke the old one's from then on.

    Ends by publishing the new profile's hash in the registry. Safe to run again after a
    crash: without options it finishes the rotation it started.
    """
    settings = _settings(ctx)
    engine = compose.database(settings)
    compose.ensure_issuer(engine, settings)
    refuse_while_unanchored(engine, settings.issuer_id)
    passphrase = settings.chain.keystore_passphrase.get_secret_value()
    configured = settings.chain.keystore
    staged = _staged_keystore(configured, new_keystore, create=create, passphrase=passphrase)
    new_address = load_account(staged, passphrase).address  # the passphrase must open it
    admin = compose.registry(settings, account=_admin_account(settings, admin_passphrase))
    if _is_local(settings):
        fund_account(settings.chain.rpc_url, new_address)
    rotation = rotate_anchoring(
        engine,
        admin,
        settings.issuer_id,
        old_address=keystore_address(configured),
        new_address=new_address,
        audit=compose.audit_hook(),
        actor=cli_actor(),
        profile=profile_facts(settings),
    )
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    shutil.copy2(configured, configured.with_name(f"{configured.name}.retired-{stamp}"))
    os.replace(staged, configured)
    out.print(
        f"Anchoring from {rotation.new_address} since {rotation.new_from:%Y-%m-%d %H:%M:%S} UTC; "
        f"{rotation.old_address} retired from {rotation.old_until:%Y-%m-%d %H:%M:%S} UTC "
        f"(chain time), its keystore kept as {configured.name}.retired-{stamp}."
    )
    out.print(describe_publication(rotation.profile))
    if not _is_local(settings):
        out.print(f"Fund {rotation.new_address} before the next `sceau issue`.")


def _staged_keystore(
    configured: Path, given: Path | None, *, create: bool, passphrase: str
) -> Path:
    """The new keystore, kept beside the configured one until the rotation is done."""
    staged = configured.with_name(f"{configured.name}.next")
    if staged.exists():
        if given is not None and keystore_address(given) != keystore_address(staged):
            raise KeyRotationError(
                f"an unfinished rotation to {keystore_address(staged)} is pending ({staged}): "
                "run `sceau keys rotate-anchoring` without options to finish it"
            )
        return staged
    if given is not None and create:
        raise typer.BadParameter("give --new-keystore PATH or --create, not both")
    if given is not None:
        load_account(given, passphrase)  # refuse a keystore `sceau issue` could not open
        fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(given.read_bytes())
            handle.flush()
            os.fsync(handle.fileno())
        return staged
    if create:
        create_keystore(staged, passphrase)
        return staged
    raise typer.BadParameter("give --new-keystore PATH or --create")


def _admin_account(settings: Settings, passphrase: str | None) -> LocalAccount:
    """The registry admin: chain.admin_keystore, or anvil's development account locally."""
    path = settings.chain.admin_keystore
    if path is not None:
        secret = passphrase or typer.prompt("Admin keystore passphrase", hide_input=True)
        return load_account(path, secret)
    if not _is_local(settings):
        raise ConfigurationError(
            "rotating the anchoring address needs the registry admin: set chain.admin_keystore "
            "(SCEAU_CHAIN__ADMIN_KEYSTORE); only a local chain falls back to anvil's dev account"
        )
    return dev_account()


def _is_local(settings: Settings) -> bool:
    return urlparse(settings.chain.rpc_url).hostname in LOCAL_HOSTS


# --- the profile's hash on chain ---------------------------------------------------------------


def profile_facts(settings: Settings) -> ProfileFacts:
    """What the profile says besides the key history, exactly as `compose.profile` builds it."""
    chain_id, address = settings.resolved_chain()
    return ProfileFacts(
        name=settings.issuer_name,
        public_base_url=settings.public_base_url,
        chain_id=chain_id,
        contract=address,
        trust_root_pems=(settings.signing.trust_root.read_text(),),
    )


def publish_profile(settings: Settings, *, admin_passphrase: str | None) -> ProfilePublication:
    """Record the configured keys as in use (as `sceau issue` does), then make the profile's
    hash the registry's current one with the registry admin's key; nothing sent if it is."""
    engine = compose.database(settings)
    compose.ensure_issuer(engine, settings)
    admin = compose.registry(settings, account=_admin_account(settings, admin_passphrase))
    register_keys_in_use(
        engine,
        settings.issuer_id,
        signing_pem=certificate_pem(
            load_signer(compose.signing_identity(settings)).certificate_der
        ),
        anchoring_address=keystore_address(settings.chain.keystore),
        now=admin.latest_block_time(),  # periods of use are judged in chain time
    )
    return publish_current_profile(
        engine,
        settings.issuer_id,
        admin=admin,
        facts=profile_facts(settings),
        audit=compose.audit_hook(),
        actor=cli_actor(),
    )


def describe_publication(publication: ProfilePublication) -> str:
    """One line for the admin: the hash now current on chain, and whether this run sent it."""
    digest = publication.profile_sha256.hex()
    if publication.tx_hash is None:
        return f"Issuer profile {digest[:16]}… was already the registry's current one."
    return (
        f"Issuer profile {digest[:16]}… published in the registry at "
        f"{publication.published_at:%Y-%m-%d %H:%M:%S} UTC (transaction {publication.tx_hash})."
    )
