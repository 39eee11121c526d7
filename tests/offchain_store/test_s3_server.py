"""The S3 blob store against a real S3 API server running as its own process (moto_server)."""

from __future__ import annotations

from pathlib import Path

import pytest

from offchain_store.blobs import BlobStore, blob_store_from_url
from offchain_store.errors import BlobNotFound, BlobStoreUnavailable, InvalidStoreUrl
from offchain_store.s3_blobs import S3BlobStore, S3Location
from tests.s3_server import S3_ENVIRONMENT, S3Server, start_s3_server

KEY = "0123456789abcdef0123456789abcdef"
NEIGHBOUR = KEY + "0"  # shares KEY's prefix: must survive KEY's deletion
SECRET = S3_ENVIRONMENT["AWS_SECRET_ACCESS_KEY"]


@pytest.fixture
def bucket(s3_server: S3Server) -> str:
    return s3_server.new_bucket()


def _store(server: S3Server, bucket: str, prefix: str = "certificates") -> BlobStore:
    return blob_store_from_url(server.store_url(bucket, prefix))


def test_put_get_exists_delete_round_trip_on_the_server(
    s3_server: S3Server, bucket: str, s3_credentials: dict[str, str]
) -> None:
    store = _store(s3_server, bucket)
    content = bytes(range(256)) * 4096  # 1 MiB, every byte value
    assert not store.exists(KEY)
    store.put(KEY, content)
    assert store.exists(KEY) and store.get(KEY) == content
    store.put(KEY, b"replaced")
    assert store.get(KEY) == b"replaced"
    assert store.delete(KEY) is True
    assert not store.exists(KEY)
    with pytest.raises(BlobNotFound):
        store.get(KEY)
    assert store.delete(KEY) is False


def test_objects_live_under_the_prefix_on_the_server(
    s3_server: S3Server, bucket: str, s3_credentials: dict[str, str]
) -> None:
    _store(s3_server, bucket, prefix="prod/certificates").put(KEY, b"x")
    assert [key for key, _ in s3_server.everything_in(bucket)] == [f"prod/certificates/{KEY}"]


def test_delete_leaves_nothing_of_the_object_on_the_server(
    s3_server: S3Server, bucket: str, s3_credentials: dict[str, str]
) -> None:
    store = _store(s3_server, bucket)
    store.put(KEY, b"ciphertext")
    store.put(NEIGHBOUR, b"another certificate")
    assert store.delete(KEY)
    assert s3_server.everything_in(bucket) == [(f"certificates/{NEIGHBOUR}", "null")]


def test_delete_removes_every_version_and_marker_on_a_versioned_bucket(
    s3_server: S3Server, s3_credentials: dict[str, str]
) -> None:
    bucket = s3_server.new_bucket(versioned=True)
    store = _store(s3_server, bucket)
    store.put(KEY, b"first")
    store.put(KEY, b"second")
    store.put(NEIGHBOUR, b"another certificate")
    s3_server.client().delete_object(Bucket=bucket, Key=f"certificates/{KEY}")  # a marker
    store.put(KEY, b"third")
    assert len([k for k, _ in s3_server.everything_in(bucket) if k.endswith(KEY)]) == 4
    assert store.delete(KEY)
    assert [k for k, _ in s3_server.everything_in(bucket)] == [f"certificates/{NEIGHBOUR}"]


def test_versioning_switched_on_after_start_is_still_shredded(
    s3_server: S3Server, bucket: str, s3_credentials: dict[str, str]
) -> None:
    store = _store(s3_server, bucket)  # one long-lived store, as in a running server
    store.put(KEY, b"before")
    assert store.delete(KEY)
    s3_server.client().put_bucket_versioning(
        Bucket=bucket, VersioningConfiguration={"Status": "Enabled"}
    )
    store.put(KEY, b"first")
    store.put(KEY, b"second")
    assert store.delete(KEY)
    assert s3_server.everything_in(bucket) == []


