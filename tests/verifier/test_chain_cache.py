"""Anchored roots are cached; revocation is always read fresh."""

from __future__ import annotations

from typing import Any

import pytest

import verifier.chain as chain_module
from contracts.client import RevocationReason, make_web3
from contracts.profile import IssuerProfile
from tests.conftest import AnvilChain
from tests.verifier.conftest import issue
from verifier.chain import ChainCache
from verifier.independent import verify_with_receipt
from verifier.report import Verdict


def test_second_check_asks_only_revocation_and_sees_a_fresh_revocation(
    issuer_pki: Any,
    anvil_chain: AnvilChain,
    issuer_profile: IssuerProfile,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []

    def counting_web3(rpc_url: str, *, http_timeout: float = 5.0) -> Any:
        web3 = make_web3(rpc_url, http_timeout=http_timeout)
        original = web3.provider.make_request

        def make_request(method: Any, params: Any) -> Any:
            calls.append(str(method))
            return original(method, params)

        web3.provider.make_request = make_request  # type: ignore[method-assign]
        return web3

    monkeypatch.setattr(chain_module, "make_web3", counting_web3)
    certificate = issue(issuer_pki, anvil_chain.client(anvil_chain.issuer))
    cache = ChainCache()

    def check() -> Verdict:
        return verify_with_receipt(
            certificate.pdf,
            certificate.receipt,
            rpc_url=anvil_chain.rpc_url,
            profile=issuer_profile,
            cache=cache,
        ).verdict

    assert check() is Verdict.VALID
    first = len(calls)
    calls.clear()
    assert check() is Verdict.VALID
    # One eth_call (revocationOf); no eth_getCode, no hasRole at the anchoring block.
    assert calls.count("eth_call") == 1 and set(calls) <= {"eth_call", "eth_chainId"}, calls
    assert first > len(calls)

    anvil_chain.client(anvil_chain.revoker).revoke(
        certificate.receipt.leaf, RevocationReason.HOLDER_REQUEST
    )
    assert check() is Verdict.REVOKED
