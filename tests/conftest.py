"""Session fixtures shared by every test package: a real anvil node with the registry deployed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from nacl.pwhash import argon2id

from contracts.client import RegistryClient, Role, deploy_registry, make_web3
from contracts.keystore import create_keystore
from contracts.localchain import fund_account, start_chain, stop_chain
from issuer.dev_pki import DevPki, create_dev_pki
from offchain_store.crypto import create_recovery_keypair
from offchain_store.local_postgres import LocalPostgres, start_postgres
from sceau.settings import Settings, load_settings
from tests.pki.certomancer_pki import certomancer_pki  # noqa: F401  (a session fixture)
from tests.ports import free_port

pytest_plugins = ("tests.s3_server", "tests.smtp_server")  # fixtures of the S3 and SMTP servers


@dataclass(frozen=True)
class AnvilChain:
    """A running anvil with a deployed registry and funded accounts for each role."""

    rpc_url: str
    chain_id: int
    contract_address: str
    data_dir: Path
    admin: LocalAccount
    issuer: LocalAccount
    revoker: LocalAccount
    outsider: LocalAccount

    def client(self, account: LocalAccount | None = None) -> RegistryClient:
        """A registry client for `account` (read-only without one)."""
        return RegistryClient.connect(
            rpc_url=self.rpc_url,
            address=self.contract_address,
            chain_id=self.chain_id,
            account=account,
            poll_interval=0.05,
            confirmation_timeout=30.0,
        )


@pytest.fixture(scope="session")
def anvil_chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AnvilChain]:
    """Start anvil on a free port in a temp dir, deploy the registry, stop it at the end."""
    data_dir = tmp_path_factory.mktemp("anvil")
    node = start_chain(data_dir, port=free_port())
    try:
        yield _deploy_with_roles(node.rpc_url, node.chain_id, data_dir)
    finally:
        stop_chain(data_dir)


def _deploy_with_roles(rpc_url: str, chain_id: int, data_dir: Path) -> AnvilChain:
    admin, issuer, revoker, outsider = (Account.create() for _ in range(4))
    for account in (admin, issuer, revoker, outsider):
        fund_account(rpc_url, account.address)
    deployment = deploy_registry(make_web3(rpc_url), admin, admin.address, poll_interval=0.05)
    chain = AnvilChain(
        rpc_url=rpc_url,
        chain_id=chain_id,
        contract_address=deployment.address,
        data_dir=data_dir,
        admin=admin,
        issuer=issuer,
        revoker=revoker,
        outsider=outsider,
    )
    admin_client = chain.client(admin)
    admin_client.grant_role(Role.ISSUER, issuer.address)
    admin_client.grant_role(Role.REVOKER, revoker.address)
    admin_client.grant_role(Role.SUSPENDER, revoker.address)  # suspensions go with revocations
    return chain


# --- a whole Sceau set-up in a temp dir, on the session chain ------------------------------------

TEST_PASSPHRASE = "test-passphrase-not-secret"


@dataclass(frozen=True)
class SceauEnv:
    """Settings for a complete Sceau (SQLite, files, outbox) in a temp dir, on the session chain."""

    root: Path
    config_file: Path
    settings: Settings
    chain: AnvilChain
    recovery_private_key: Path


@pytest.fixture(scope="session")
def shared_pki(tmp_path_factory: pytest.TempPathFactory) -> DevPki:
    return create_dev_pki(
        tmp_path_factory.mktemp("pki"), issuer_name="Centre de test", passphrase=None
    )


DATABASE_BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(params=DATABASE_BACKENDS)
def sceau_env(request: pytest.FixtureRequest, tmp_path: Path) -> SceauEnv:
    """A fresh database, blob store, outbox and keys; the issuer key is the chain's issuer.

    Every test that asks for it runs twice, on SQLite and then on PostgreSQL. A test that is
    about one backend says so: `@pytest.mark.parametrize("sceau_env", ["postgresql"],
    indirect=True)`."""
    return _sceau_env(request, tmp_path, request.param)


@pytest.fixture(scope="module", params=DATABASE_BACKENDS)
def module_sceau_env(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> SceauEnv:
    """One `sceau_env` shared by the tests of a module (for a batch issued once and read by
    many tests), built on SQLite, then again on PostgreSQL: pytest runs the module's tests on
    the first before it builds the second."""
    return make_sceau_env(request, tmp_path_factory.mktemp(f"sceau-{request.param}"), request.param)


def make_sceau_env(request: pytest.FixtureRequest, root: Path, backend: str) -> SceauEnv:
    """A `sceau_env` in `root` on `backend` ("sqlite" or "postgresql"), for a fixture of any
    scope; a PostgreSQL database lives as long as the fixture that asked for it."""
    return _sceau_env(request, root, backend)


def _sceau_env(request: pytest.FixtureRequest, tmp_path: Path, backend: str) -> SceauEnv:
    anvil_chain: AnvilChain = request.getfixturevalue("anvil_chain")
    shared_pki: DevPki = request.getfixturevalue("shared_pki")
    keystore = tmp_path / "keys" / "issuer-eth.json"
    create_keystore(
        keystore, TEST_PASSPHRASE, private_key=bytes(anvil_chain.issuer.key), iterations=2
    )
    revoker_keystore = tmp_path / "keys" / "revoker-eth.json"
    create_keystore(
        revoker_keystore, TEST_PASSPHRASE, private_key=bytes(anvil_chain.revoker.key), iterations=2
    )
    recovery_private = tmp_path / "keys" / "recovery-private.json"
    recovery_public = tmp_path / "keys" / "recovery-public.json"
    create_recovery_keypair(
        recovery_private,
        recovery_public,
        passphrase=TEST_PASSPHRASE,
        kdf_limits=(argon2id.OPSLIMIT_MIN, argon2id.MEMLIMIT_MIN),
    )
    values: dict[str, Any] = {
        "issuer_id": "test-centre",
        "issuer_name": "Centre de test",
        "public_base_url": "https://certs.example.test",
        "database_url": _database_url(request, tmp_path, backend),
        "blob_store_url": f"file://{tmp_path / 'blobs'}",
        "receipts_dir": str(tmp_path / "receipts"),
        "letters_dir": str(tmp_path / "letters"),
        "recovery_public_key": str(recovery_public),
        "issue_workers": 1,
        "chain": {
            "rpc_url": anvil_chain.rpc_url,
            "chain_id": anvil_chain.chain_id,
            "contract_address": anvil_chain.contract_address,
            "keystore": str(keystore),
            "keystore_passphrase": TEST_PASSPHRASE,
            "revoker_keystore": str(revoker_keystore),
            "local_data_dir": str(tmp_path / "chain"),
        },
        "signing": {
            "key": str(shared_pki.issuer_key),
            "certificate": str(shared_pki.issuer_cert),
            "chain": [str(shared_pki.root_cert)],
            "trust_root": str(shared_pki.root_cert),
        },
        "mail": {"outbox": str(tmp_path / "outbox")},
    }
    config_file = tmp_path / "sceau.toml"
    config_file.write_text(_toml(values))
    return SceauEnv(
        root=tmp_path,
        config_file=config_file,
        settings=load_settings(config_file),
        chain=anvil_chain,
        recovery_private_key=recovery_private,
    )


def _toml(values: dict[str, Any]) -> str:
    """A tiny TOML writer for flat tables of strings, numbers and string lists."""
    scalars = [f"{k} = {_toml_value(v)}" for k, v in values.items() if not isinstance(v, dict)]
    tables = [
        f"\n[{name}]\n" + "\n".join(f"{k} = {_toml_value(v)}" for k, v in table.items())
        for name, table in values.items()
        if isinstance(table, dict)
    ]
    return "\n".join(scalars) + "\n" + "\n".join(tables) + "\n"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value))


# --- a throwaway PostgreSQL cluster, once per test session (per xdist worker) -------------------


@pytest.fixture(scope="session")
def postgres() -> Iterator[LocalPostgres]:
    """A real PostgreSQL server on 127.0.0.1 and a free port, removed at the end."""
    cluster = start_postgres(port=free_port(), durable=False)  # throwaway: no fsync
    try:
        yield cluster
    finally:
        cluster.remove()


@pytest.fixture
def postgres_url(postgres: LocalPostgres) -> Iterator[str]:
    """A new empty database on the session's cluster, dropped after the test."""
    url = postgres.create_database()
    yield url
    postgres.drop_database(url.rsplit("/", 1)[1])


@pytest.fixture(params=DATABASE_BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database, once as a SQLite file and once on the session's PostgreSQL."""
    return _database_url(request, tmp_path, request.param, file_name="records.db")


def _database_url(
    request: pytest.FixtureRequest, tmp_path: Path, backend: str, *, file_name: str = "sceau.db"
) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / file_name}"
    if backend == "postgresql":
        if request.scope == "function":
            return str(request.getfixturevalue("postgres_url"))
        # A wider fixture cannot ask for the per-test `postgres_url`: its own database.
        cluster: LocalPostgres = request.getfixturevalue("postgres")
        url = cluster.create_database()
        request.addfinalizer(lambda: cluster.drop_database(url.rsplit("/", 1)[1]))
        return url
    raise ValueError(f"unknown database backend {backend!r}")
