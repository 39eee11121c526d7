"""The profile a stranger holds must be the one the registry publishes (docs/profile.md, 4)."""

from __future__ import annotations

from typing import Any

import pytest

from contracts.client import RegistryClient, Role, deploy_registry, make_web3
from contracts.profile import IssuerProfile, PublishedProfile
from issuer.dev_pki import DevPki
from tests.conftest import AnvilChain
from tests.verifier.conftest import Issued, count_rpc_posts, issue, publish, publish_profile
from verifier.chain import ChainCache
from verifier.independent import verify_with_receipt
from verifier.report import CheckName, Verdict, VerificationReport
from verifier.rpc import DEFAULT_TIMEOUT

pytestmark = pytest.mark.chain


def verify(
    issued: Issued, chain: AnvilChain, profile: PublishedProfile, cache: ChainCache | None = None
) -> VerificationReport:
    return verify_with_receipt(
        issued.pdf, issued.receipt, rpc_url=chain.rpc_url, profile=profile, cache=cache
    )


def identity(report: VerificationReport) -> tuple[str, str]:
    check = report.check(CheckName.ISSUER_IDENTITY)
    assert check is not None
    return check.status.value, check.code


def renamed(profile: IssuerProfile, name: str) -> PublishedProfile:
    return PublishedProfile.of(profile.model_copy(update={"name": name}))


def test_the_current_profile_verifies_and_an_older_one_is_invalid(
    valid_certificate: Issued, anvil_chain: AnvilChain, issuer_profile: IssuerProfile
) -> None:
    older, current = renamed(issuer_profile, "Old name"), PublishedProfile.of(issuer_profile)
    publish(anvil_chain, older.profile)
    publish(anvil_chain, current.profile)

    assert verify(valid_certificate, anvil_chain, current).verdict is Verdict.VALID
    report = verify(valid_certificate, anvil_chain, older)

    assert report.verdict is Verdict.INVALID
    assert identity(report) == ("invalid", "profile_not_current")
    check = report.check(CheckName.ISSUER_IDENTITY)
    assert check is not None and check.details["current_sha256"] == current.sha256.hex()


def test_the_hash_is_of_the_bytes_held_not_of_a_reserialisation(
    valid_certificate: Issued, anvil_chain: AnvilChain, issuer_profile: IssuerProfile
) -> None:
    publish(anvil_chain, issuer_profile)
    respaced = PublishedProfile.from_bytes(issuer_profile.to_json().replace(b": ", b":  "))

    report = verify(valid_certificate, anvil_chain, respaced)

    assert identity(report) == ("invalid", "profile_not_current")


def test_a_registry_that_published_no_profile_cannot_decide(
    issuer_pki: DevPki, anvil_chain: AnvilChain, issuer_profile: IssuerProfile
) -> None:
    admin = anvil_chain.admin
    fresh = deploy_registry(
        make_web3(anvil_chain.rpc_url), admin, admin.address, poll_interval=0.05
    )
    client = RegistryClient.connect(
        rpc_url=anvil_chain.rpc_url,
        address=fresh.address,
        chain_id=anvil_chain.chain_id,
        account=admin,
        poll_interval=0.05,
    )
    client.grant_role(Role.ISSUER, anvil_chain.issuer.address)
    issuer = RegistryClient.connect(
        rpc_url=anvil_chain.rpc_url,
        address=fresh.address,
        chain_id=anvil_chain.chain_id,
        account=anvil_chain.issuer,
        poll_interval=0.05,
    )
    issued = issue(issuer_pki, issuer)
    profile = PublishedProfile.of(issuer_profile.model_copy(update={"contract": fresh.address}))

    report = verify(issued, anvil_chain, profile)

    assert report.verdict is Verdict.ERROR
    assert identity(report) == ("error", "profile_not_anchored")
    publish_profile(anvil_chain.rpc_url, admin, fresh.address, profile.profile)
    assert verify(issued, anvil_chain, profile).verdict is Verdict.VALID


def test_a_cached_check_still_asks_only_revocation(
    issuer_pki: DevPki, anvil_chain: AnvilChain, issuer_profile: IssuerProfile
) -> None:
    certificate = issue(issuer_pki, anvil_chain.client(anvil_chain.issuer))
    profile = PublishedProfile.of(issuer_profile)
    publish(anvil_chain, issuer_profile)
    cache = ChainCache()
    calls = count_rpc_posts(cache, anvil_chain.rpc_url)

    assert verify(certificate, anvil_chain, profile, cache).verdict is Verdict.VALID
    calls.clear()
    assert verify(certificate, anvil_chain, profile, cache).verdict is Verdict.VALID
    # The profile's hash is remembered for the node's TTL: only revocationOf is asked.
    assert calls == ["eth_call"], calls


class _Reverted:
    """The node's answer to a view the contract lacks: a JSON-RPC error (an injected fault)."""

    def __init__(self, request_id: object) -> None:
        self.request_id = request_id

    def json(self) -> object:
        error = {"code": 3, "message": "execution reverted"}
        return {"jsonrpc": "2.0", "id": self.request_id, "error": error}


def test_a_registry_without_current_profile_cannot_decide(
    valid_certificate: Issued, anvil_chain: AnvilChain, issuer_profile: IssuerProfile
) -> None:
    """An older registry has no currentProfile(): its revert is `profile_not_anchored`."""
    publish(anvil_chain, issuer_profile)
    cache = ChainCache()
    session = cache.node(anvil_chain.rpc_url, DEFAULT_TIMEOUT).session
    post = session.post

    def older_registry(url: str, **kwargs: Any) -> Any:
        body = kwargs["json"]
        if body["method"] == "eth_call" and body["params"][0]["data"] == "0x1140444c":
            return _Reverted(body["id"])
        return post(url, **kwargs)

    session.post = older_registry  # type: ignore[method-assign, assignment]

    report = verify(valid_certificate, anvil_chain, PublishedProfile.of(issuer_profile), cache)

    assert report.verdict is Verdict.ERROR
    assert identity(report) == ("error", "profile_not_anchored")
    anchoring = report.check(CheckName.ANCHORING)
    assert anchoring is not None and anchoring.code == "anchored"
