"""One chain client per process: anchored roots are cached, revocation is always read fresh,
and an opening of a known root costs one JSON-RPC call."""

from __future__ import annotations

from typing import Any

from contracts.client import RevocationReason
from contracts.profile import IssuerProfile
from tests.conftest import AnvilChain
from tests.verifier.conftest import count_rpc_posts, issue
from verifier.chain import ChainCache
from verifier.independent import verify_with_receipt
from verifier.report import Verdict


def test_second_check_asks_only_revocation_and_sees_a_fresh_revocation(
    issuer_pki: Any, anvil_chain: AnvilChain, issuer_profile: IssuerProfile
) -> None:
    certificate = issue(issuer_pki, anvil_chain.client(anvil_chain.issuer))
    cache = ChainCache()
    calls = count_rpc_posts(cache, anvil_chain.rpc_url)

    def check() -> Verdict:
        return verify_with_receipt(
            certificate.pdf,
            certificate.receipt,
            rpc_url=anvil_chain.rpc_url,
            profile=issuer_profile,
            cache=cache,
        ).verdict

    assert check() is Verdict.VALID
    assert "eth_chainId" in calls and "eth_getTransactionReceipt" in calls, calls
    calls.clear()
    assert check() is Verdict.VALID
    # One eth_call (revocationOf): no eth_chainId, no eth_getCode, no hasRole at the block.
    assert calls == ["eth_call"], calls

    anvil_chain.client(anvil_chain.revoker).revoke(
        certificate.receipt.leaf, RevocationReason.HOLDER_REQUEST
    )
    calls.clear()
    assert check() is Verdict.REVOKED
    assert calls == ["eth_call"], calls


def test_one_client_per_node_is_kept_by_the_cache(anvil_chain: AnvilChain) -> None:
    cache = ChainCache()

    assert cache.node(anvil_chain.rpc_url, 5.0) is cache.node(anvil_chain.rpc_url, 5.0)
    assert cache.node(anvil_chain.rpc_url, 5.0).chain_id() == anvil_chain.chain_id
