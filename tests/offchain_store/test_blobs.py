"""Blob stores: the same behaviour from every backend, plus each backend's own promises."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from offchain_store.blobs import (
    BlobStore,
    FilesystemBlobStore,
    InMemoryBlobStore,
    S3BlobStore,
    WriteBehind,
    blob_store_from_url,
)
from offchain_store.errors import (
    BlobNotFound,
    BlobStoreUnavailable,
    InvalidBlobKey,
    InvalidStoreUrl,
)

BUCKET = "sceau-test-blobs"
KEY = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto's in-memory AWS, with fake credentials so nothing can reach a real account."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield


@pytest.fixture
def s3_client(aws: None) -> Any:
    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    return client


@pytest.fixture(params=["filesystem", "memory", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    if request.param == "filesystem":
        return FilesystemBlobStore(tmp_path / "blobs")
    if request.param == "memory":
        return InMemoryBlobStore()
    client = request.getfixturevalue("s3_client")
    return S3BlobStore(bucket=BUCKET, client=client, prefix="certificates")


# --- the same behaviour everywhere ------------------------------------------------


def test_every_backend_satisfies_the_protocol(store: BlobStore) -> None:
    assert isinstance(store, BlobStore)


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=2048))
def test_put_then_get_returns_the_same_bytes(store: BlobStore, data: bytes) -> None:
    store.put(KEY, data)
    assert store.get(KEY) == data
    assert store.exists(KEY)


def test_missing_blob_raises_blob_not_found(store: BlobStore) -> None:
    assert not store.exists(KEY)
    with pytest.raises(BlobNotFound, match=KEY):
        store.get(KEY)


def test_put_replaces_the_previous_blob(store: BlobStore) -> None:
    store.put(KEY, b"old")
    store.put(KEY, b"new")
    assert store.get(KEY) == b"new"


def test_delete_removes_the_blob_and_reports_whether_there_was_one(store: BlobStore) -> None:
    store.put(KEY, b"ciphertext")
    assert store.delete(KEY) is True
    assert not store.exists(KEY)
    with pytest.raises(BlobNotFound):
        store.get(KEY)
    assert store.delete(KEY) is False


def test_keys_sharing_a_prefix_are_independent(store: BlobStore) -> None:
    store.put("abc", b"1")
    store.put("abcd", b"2")
    store.put("abc.wrap", b"3")
    assert store.delete("abc")
    assert store.get("abcd") == b"2"
    assert store.get("abc.wrap") == b"3"


def test_empty_blob_and_longest_key_are_allowed(store: BlobStore) -> None:
    longest = "a" * 128
    store.put(longest, b"")
    assert store.get(longest) == b""


INVALID_KEYS = {
    "empty": "",
    "parent_directory": "..",
    "path_traversal": "../../etc/passwd",
    "slash": "a/b",
    "backslash": "a\\b",
    "absolute": "/etc/passwd",
    "upper_case": "ABC",
    "leading_dot": ".hidden",
    "leading_dash": "-rf",
    "too_long": "a" * 129,
    "nul_byte": "a\x00b",
    "space": "a b",
    "non_ascii": "clé",
    "newline": "a\n",
}


@pytest.mark.parametrize("key", INVALID_KEYS.values(), ids=INVALID_KEYS.keys())
def test_invalid_keys_are_refused_by_every_method(store: BlobStore, key: str) -> None:
    with pytest.raises(InvalidBlobKey, match="not allowed"):
        store.put(key, b"x")
    for method in (store.get, store.delete, store.exists):
        with pytest.raises(InvalidBlobKey):
            method(key)


# --- filesystem -------------------------------------------------------------------


def _files_under(root: Path) -> list[Path]:
    return [Path(d, f) for d, _, files in os.walk(root) for f in files]


def test_filesystem_fans_out_in_two_levels(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path)
    store.put(KEY, b"x")
    (path,) = _files_under(tmp_path)
    relative = path.relative_to(tmp_path).parts
    assert len(relative) == 3 and relative[-1] == KEY
    assert all(len(part) == 2 for part in relative[:2])


def test_filesystem_delete_really_removes_the_file(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path)
    secret = b"ciphertext-that-must-be-shredded"
    store.put(KEY, secret)
    path = store.path_for(KEY)
    assert path.read_bytes() == secret
    assert store.delete(KEY)
    assert not path.exists()
    assert _files_under(tmp_path) == []  # no lingering temporary file either


class _Crash(BaseException):
    """Stands for the process dying: not an Exception, so nothing catches it by accident."""


def test_crash_before_rename_keeps_the_old_blob(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = FilesystemBlobStore(tmp_path)
    store.put(KEY, b"old complete blob")

    def crash(*_: object) -> None:
        raise _Crash

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(_Crash):
        store.put(KEY, b"new blob that never lands")
    monkeypatch.undo()
    assert store.get(KEY) == b"old complete blob"
    assert _files_under(tmp_path) == [store.path_for(KEY)]


def test_crash_half_way_through_writing_shows_nothing_for_a_new_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = FilesystemBlobStore(tmp_path)
    real_write = os.write

    def write_half_then_crash(fd: int, data: bytes) -> int:
        real_write(fd, bytes(data[: len(data) // 2]))
        raise _Crash

    monkeypatch.setattr(os, "write", write_half_then_crash)
    with pytest.raises(_Crash):
        store.put(KEY, b"x" * 10_000)
    monkeypatch.undo()
    assert not store.exists(KEY)
    with pytest.raises(BlobNotFound):
        store.get(KEY)


CRASHING_WRITER = """
import os, sys
from pathlib import Path
from typing import Any
from offchain_store.blobs import FilesystemBlobStore
store = FilesystemBlobStore(Path(sys.argv[1]))
os.replace = lambda *args: os._exit(17)  # the process dies between fsync and rename
store.put(sys.argv[2], b"N" * 1_000_000)
"""


def test_process_killed_between_temp_write_and_rename(tmp_path: Path) -> None:
    """A real crash: no cleanup runs, the temp file stays, and readers still see the old blob."""
    store = FilesystemBlobStore(tmp_path)
    store.put(KEY, b"O" * 1_000_000)
    result = subprocess.run(
        [sys.executable, "-c", CRASHING_WRITER, str(tmp_path), KEY], timeout=60, check=False
    )
    assert result.returncode == 17
    assert store.get(KEY) == b"O" * 1_000_000
    leftovers = [p for p in _files_under(tmp_path) if p != store.path_for(KEY)]
    assert len(leftovers) == 1 and leftovers[0].name.startswith(".tmp-")
    assert store.sweep_temp_files(older_than_seconds=3600) == 0  # too recent: may be in flight
    assert store.sweep_temp_files(older_than_seconds=-1) == 1
    assert _files_under(tmp_path) == [store.path_for(KEY)]


def test_readers_see_one_whole_blob_or_the_other_during_rewrites(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path)
    versions = (b"A" * 300_000, b"B" * 300_000)
    store.put(KEY, versions[0])
    seen: set[bytes] = set()
    stop = threading.Event()

    def read_continuously() -> None:
        while not stop.is_set():
            seen.add(store.get(KEY))

    reader = threading.Thread(target=read_continuously)
    reader.start()
    try:
        for round_ in range(60):
            store.put(KEY, versions[round_ % 2])
    finally:
        stop.set()
        reader.join()
    assert seen <= set(versions)


def test_filesystem_errors_become_store_errors(tmp_path: Path) -> None:
    not_a_directory = tmp_path / "file"
    not_a_directory.write_bytes(b"")
    with pytest.raises(BlobStoreUnavailable, match="Could not store"):
        FilesystemBlobStore(not_a_directory).put(KEY, b"x")


# --- writes behind, on threads -------------------------------------------------------


def test_write_behind_stores_every_blob_once_settled(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path / "blobs")
    keys = [f"{n:032x}" for n in range(40)]
    with WriteBehind(store) as blobs:
        for key in keys:
            blobs.put(key, key.encode() * 100)
        blobs.settle()
        assert all(store.get(key) == key.encode() * 100 for key in keys)
        assert blobs.get(keys[0]) == keys[0].encode() * 100


def test_write_behind_reads_and_deletes_see_the_writes_made_before() -> None:
    store = InMemoryBlobStore()
    with WriteBehind(store) as blobs:
        blobs.put(KEY, b"first")
        assert blobs.exists(KEY)
        assert blobs.delete(KEY) is True
        assert not store.exists(KEY)


def test_write_behind_raises_a_failed_write_at_settle_and_keeps_nothing_pending(
    tmp_path: Path,
) -> None:
    not_a_directory = tmp_path / "file"
    not_a_directory.write_bytes(b"")
    blobs = WriteBehind(FilesystemBlobStore(not_a_directory))
    blobs.put(KEY, b"x")  # no error yet: the write runs on a thread
    with pytest.raises(BlobStoreUnavailable, match="Could not store"):
        blobs.settle()
    blobs.settle()  # the failure was reported once; nothing else waits
    with pytest.raises(BlobStoreUnavailable), blobs:
        blobs.put(KEY, b"y")  # leaving the block settles, and raises


def test_write_behind_checks_the_key_at_once() -> None:
    with WriteBehind(InMemoryBlobStore()) as blobs, pytest.raises(InvalidBlobKey):
        blobs.put("../escape", b"x")


# --- S3 ---------------------------------------------------------------------------


def test_s3_objects_live_under_the_prefix(s3_client: Any) -> None:
    S3BlobStore(bucket=BUCKET, client=s3_client, prefix="/certs/").put(KEY, b"x")
    listed = s3_client.list_objects_v2(Bucket=BUCKET)
    assert [o["Key"] for o in listed["Contents"]] == [f"certs/{KEY}"]


def test_s3_delete_removes_every_version_on_a_versioned_bucket(s3_client: Any) -> None:
    client = s3_client
    client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    store = S3BlobStore(bucket=BUCKET, client=client)
    store.put(KEY, b"first")
    store.put(KEY, b"second")
    store.put(KEY + "0", b"neighbour")
    assert store.delete(KEY)
    listing = client.list_object_versions(Bucket=BUCKET)
    remaining = {v["Key"] for v in listing.get("Versions", []) + listing.get("DeleteMarkers", [])}
    assert remaining == {KEY + "0"}
    assert not store.exists(KEY)
    assert store.delete(KEY) is False


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_unreachable_s3_raises_blob_store_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    client = boto3.client(
        "s3",
        region_name="us-east-1",
        endpoint_url=f"http://127.0.0.1:{_free_port()}",
        config=Config(connect_timeout=1, retries={"max_attempts": 1, "mode": "standard"}),
    )
    store = S3BlobStore(bucket=BUCKET, client=client)
    with pytest.raises(BlobStoreUnavailable, match="Could not reach S3"):
        store.get(KEY)


# --- blob_store_from_url ----------------------------------------------------------


def test_file_url_builds_a_filesystem_store(tmp_path: Path) -> None:
    store = blob_store_from_url(tmp_path.as_uri())
    assert isinstance(store, FilesystemBlobStore) and store.root == tmp_path
    store.put(KEY, b"x")
    assert FilesystemBlobStore(tmp_path).get(KEY) == b"x"


def test_s3_url_builds_an_s3_store(aws: None) -> None:
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=BUCKET)
    store = blob_store_from_url(f"s3://{BUCKET}/prod/certificates")
    assert isinstance(store, S3BlobStore)
    assert (store.bucket, store.prefix) == (BUCKET, "prod/certificates/")
    store.put(KEY, b"x")
    assert store.get(KEY) == b"x"


def test_s3_url_passes_the_endpoint(aws: None) -> None:
    store = blob_store_from_url(f"s3://{BUCKET}", endpoint_url="http://127.0.0.1:9000")
    assert isinstance(store, S3BlobStore)
    assert store._client.meta.endpoint_url == "http://127.0.0.1:9000"


def test_memory_url_builds_an_in_memory_store() -> None:
    assert isinstance(blob_store_from_url("memory://"), InMemoryBlobStore)


@pytest.mark.parametrize("url", ["ftp://host/x", "s3://", "file://remote-host/x", "blobs", ""])
def test_unsupported_urls_are_refused(url: str) -> None:
    with pytest.raises(InvalidStoreUrl):
        blob_store_from_url(url)
