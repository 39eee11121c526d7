"""The S3 blob store (AWS or any S3-compatible server), its URL and its error messages.

Imported only when a store URL says s3://, so a files-only deployment never loads boto3.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Final
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
    ReadTimeoutError,
)

from offchain_store.blobs import validate_key
from offchain_store.errors import BlobNotFound, BlobStoreUnavailable, InvalidStoreUrl


class S3BlobStore:
    """Blobs as S3 objects (AWS or any S3-compatible store) through an injected boto3 client.

    A PUT is atomic in S3. On a versioned bucket, delete removes every version and
    delete marker of the key, since a plain DELETE there only hides the object.
    """

    def __init__(self, *, bucket: str, client: Any, prefix: str = "") -> None:
        # `client` is a boto3 S3 client; boto3 ships no type information.
        if not bucket:
            raise InvalidStoreUrl("An S3 blob store needs a bucket name.")
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self._client = client

    def __repr__(self) -> str:
        return f"S3BlobStore(bucket={self.bucket!r}, prefix={self.prefix!r})"

    def _object_key(self, key: str) -> str:
        return self.prefix + validate_key(key)

    def _errors(self, action: str, *, missing_key: str | None = None) -> _S3Errors:
        return _S3Errors(
            action,
            bucket=self.bucket,
            endpoint=str(self._client.meta.endpoint_url),
            missing_key=missing_key,
        )

    def put(self, key: str, data: bytes) -> None:
        """Upload `data` under `key`."""
        object_key = self._object_key(key)
        with self._errors(f"store the blob {key!r}"):
            self._client.put_object(Bucket=self.bucket, Key=object_key, Body=bytes(data))

    def get(self, key: str) -> bytes:
        """Download the blob under `key` or raise BlobNotFound."""
        object_key = self._object_key(key)
        with self._errors(f"read the blob {key!r}", missing_key=key):
            response = self._client.get_object(Bucket=self.bucket, Key=object_key)
            body: bytes = response["Body"].read()
        return body

    def exists(self, key: str) -> bool:
        """Whether an object is stored under `key`."""
        object_key = self._object_key(key)
        try:
            with self._errors(f"look up the blob {key!r}", missing_key=key):
                self._client.head_object(Bucket=self.bucket, Key=object_key)
        except BlobNotFound:
            return False
        return True

    def delete(self, key: str) -> bool:
        """Delete the object (and all its versions on a versioned bucket)."""
        existed = self.exists(key)
        object_key = self._object_key(key)
        with self._errors(f"delete the blob {key!r}"):
            if self._bucket_is_versioned():
                existed = self._delete_all_versions(object_key) or existed
            else:
                self._client.delete_object(Bucket=self.bucket, Key=object_key)
        return existed

    def _bucket_is_versioned(self) -> bool:
        # Asked at every delete, never cached: versioning switched on while a server runs
        # must not leave old versions of a shredded certificate behind.
        try:
            status = self._client.get_bucket_versioning(Bucket=self.bucket).get("Status")
        except ClientError as error:
            if _error_code(error) in _NO_VERSIONING_API:
                return False  # a store without versioning keeps no old versions
            raise
        # "Suspended" buckets still hold the versions written while it was enabled.
        return status in ("Enabled", "Suspended")

    def _delete_all_versions(self, object_key: str) -> bool:
        paginator = self._client.get_paginator("list_object_versions")
        deleted = False
        for page in paginator.paginate(Bucket=self.bucket, Prefix=object_key):
            for entry in page.get("Versions", []) + page.get("DeleteMarkers", []):
                if entry["Key"] != object_key:
                    continue  # another key sharing the prefix
                self._client.delete_object(
                    Bucket=self.bucket, Key=object_key, VersionId=entry["VersionId"]
                )
                deleted = True
        return deleted


_MISSING_OBJECT: Final = frozenset({"NoSuchKey", "404", "NotFound"})
_NO_VERSIONING_API: Final = frozenset({"NotImplemented", "501"})
_REFUSED_CREDENTIALS: Final = frozenset(
    {
        "AccessDenied",
        "403",
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "ExpiredToken",
        "InvalidToken",
    }
)
_NO_CONNECTION: Final = (
    EndpointConnectionError,
    ConnectTimeoutError,
    ReadTimeoutError,
    ConnectionClosedError,
)


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _shown_endpoint(url: str) -> str:
    """The endpoint as a message shows it: scheme, host, port and path, never a user or password."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


