"""A throwaway PostgreSQL cluster (Debian's `postgresql`): for tests, benchmarks, local trials.

`initdb` into a folder, the server on 127.0.0.1 and a free port, trust authentication for
local connections only, stopped (and its folder left to the caller) at the end. PostgreSQL
refuses to run as root: as root, the cluster runs as the `postgres` system user that the
Debian package creates, in a folder that user owns.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from offchain_store.errors import StoreError

SUPERUSER = "sceau"
_BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)


class LocalPostgresError(StoreError):
    """The local PostgreSQL cluster could not be made or started."""


@dataclass(frozen=True)
class LocalPostgres:
    """A running cluster: where it lives, and how to reach it."""

    data_dir: Path
    port: int
    run_as: str | None  # the system user the server runs as (None: this process's user)
    durable: bool = True  # False: no fsync, no full pages (a throwaway test cluster only)

    def url(self, database: str = "postgres") -> str:
        """A SQLAlchemy URL (psycopg 3) for one database of the cluster."""
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str | None = None) -> str:
        """A new empty database; its SQLAlchemy URL."""
        name = name or f"t_{uuid.uuid4().hex[:16]}"
        self.sql(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        self.sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def sql(self, statement: str, database: str = "postgres") -> None:
        """Run one statement outside a transaction (CREATE DATABASE needs that)."""
        import psycopg

        dsn = f"host=127.0.0.1 port={self.port} user={SUPERUSER} dbname={database}"
        with psycopg.connect(dsn, autocommit=True) as connection:
            connection.execute(statement.encode())

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (`fast`: roll back open transactions; `immediate`: like a crash)."""
        _pg_ctl(self, "stop", "-m", mode, "-w")

    def remove(self) -> None:
        """Stop the server if it runs, and delete its folder."""
        with contextlib.suppress(LocalPostgresError):
            self.stop("immediate")
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def start(self) -> None:
        """Start it again on the same port (after `stop`)."""
        _pg_ctl(self, "start", "-w", "-l", str(self.data_dir / "server.log"), "-o", _options(self))


def start_postgres(
    *, port: int, data_dir: Path | None = None, durable: bool = True
) -> LocalPostgres:
    """initdb into a new folder (`data_dir`, or a fresh one in the system's temporary folder,
    which is where it must be when running as root) and start the server on `port`.

    `durable=False` is for a throwaway cluster (the test run): the server never calls fsync
    and writes no full pages. What a commit wrote still reaches the kernel, so an `immediate`
    stop (a crashed server, not a crashed machine) loses nothing; a power cut would. Never for
    data anyone keeps, nor for benchmarks (it flatters them)."""
    run_as = "postgres" if os.geteuid() == 0 else None
    if data_dir is None or run_as is not None:
        # The postgres user must reach its folder: a private folder of root's would not do.
        data_dir = Path(tempfile.mkdtemp(prefix="sceau-postgres-"))
    else:
        data_dir.mkdir(mode=0o700, parents=True)
    if run_as is not None:
        try:
            user = pwd.getpwnam(run_as)
        except KeyError:
            raise LocalPostgresError(
                "running as root, PostgreSQL needs the postgres system user: install the "
                "Debian package postgresql"
            ) from None
        os.chown(data_dir, user.pw_uid, user.pw_gid)
    cluster = LocalPostgres(data_dir=data_dir, port=port, run_as=run_as, durable=durable)
    _run(
        cluster,
        _binary("initdb"),
        "-D",
        str(data_dir),
        "-U",
        SUPERUSER,
        "--auth=trust",
        "--encoding=UTF8",
        "--locale=C.UTF-8",
        "--no-sync",
    )
    cluster.start()
    return cluster


def _options(cluster: LocalPostgres) -> str:
    # Only loopback TCP, the socket in the data folder. synchronous_commit stays on even when
    # not durable: an `immediate` stop (the restart tests) would lose commits still in the
    # server's WAL buffers, which fsync=off alone never does.
    options = (
        f"-p {cluster.port} -c listen_addresses=127.0.0.1 "
        f"-c unix_socket_directories={cluster.data_dir} -c max_connections=200"
    )
    if not cluster.durable:
        options += " -c fsync=off -c full_page_writes=off"
    return options


def _pg_ctl(cluster: LocalPostgres, *args: str) -> None:
    _run(cluster, _binary("pg_ctl"), "-D", str(cluster.data_dir), *args)


def _binary(name: str) -> str:
    for directory in _BIN_DIRS:
        if (directory / name).exists():
            return str(directory / name)
    found = shutil.which(name)
    if found is None:
        raise LocalPostgresError(
            f"PostgreSQL's {name} is not installed: install the Debian package postgresql "
            "(./scripts/install does it as root)"
        )
    return found


def _run(cluster: LocalPostgres, *command: str) -> None:
    program = Path(command[0]).name
    if cluster.run_as is not None:
        command = ("runuser", "-u", cluster.run_as, "--", *command)
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, cwd="/", check=False)
    if done.returncode != 0:
        log = cluster.data_dir / "server.log"
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        raise LocalPostgresError(
            f"{program} failed after {time.monotonic() - started:.1f} s: "
            f"{done.stderr.strip()[-1000:]}\n{tail}"
        )
