"""Blob storage for encrypted certificates: one small interface; memory, files, S3 (s3_blobs).

Blobs are opaque (already encrypted) bytes under a validated key. `delete` really
deletes: crypto-shredding at revocation depends on it.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Protocol, runtime_checkable
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from offchain_store.errors import (
    BlobNotFound,
    BlobStoreUnavailable,
    InvalidBlobKey,
    InvalidStoreUrl,
)

_KEY_PATTERN: Final = re.compile(r"[a-z0-9][a-z0-9._-]{0,127}")
_TEMP_PREFIX: Final = ".tmp-"  # a valid key never starts with ".", so never collides
_TEMP_FOLDER: Final = ".tmp"  # beside the two-hex-digit fan-out folders, never one of them


def validate_key(key: str) -> str:
    """Return `key` if it is a safe blob key, else raise InvalidBlobKey."""
    if not isinstance(key, str) or not _KEY_PATTERN.fullmatch(key):
        raise InvalidBlobKey(str(key))
    return key


@runtime_checkable
class BlobStore(Protocol):
    """Where encrypted blobs live; every method validates its key first."""

    def put(self, key: str, data: bytes) -> None:
        """Store `data` under `key`, replacing any previous blob at once (never partly)."""

    def get(self, key: str) -> bytes:
        """Return the blob under `key`; raise BlobNotFound if there is none."""

    def delete(self, key: str) -> bool:
        """Remove the blob for good; return whether there was one."""

    def exists(self, key: str) -> bool:
        """Whether a blob is stored under `key`."""


class InMemoryBlobStore:
    """A dictionary-backed store for unit tests; safe across threads."""

    def __init__(self) -> None:
        self._blobs: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def put(self, key: str, data: bytes) -> None:
        """Store `data` under `key`."""
        validate_key(key)
        with self._lock:
            self._blobs[key] = bytes(data)

    def get(self, key: str) -> bytes:
        """Return the blob under `key` or raise BlobNotFound."""
        validate_key(key)
        with self._lock:
            try:
                return self._blobs[key]
            except KeyError:
                raise BlobNotFound(key) from None

    def delete(self, key: str) -> bool:
        """Forget the blob; return whether there was one."""
        validate_key(key)
        with self._lock:
            return self._blobs.pop(key, None) is not None

    def exists(self, key: str) -> bool:
        """Whether a blob is stored under `key`."""
        validate_key(key)
        with self._lock:
            return key in self._blobs


class WriteBehind:
    """A blob store whose writes run on a few threads, so that storing a certificate does not
    wait for the disk (or S3) before the next one is encrypted: `settle()` waits for every
    write so far and raises the first failure. Call it before committing a record that says
    a blob is stored; reads and deletes settle first, so they see every write made before.

    The wrapped store must be safe across threads (every store here is).
    """

    def __init__(self, store: BlobStore, *, threads: int = 4) -> None:
        self.store = store
        self._threads = ThreadPoolExecutor(threads, thread_name_prefix="sceau-blob-write")
        self._writing: list[Future[None]] = []

    def __enter__(self) -> WriteBehind:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            if kind is None:
                self.settle()
        finally:  # on an error, let the writes under way end; none is left half-made
            self._threads.shutdown(wait=True)

    def put(self, key: str, data: bytes) -> None:
        """Start storing `data` under `key`; the key is checked at once."""
        validate_key(key)
        self._writing.append(self._threads.submit(self.store.put, key, data))

    def settle(self) -> None:
        """Wait for every write started so far; raise the first that failed."""
        writing, self._writing = self._writing, []
        failure: BaseException | None = None
        for write in writing:
            error = write.exception()
            failure = failure or error
        if failure is not None:
            raise failure

    def get(self, key: str) -> bytes:
        self.settle()
        return self.store.get(key)

    def delete(self, key: str) -> bool:
        self.settle()
        return self.store.delete(key)

    def exists(self, key: str) -> bool:
        self.settle()
        return self.store.exists(key)


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


class FilesystemBlobStore:
    """Blobs as files under `root`, in two levels of fan-out directories, written atomically.

    A write goes to a temporary file in `temp_folder` (under the root, so on the same file
    system), is fsynced, then renamed over the blob with os.replace and the blob's directory
    fsynced: a reader sees the old blob or the new one, and a crash at any point leaves no
    partial blob visible, only a temporary file in that one folder for `sweep_temp_files`.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.temp_folder = self.root / _TEMP_FOLDER

    def path_for(self, key: str) -> Path:
        """Where the blob for `key` lives on disk (fan-out by a hash of the key)."""
        validate_key(key)
        digest = hashlib.sha256(key.encode("ascii")).hexdigest()
        return self.root / digest[:2] / digest[2:4] / key

    def put(self, key: str, data: bytes) -> None:
        """Store `data` under `key` atomically and durably."""
        path = self.path_for(key)
        try:
            self._ensure_directory(path.parent)
            self._replace_atomically(path, data)
        except OSError as error:
            raise BlobStoreUnavailable(f"Could not store the blob {key!r}: {error}.") from error

    def get(self, key: str) -> bytes:
        """Return the blob under `key` or raise BlobNotFound."""
        path = self.path_for(key)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise BlobNotFound(key) from None
        except OSError as error:
            raise BlobStoreUnavailable(f"Could not read the blob {key!r}: {error}.") from error

    def delete(self, key: str) -> bool:
        """Unlink the blob's file and fsync its directory; return whether there was one."""
        path = self.path_for(key)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        except OSError as error:
            raise BlobStoreUnavailable(f"Could not delete the blob {key!r}: {error}.") from error
        _fsync_directory(path.parent)
        return True

    def exists(self, key: str) -> bool:
        """Whether a blob file is stored under `key`."""
        return self.path_for(key).is_file()

    def sweep_temp_files(self, *, older_than_seconds: float = 3600.0) -> int:
        """Remove temporary files left by writes that crashed; return how many went."""
        cutoff = time.time() - older_than_seconds
        removed = 0
        for temp in self.temp_folder.glob(f"{_TEMP_PREFIX}*"):
            try:  # another process may sweep, or finish its write, at the same time
                if temp.stat().st_mtime < cutoff:
                    temp.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
        return removed

    def _ensure_directory(self, directory: Path) -> None:
        """Create the temporary folder and the fan-out directories, fsyncing each parent that
        gained an entry."""
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        for level in (self.temp_folder, directory.parent, directory):
            try:
                level.mkdir(mode=0o700)
            except FileExistsError:
                continue
            _fsync_directory(level.parent)

    def _replace_atomically(self, path: Path, data: bytes) -> None:
        fd, temp_name = tempfile.mkstemp(prefix=_TEMP_PREFIX, dir=self.temp_folder)
        temp = Path(temp_name)
        try:
            try:
                _write_all(fd, data)
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(temp, path)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        _fsync_directory(path.parent)


def _filesystem_path(url: str) -> Path:
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost") or not parts.path:
        raise InvalidStoreUrl(
            f"A file store URL looks like file:///var/lib/sceau/blobs, not {url!r}."
        )
    return Path(url2pathname(unquote(parts.path)))


def blob_store_from_url(url: str, *, endpoint_url: str | None = None) -> BlobStore:
    """Build a store from `file:///path`, `s3://bucket/prefix[?endpoint=…&region=…]` or
    `memory://`; `endpoint_url`, when given, overrides the URL's endpoint."""
    scheme = urlsplit(url).scheme
    if scheme == "file":
        return FilesystemBlobStore(_filesystem_path(url))
    if scheme == "s3":
        from offchain_store.s3_blobs import s3_store_from_url

        return s3_store_from_url(url, endpoint_url=endpoint_url)
    if scheme == "memory":
        return InMemoryBlobStore()
    raise InvalidStoreUrl(
        f"Unsupported blob store URL scheme {scheme!r}: use file:///path or s3://bucket/prefix."
    )


def __getattr__(name: str) -> Any:
    # S3BlobStore is still importable from here, without loading boto3 for file stores.
    if name == "S3BlobStore":
        from offchain_store.s3_blobs import S3BlobStore

        return S3BlobStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
