"""One process cache shared by the threads of a server: concurrent openings all answer."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from contracts.profile import IssuerProfile
from issuer.dev_pki import DevPki
from tests.conftest import AnvilChain
from tests.verifier.conftest import issue
from tests.verifier.test_validation_cache import share_opener
from verifier.chain import ChainCache
from verifier.report import Verdict

pytestmark = pytest.mark.chain


def test_concurrent_openings_through_one_cache_are_all_valid(
    database_url: str,
    issuer_pki: DevPki,
    anvil_chain: AnvilChain,
    issuer_profile: IssuerProfile,
) -> None:
    issued = issue(issuer_pki, anvil_chain.client(anvil_chain.issuer))
    open_share = share_opener(database_url, issued, anvil_chain, issuer_profile, ChainCache())

    with ThreadPoolExecutor(max_workers=16) as pool:
        verdicts = list(pool.map(lambda _: open_share(), range(48)))

    assert verdicts == [Verdict.VALID] * 48