class _S3Errors:
    """Turns botocore errors into store errors whose message says what to do, never a secret.

    Only the error's code or class reaches the message: S3's own texts can echo an access key
    id, and botocore's can echo a presigned URL.
    """

    def __init__(self, action: str, *, bucket: str, endpoint: str, missing_key: str | None):
        self.action = action
        self.bucket = bucket
        self.endpoint = _shown_endpoint(endpoint)
        self.missing_key = missing_key

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, error: BaseException | None, trace: object) -> None:
        if isinstance(error, ClientError):
            self._refused(error)
        if isinstance(error, BotoCoreError):
            self._unreachable(error)

    def _refused(self, error: ClientError) -> None:
        code = _error_code(error)
        if self.missing_key is not None and code in _MISSING_OBJECT:
            raise BlobNotFound(self.missing_key) from None
        if code == "NoSuchBucket":
            raise BlobStoreUnavailable(
                f"Could not {self.action}: S3 at {self.endpoint} has no bucket "
                f"{self.bucket!r} (create it, or correct blob_store_url)."
            ) from None
        if code in _REFUSED_CREDENTIALS:
            raise BlobStoreUnavailable(
                f"S3 at {self.endpoint} refused this process's credentials to {self.action} "
                f"({code}): check its AWS access key and the bucket's policy."
            ) from None
        raise BlobStoreUnavailable(f"S3 refused to {self.action} ({code}).") from None

    def _unreachable(self, error: BotoCoreError) -> None:
        if isinstance(error, (NoCredentialsError, PartialCredentialsError)):
            raise BlobStoreUnavailable(
                f"No S3 credentials to {self.action}: set AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY (or AWS_PROFILE, or give the machine a role)."
            ) from None
        if isinstance(error, _NO_CONNECTION):
            raise BlobStoreUnavailable(
                f"Could not reach S3 at {self.endpoint} to {self.action}: "
                "no answer (the server is down or unreachable)."
            ) from None
        raise BlobStoreUnavailable(
            f"Could not reach S3 at {self.endpoint} to {self.action} ({type(error).__name__})."
        ) from None


@dataclass(frozen=True)
class S3Location:
    """Where an S3 store lives: `s3://bucket/prefix?endpoint=https://host&region=name`.

    Credentials never go in the URL: boto3 reads them from the process's environment
    (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or the machine's role).
    """

    bucket: str
    prefix: str = ""
    endpoint_url: str | None = None  # None: AWS itself, or AWS_ENDPOINT_URL_S3 if set
    region: str | None = None

    @classmethod
    def from_url(cls, url: str) -> S3Location:
        """Parse an `s3://` URL; raise InvalidStoreUrl without echoing anything secret."""
        parts = urlsplit(url)
        if "@" in parts.netloc:
            raise InvalidStoreUrl(
                "An S3 store URL carries no credentials: give them to the process as "
                "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE, or a role)."
            )
        if not parts.netloc:
            raise InvalidStoreUrl(f"An S3 store URL looks like s3://bucket/prefix, not {url!r}.")
        options = _s3_options(parts.query)
        endpoint = options.get("endpoint")
        if endpoint is not None:
            _check_endpoint(endpoint)
        return cls(
            bucket=parts.netloc,
            prefix=unquote(parts.path),
            endpoint_url=endpoint,
            region=options.get("region"),
        )


_S3_OPTIONS: Final = frozenset({"endpoint", "region"})


def _s3_options(query: str) -> dict[str, str]:
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError:
        raise InvalidStoreUrl(
            "The options of an S3 store URL look like ?endpoint=…&region=…."
        ) from None
    options = dict(pairs)
    unknown = sorted(set(options) - _S3_OPTIONS)
    if unknown or len(options) != len(pairs) or not all(options.values()):
        raise InvalidStoreUrl(
            f"An S3 store URL takes the options endpoint and region, once each and not empty; "
            f"unknown: {', '.join(repr(name) for name in unknown) or 'none'}."
        )
    return options


def _check_endpoint(endpoint: str) -> None:
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidStoreUrl("An S3 endpoint looks like https://s3.example.net:9000.")
    if parts.username is not None or parts.password is not None:
        raise InvalidStoreUrl("An S3 endpoint carries no credentials: give them to the process.")


# Fail in seconds, not minutes, when the store is down; a few retries ride out a blip.
_S3_CLIENT_CONFIG: Final = {
    "connect_timeout": 5,
    "read_timeout": 30,
    "retries": {"max_attempts": 3, "mode": "standard"},
}


def s3_client_for(location: S3Location) -> Any:
    """A boto3 S3 client for `location`: path-style on a custom endpoint (MinIO, Ceph…).

    A session of its own reads the credentials now (boto3's shared default session would
    keep the first ones it found, and is not safe across threads)."""
    import boto3
    from botocore.config import Config

    style = {"addressing_style": "path"} if location.endpoint_url else {}
    return boto3.session.Session().client(
        "s3",
        endpoint_url=location.endpoint_url,
        region_name=location.region,
        config=Config(**_S3_CLIENT_CONFIG, s3=style),
    )


def s3_store_from_url(url: str, *, endpoint_url: str | None = None) -> S3BlobStore:
    """The store an `s3://` URL names; `endpoint_url`, when given, overrides its endpoint."""
    location = S3Location.from_url(url)
    if endpoint_url is not None:
        _check_endpoint(endpoint_url)
        location = replace(location, endpoint_url=endpoint_url)
    return S3BlobStore(
        bucket=location.bucket, client=s3_client_for(location), prefix=location.prefix
    )
