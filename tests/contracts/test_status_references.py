"""Where a certificate's status list entry is: the receipt's optional `status` and the profile's
optional `status_list` (docs/receipt.md and docs/profile.md, section 1.1), checked strictly,
written canonically, and absent from every document made before them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from contracts.profile import InvalidProfile, IssuerProfile, PublishedProfile
from contracts.receipt import (
    STATUS_LIST_MAX_ENTRIES,
    InvalidReceipt,
    Receipt,
    StatusListReference,
    origin_of,
)

ASSETS = Path(__file__).parents[1] / "assets" / "receipts"
EXAMPLE = ASSETS / "example"
ACCEPTED = ASSETS / "accepted"
LIST_URI = "https://certs.ill.example.org/status/ill-lyon"


def example_receipt(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((EXAMPLE / "receipt.json").read_bytes())
    return document | changes


def example_profile(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((EXAMPLE / "profile.json").read_bytes())
    return document | changes


def referring(idx: Any = 48213, uri: Any = LIST_URI, **more: Any) -> dict[str, Any]:
    return {"status_list": {"idx": idx, "uri": uri, **more}}


# --- documents made before the status list keep their bytes -------------------------------------


def test_the_example_receipt_and_profile_keep_their_exact_bytes() -> None:
    """No `status: null` appears: the example profile's hash, anchored on chain, is unchanged."""
    for name, kind in (("receipt.json", Receipt), ("profile.json", IssuerProfile)):
        raw = (EXAMPLE / name).read_bytes()
        document = kind.from_json(raw)
        assert document.to_json() == raw, name
        assert b"status" not in document.to_json()
    profile = IssuerProfile.from_json((EXAMPLE / "profile.json").read_bytes())
    assert (
        PublishedProfile.of(profile).sha256.hex()
        in (ASSETS.parents[2] / "docs" / "profile.md").read_text()
    )


# --- the receipt ------------------------------------------------------------------------------


def test_a_receipt_with_a_status_reference_round_trips_canonically() -> None:
    raw = (ACCEPTED / "receipt_with_status.json").read_bytes()
    receipt = Receipt.from_json(raw)
    assert receipt.status is not None
    assert receipt.status.status_list == StatusListReference(idx=48213, uri=LIST_URI)
    assert receipt.to_json() == raw
    assert Receipt.from_json(receipt.to_json()) == receipt
    written = json.loads(receipt.to_json())
    assert written["status"] == {"status_list": {"idx": 48213, "uri": LIST_URI}}


@pytest.mark.parametrize("idx", [0, 1, STATUS_LIST_MAX_ENTRIES - 1], ids=["zero", "one", "largest"])
def test_every_index_below_the_limit_is_accepted(idx: int) -> None:
    receipt = Receipt.from_json(json.dumps(example_receipt(status=referring(idx))))
    assert receipt.status is not None and receipt.status.status_list.idx == idx


@pytest.mark.parametrize(
    "status,why",
    [
        (referring(-1), "greater than or equal to 0"),
        (referring(STATUS_LIST_MAX_ENTRIES), "less than 4294967296"),
        (referring("48213"), "valid integer"),
        (referring(48213.0), "valid integer"),
        (referring(True), "valid integer"),
        (referring(uri="https://status.example.net/status/ill-lyon"), "origin"),
        (referring(uri="https://certs.ill.example.org:8443/status/ill-lyon"), "origin"),
        (referring(uri="http://certs.ill.example.org/status/ill-lyon"), "pattern"),
        (referring(uri="https://user@certs.ill.example.org/status/x"), "pattern"),
        (referring(uri="https://certs.ill.example.org/status/x#frag"), "pattern"),
        (referring(uri="https://certs.ill.example.org"), "pattern"),
        (referring(bits=2), "bits"),
        ({"status_list": {"idx": 1}}, "uri"),
        ({**referring(), "status_bitstring": {}}, "status_bitstring"),
        ({}, "status_list"),
        (None, "leave the member out"),
        ([referring()], "status"),
    ],
    ids=[
        "idx_negative", "idx_too_large", "idx_as_string", "idx_as_float", "idx_true",
        "uri_other_origin", "uri_other_port", "uri_http_not_loopback", "uri_user_info",
        "uri_fragment", "uri_without_path", "unknown_member_in_status_list", "uri_missing",
        "unknown_member_in_status", "status_list_missing", "status_null", "status_an_array",
    ],
)  # fmt: skip
def test_a_broken_status_reference_makes_the_receipt_malformed(status: Any, why: str) -> None:
    with pytest.raises(InvalidReceipt, match=why):
        Receipt.from_json(json.dumps(example_receipt(status=status)))


