"""An S3 API server of our own for the tests: moto's standalone server, as its own process.

Start it once per session with the `s3_server` fixture (import it into a test module, or
into a conftest), make a bucket per test with `new_bucket`, and point Sceau at it with
`store_url`. The processes under test get the fake credentials from `S3_ENVIRONMENT`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import boto3
import pytest
from botocore.config import Config

from tests.ports import free_port

MOTO_SERVER: Final = Path(sys.executable).with_name("moto_server")
# Fake credentials: moto accepts any, and none of these can reach a real AWS account.
S3_ENVIRONMENT: Final = {
    "AWS_ACCESS_KEY_ID": "sceau-test-access-key",
    "AWS_SECRET_ACCESS_KEY": "sceau-test-secret-key-never-shown",
    "AWS_DEFAULT_REGION": "us-east-1",
}
_AWS_SETTINGS_TO_DROP: Final = (
    "AWS_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
)


class S3ServerError(Exception):
    """The S3 test server did not start or did not stop."""


@dataclass
class S3Server:
    """A running moto server on 127.0.0.1: its endpoint and a client to look at what it holds."""

    endpoint_url: str
    process: subprocess.Popen[bytes] = field(repr=False)
    log: Path

    def client(self) -> Any:
        """A boto3 client talking to this server directly (as an operator would)."""
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=S3_ENVIRONMENT["AWS_DEFAULT_REGION"],
            aws_access_key_id=S3_ENVIRONMENT["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=S3_ENVIRONMENT["AWS_SECRET_ACCESS_KEY"],
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
        )

    def new_bucket(self, *, versioned: bool = False) -> str:
        """Create a bucket of its own for one test; versioned keeps every overwritten object."""
        name = f"sceau-{uuid.uuid4().hex[:20]}"
        client = self.client()
        client.create_bucket(Bucket=name)
        if versioned:
            client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        return name

    def store_url(self, bucket: str, prefix: str = "certificates") -> str:
        """The `blob_store_url` Sceau is given for `bucket` on this server."""
        return f"s3://{bucket}/{prefix}?endpoint={self.endpoint_url}&region=us-east-1"

    def everything_in(self, bucket: str) -> list[tuple[str, str]]:
        """Every (key, version id) the server keeps in `bucket`: objects, old versions and
        delete markers alike (a non-versioned bucket lists its objects as version "null")."""
        found = []
        paginator = self.client().get_paginator("list_object_versions")
        for page in paginator.paginate(Bucket=bucket):
            for entry in page.get("Versions", []) + page.get("DeleteMarkers", []):
                found.append((str(entry["Key"]), str(entry["VersionId"])))
        return sorted(found)

    def answers(self) -> bool:
        """Whether the server answers HTTP right now."""
        try:
            with urllib.request.urlopen(f"{self.endpoint_url}/moto-api/", timeout=2):
                return True
        except urllib.error.HTTPError:
            return True  # an HTTP error is still an answer
        except OSError:
            return False

    def stop(self) -> None:
        """Stop the server process (SIGTERM, then SIGKILL) and wait for it."""
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def start_s3_server(log_dir: Path, *, port: int | None = None, timeout: float = 60.0) -> S3Server:
    """Start `moto_server` on 127.0.0.1 and a free port; return once it answers."""
    port = port or free_port()
    log = log_dir / f"moto-{port}.log"
    env = {k: v for k, v in os.environ.items() if k not in _AWS_SETTINGS_TO_DROP}
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(MOTO_SERVER), "-H", "127.0.0.1", "-p", str(port)],
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            env=env,
        )
    server = S3Server(endpoint_url=f"http://127.0.0.1:{port}", process=process, log=log)
    deadline = time.monotonic() + timeout
    while not server.answers():
        if process.poll() is not None or time.monotonic() > deadline:
            server.stop()
            tail = log.read_text(errors="replace")[-2000:]
            raise S3ServerError(f"moto_server on port {port} did not start:\n{tail}")
        time.sleep(0.1)
    return server


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """One S3 server for the session (per xdist worker); tests make their own buckets."""
    server = start_s3_server(tmp_path_factory.mktemp("s3"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def s3_credentials(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """This process's AWS environment set to the fake credentials (and nothing else AWS)."""
    for name in _AWS_SETTINGS_TO_DROP:
        monkeypatch.delenv(name, raising=False)
    for name, value in S3_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    return dict(S3_ENVIRONMENT)