def test_a_missing_bucket_is_named_in_a_plain_error(
    s3_server: S3Server, s3_credentials: dict[str, str]
) -> None:
    store = _store(s3_server, "sceau-no-such-bucket")
    with pytest.raises(BlobStoreUnavailable, match="has no bucket 'sceau-no-such-bucket'"):
        store.put(KEY, b"x")


def test_a_server_that_went_down_gives_blob_store_unavailable_without_secrets(
    tmp_path: Path, s3_credentials: dict[str, str]
) -> None:
    server = start_s3_server(tmp_path)
    try:
        bucket = server.new_bucket()
        store = _store(server, bucket)
        store.put(KEY, b"ciphertext")
    finally:
        server.stop()
    assert not server.answers()
    for attempt in (
        lambda: store.get(KEY),
        lambda: store.put(KEY, b"x"),
        lambda: store.delete(KEY),
        lambda: store.exists(KEY),
    ):
        with pytest.raises(BlobStoreUnavailable, match="Could not reach S3 at") as caught:
            attempt()
        message = str(caught.value)
        assert server.endpoint_url in message and "down or unreachable" in message
        assert SECRET not in message and S3_ENVIRONMENT["AWS_ACCESS_KEY_ID"] not in message
        assert caught.value.__cause__ is None  # botocore's own text is not carried along
    assert SECRET not in repr(store)


def test_no_credentials_at_all_is_said_plainly(
    s3_server: S3Server,
    bucket: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    s3_credentials: dict[str, str],
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    store = _store(s3_server, bucket)
    with pytest.raises(BlobStoreUnavailable, match=r"No S3 credentials .* AWS_ACCESS_KEY_ID"):
        store.put(KEY, b"x")


# --- the store URL --------------------------------------------------------------------


def test_the_url_carries_endpoint_and_region() -> None:
    location = S3Location.from_url(
        "s3://certs/prod/certificates?endpoint=https://s3.fr-par.example.net:9000&region=fr-par"
    )
    assert location == S3Location(
        bucket="certs",
        prefix="/prod/certificates",
        endpoint_url="https://s3.fr-par.example.net:9000",
        region="fr-par",
    )
    assert S3Location.from_url("s3://certs") == S3Location(bucket="certs")


def test_the_built_client_uses_the_urls_endpoint_and_region(s3_credentials: dict[str, str]) -> None:
    store = blob_store_from_url("s3://certs/x?endpoint=http://127.0.0.1:9&region=eu-west-3")
    assert isinstance(store, S3BlobStore)
    assert store._client.meta.endpoint_url == "http://127.0.0.1:9"
    assert store._client.meta.region_name == "eu-west-3"
    assert store._client.meta.config.s3 == {"addressing_style": "path"}  # no DNS per bucket


@pytest.mark.parametrize(
    "url",
    [
        f"s3://AKIAEXAMPLE:{SECRET}@certs/x",
        f"s3://certs/x?endpoint=https://AKIAEXAMPLE:{SECRET}@s3.example.net",
    ],
    ids=["credentials_in_the_url", "credentials_in_the_endpoint"],
)
def test_credentials_in_the_url_are_refused_without_being_echoed(url: str) -> None:
    with pytest.raises(InvalidStoreUrl, match="no credentials") as caught:
        blob_store_from_url(url)
    assert SECRET not in str(caught.value) and "AKIAEXAMPLE" not in str(caught.value)


@pytest.mark.parametrize(
    "url",
    [
        "s3://certs/x?endpoint=ftp://s3.example.net",
        "s3://certs/x?endpoint=",
        "s3://certs/x?bucket_policy=open",
        "s3://certs/x?region=a&region=b",
        "s3://certs/x?endpoint",
    ],
    ids=["endpoint_not_http", "endpoint_empty", "unknown_option", "option_twice", "no_value"],
)
def test_malformed_s3_urls_are_refused(url: str) -> None:
    with pytest.raises(InvalidStoreUrl):
        blob_store_from_url(url)
