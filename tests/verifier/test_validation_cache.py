"""Verification from what never changes: a PDF's signature is validated once per PDF, profile
and anchoring time, an opening of a known share costs one JSON-RPC call (revocation), and a
revocation is seen at the very next opening."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import verifier.checks.signature as signature_module
from contracts.client import RevocationReason
from contracts.profile import IssuerProfile
from issuer.dev_pki import DevPki
from offchain_store.blobs import InMemoryBlobStore
from offchain_store.records import create_schema, make_engine
from offchain_store.shares import create_share
from tests.conftest import AnvilChain
from tests.verifier.conftest import Issued, count_rpc_posts, issue
from tests.verifier.test_share_link import stored
from verifier.chain import ChainCache
from verifier.checks.signature import SignatureFinding
from verifier.independent import prefill_validation, verify_with_receipt
from verifier.report import CheckName, CheckResult, CheckStatus, Verdict
from verifier.share_link import VerificationContext, verify_share
from verifier.validation_cache import ValidationCache, ValidationKey

pytestmark = pytest.mark.chain
NOW = datetime.now(UTC)


@pytest.fixture
def validations(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """One entry per pyHanko signature validation run from now on."""
    runs: list[str] = []
    real = signature_module.validate_pdf_signature  # type: ignore[attr-defined]

    def counting(*args: Any, **kwargs: Any) -> Any:
        runs.append("validate_pdf_signature")
        return real(*args, **kwargs)

    monkeypatch.setattr(signature_module, "validate_pdf_signature", counting)
    return runs


def share_opener(
    database_url: str,
    issued: Issued,
    chain: AnvilChain,
    profile: IssuerProfile,
    cache: ChainCache,
) -> Callable[[], Verdict]:
    """A share of `issued` in a fresh store, opened each call through one process cache."""
    engine = make_engine(database_url)
    create_schema(engine)
    blobs = InMemoryBlobStore()
    candidate_key = stored(engine, blobs, issued)
    share, share_key = create_share(
        engine,
        certificate_id=issued.receipt.certificate_id,
        candidate_key=candidate_key,
        recipient="Employer",
        expires_at=NOW + timedelta(days=7),
        max_opens=None,
        now=NOW,
    )
    context = VerificationContext(
        engine=engine, blobs=blobs, rpc_url=chain.rpc_url, profile=profile, cache=cache
    )

    def open_it() -> Verdict:
        return verify_share(
            context, share_id=share.id, token=share_key.to_token(), now=NOW, client="t"
        ).report.verdict

    return open_it


def test_a_second_opening_validates_nothing_and_asks_only_revocation_which_stays_fresh(
    database_url: str,
    issuer_pki: DevPki,
    anvil_chain: AnvilChain,
    issuer_profile: IssuerProfile,
    validations: list[str],
) -> None:
    issued = issue(issuer_pki, anvil_chain.client(anvil_chain.issuer))
    cache = ChainCache()
    calls = count_rpc_posts(cache, anvil_chain.rpc_url)
    open_share = share_opener(database_url, issued, anvil_chain, issuer_profile, cache)

    assert open_share() is Verdict.VALID
    assert validations == ["validate_pdf_signature"]
    validations.clear()
    calls.clear()

    assert open_share() is Verdict.VALID
    assert validations == []
    assert calls == ["eth_call"], calls  # revocationOf, and nothing else

    anvil_chain.client(anvil_chain.revoker).revoke(issued.receipt.leaf, RevocationReason.FRAUD)
    calls.clear()
    assert open_share() is Verdict.REVOKED
    assert validations == [] and calls == ["eth_call"], calls


def test_a_changed_profile_or_another_pdf_is_validated_again(
    valid_certificate: Issued,
    signed_by_rogue_pki: Issued,
    anvil_chain: AnvilChain,
    issuer_profile: IssuerProfile,
    validations: list[str],
) -> None:
    cache = ChainCache()

    def verify(issued: Issued, profile: IssuerProfile) -> Verdict:
        return verify_with_receipt(
            issued.pdf, issued.receipt, rpc_url=anvil_chain.rpc_url, profile=profile, cache=cache
        ).verdict

    assert verify(valid_certificate, issuer_profile) is Verdict.VALID
    assert verify(valid_certificate, issuer_profile) is Verdict.VALID
    assert len(validations) == 1
    renamed = issuer_profile.model_copy(update={"name": issuer_profile.name + " (Lyon)"})
    assert verify(valid_certificate, renamed) is Verdict.VALID
    assert len(validations) == 2
    assert verify(signed_by_rogue_pki, issuer_profile) is Verdict.INVALID
    assert len(validations) == 3
    assert verify(signed_by_rogue_pki, issuer_profile) is Verdict.INVALID
    assert len(validations) == 3  # an INVALID signature is a fact about the bytes too
    assert len(cache.validations) == 3


def test_a_validation_prefilled_at_issuance_serves_the_first_opening(
    issuer_pki: DevPki,
    anvil_chain: AnvilChain,
    issuer_profile: IssuerProfile,
    validations: list[str],
) -> None:
    issued = issue(issuer_pki, anvil_chain.client(anvil_chain.issuer))
    cache = ChainCache()
    prefill_validation(
        cache.validations,
        issued.pdf,
        profile=issuer_profile,
        anchored_at=issued.receipt.anchored_at,
    )
    validations.clear()

    report = verify_with_receipt(
        issued.pdf, issued.receipt, rpc_url=anvil_chain.rpc_url, profile=issuer_profile, cache=cache
    )

    assert report.verdict is Verdict.VALID
    assert validations == []


def finding(status: CheckStatus) -> SignatureFinding:
    return SignatureFinding(CheckResult.of(CheckName.SIGNATURE, status, "signature_valid"), None)


def key(n: int) -> ValidationKey:
    return ValidationKey.of(
        n.to_bytes(4, "big"),
        profile_sha256=None,
        trust_roots=(),
        moment=NOW,
        moment_source="chain_anchoring_time",
    )


def test_the_store_is_bounded_and_keeps_no_undecided_finding() -> None:
    store = ValidationCache(max_entries=2)
    store.remember(key(1), finding(CheckStatus.VALID))
    store.remember(key(2), finding(CheckStatus.VALID))
    store.finding(key(1), lambda: pytest.fail("key 1 is kept"))
    store.remember(key(3), finding(CheckStatus.VALID))  # evicts 2, the least recently used

    assert len(store) == 2
    assert store.finding(key(2), lambda: finding(CheckStatus.INVALID)).result.status is (
        CheckStatus.INVALID
    )
    store.remember(key(4), finding(CheckStatus.ERROR))
    assert store.finding(key(4), lambda: finding(CheckStatus.VALID)).result.status is (
        CheckStatus.VALID
    )


def test_a_key_is_made_of_digests_and_an_aware_moment() -> None:
    with pytest.raises(ValueError):
        ValidationKey(bytes(31), None, bytes(32), NOW, "x")
    with pytest.raises(ValueError):
        ValidationKey(bytes(32), None, bytes(32), NOW.replace(tzinfo=None), "x")