@pytest.mark.parametrize(
    "uri",
    ["http://127.0.0.1:8123/status/centre", "http://localhost/status/centre"],
)
def test_plain_http_is_accepted_on_the_loopback_only(uri: str) -> None:
    issuer = {"name": "Centre", "profile_url": uri.split("/status/")[0] + "/profile"}
    document = example_receipt(issuer=issuer, status=referring(1, uri))
    receipt = Receipt.from_json(json.dumps(document))
    assert receipt.status is not None and receipt.status.status_list.uri == uri


def test_without_a_profile_url_the_origin_is_left_to_the_profile() -> None:
    issuer = {"name": "Centre", "profile_url": None}
    other = "https://status.example.net/status/centre"
    document = example_receipt(issuer=issuer, status=referring(uri=other))
    receipt = Receipt.from_json(json.dumps(document))
    assert receipt.status is not None
    profile = IssuerProfile.from_json((ACCEPTED / "profile_with_status_list.json").read_bytes())
    assert not profile.lists_status_of(receipt.status.status_list)


def test_a_status_reference_is_not_committed_by_the_leaf() -> None:
    """The leaf commits id, salt and PDF hash only: `status` may be added to a receipt already
    handed out, which is why the chain, not the list, decides a verdict (docs/status-list.md)."""
    plain = Receipt.from_json((EXAMPLE / "receipt.json").read_bytes())
    with_status = Receipt.from_json((ACCEPTED / "receipt_with_status.json").read_bytes())
    assert (plain.leaf, plain.root) == (with_status.leaf, with_status.root)


# --- the profile ------------------------------------------------------------------------------


def test_a_profile_with_a_status_list_round_trips_and_lists_the_receipts_entry() -> None:
    raw = (ACCEPTED / "profile_with_status_list.json").read_bytes()
    profile = IssuerProfile.from_json(raw)
    assert profile.status_list is not None
    assert (profile.status_list.uri, profile.status_list.bits) == (LIST_URI, 2)
    assert profile.to_json() == raw
    receipt = Receipt.from_json((ACCEPTED / "receipt_with_status.json").read_bytes())
    assert receipt.status is not None and profile.lists_status_of(receipt.status.status_list)
    elsewhere = StatusListReference(idx=1, uri=LIST_URI + "-old")
    assert not profile.lists_status_of(elsewhere)
    plain = IssuerProfile.from_json((EXAMPLE / "profile.json").read_bytes())
    assert not plain.lists_status_of(receipt.status.status_list)


@pytest.mark.parametrize(
    "status_list,why",
    [
        ({"uri": LIST_URI, "bits": 1}, "bits"),
        ({"uri": LIST_URI, "bits": "2"}, "bits"),
        ({"uri": LIST_URI}, "bits"),
        ({"uri": LIST_URI, "bits": 2, "ttl": 300}, "ttl"),
        ({"uri": "https://status.example.net/status/ill-lyon", "bits": 2}, "origin"),
        ({"uri": "http://certs.ill.example.org/status/ill-lyon", "bits": 2}, "pattern"),
        (None, "leave the member out"),
    ],
    ids=["bits_one", "bits_as_string", "bits_missing", "unknown_member", "other_origin",
         "http_not_loopback", "null"],
)  # fmt: skip
def test_a_broken_status_list_makes_the_profile_malformed(status_list: Any, why: str) -> None:
    with pytest.raises(InvalidProfile, match=why):
        IssuerProfile.from_json(json.dumps(example_profile(status_list=status_list)))


@pytest.mark.parametrize(
    "url,origin",
    [
        ("https://Certs.Example.org/status/x", "https://certs.example.org"),
        ("https://certs.example.org", "https://certs.example.org"),
        ("https://certs.example.org:8443/a?b", "https://certs.example.org:8443"),
        ("http://127.0.0.1:8000/.well-known/sceau-issuer.json", "http://127.0.0.1:8000"),
        ("https://certs.example.org?x=/y", "https://certs.example.org"),
    ],
)
def test_an_origin_is_the_scheme_and_authority_lowercased(url: str, origin: str) -> None:
    assert origin_of(url) == origin
