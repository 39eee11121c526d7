"""A real Sceau server with the wallet routes, certificates issued to it, and the npm wallet."""

from __future__ import annotations

import json
import re
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from offchain_store.blobs import blob_store_from_url
from offchain_store.wallet_offers import CLAIMS_BLOB_SUFFIX
from sceau.settings import Settings, load_settings
from sceau.web.app import create_app
from tests.conftest import SceauEnv
from tests.e2e.conftest import ServerClock
from tests.ports import free_port
from tests.sceau.helpers import Delivered, read_outbox, run_sceau, subset_of_sample

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


@pytest.fixture
def wallet_sceau(sceau_env: SceauEnv) -> Iterator[WalletSceau]:
    """Two certificates issued and delivered, served on a free port with the wallet routes."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    config = sceau_env.config_file
    config.write_text(config.read_text().replace('"https://certs.example.test"', f'"{base_url}"'))
    settings = load_settings(config)
    results = subset_of_sample(sceau_env.root / "results.csv", 2)
    done = run_sceau(config, "issue", str(results))
    assert done.returncode == 0, done.stderr
    messages = sorted(read_outbox(settings.mail.outbox), key=lambda m: m.receipt.certificate_id)
    issuance_kept_the_claims(settings, messages)
    app = create_app(settings)
    clock = ServerClock()
    app.state.sceau.now = clock.now
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield WalletSceau(sceau_env, settings, base_url, messages, clock)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


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
