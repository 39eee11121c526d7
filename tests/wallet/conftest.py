"""A real Sceau server with the wallet routes, certificates issued to it, and the npm wallet."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from offchain_store.blobs import blob_store_from_url
from offchain_store.wallet_offers import CLAIMS_BLOB_SUFFIX
from sceau.settings import Settings
from tests.conftest import SceauEnv
from tests.e2e.conftest import ServedBatch, ServerClock, serving, tests_asking
from tests.sceau.helpers import Delivered

REPO = Path(__file__).parents[2]
WALLET_SCRIPT = Path(__file__).parent / "wallet.mjs"


@dataclass(frozen=True)
class WalletSceau:
    env: SceauEnv
    settings: Settings
    base_url: str
    messages: list[Delivered]
    clock: ServerClock

    def link_key(self, index: int) -> str:
        message = self.messages[index]
        cert_id = message.receipt.certificate_id
        found = re.search(rf"/me/{cert_id}#([A-Za-z0-9_-]{{43}})", message.text)
        assert found, "no candidate link in the message"
        return found.group(1)

    def certificate_id(self, index: int) -> str:
        return self.messages[index].receipt.certificate_id

    def offer(self, index: int) -> dict[str, Any]:
        """The candidate asks for a wallet offer, the link key in the body."""
        answer = httpx.post(
            f"{self.base_url}/api/v1/me/{self.certificate_id(index)}/wallet-offer",
            json={"key": self.link_key(index)},
        )
        assert answer.status_code == 201, answer.text
        return dict(answer.json())


def issuance_kept_the_claims(settings: Settings, messages: list[Delivered]) -> None:
    """Issuance itself keeps each certificate's wallet claims beside it (issuer/storing.py):
    nothing is seeded here, so a wallet test fails if issuance stops doing it."""
    blobs = blob_store_from_url(settings.blob_store_url)
    missing = [
        m.receipt.certificate_id
        for m in messages
        if not blobs.exists(m.receipt.certificate_id + CLAIMS_BLOB_SUFFIX)
    ]
    assert not missing, f"issuance kept no wallet claims for {missing}"


CERTIFICATES_PER_TEST = 2


@pytest.fixture(scope="module")
def wallet_batch(
    request: pytest.FixtureRequest, module_sceau_env: SceauEnv
) -> Iterator[ServedBatch]:
    """One issuance and one server with the wallet routes for the module's `wallet_sceau` tests,
    on SQLite then on PostgreSQL."""
    count = CERTIFICATES_PER_TEST * tests_asking(request, "wallet_sceau", module_sceau_env)
    with serving(module_sceau_env, count) as served:
        issuance_kept_the_claims(served.settings, served.messages)
        yield served


@pytest.fixture
def wallet_sceau(wallet_batch: ServedBatch) -> WalletSceau:
    """Two certificates issued and delivered that no other test has had, on the module's server
    (its clock is shared: a test that moves it puts it back)."""
    served = wallet_batch
    return WalletSceau(
        served.env,
        served.settings,
        served.base_url,
        served.take(CERTIFICATES_PER_TEST),
        served.clock,
    )


def run_wallet(
    offer_uri: str, tx_code: str | None, root_pem: Path, claims: str, audience: str = ""
) -> dict[str, Any]:
    """The npm wallet, as another party would run it."""
    args = [str(WALLET_SCRIPT), offer_uri, tx_code or "-", str(root_pem), claims]
    if audience:
        args.append(audience)
    done = subprocess.run(
        ["node", *args], cwd=REPO, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))
