"""A real Sceau server with the wallet routes, certificates issued to it, and the npm wallet."""

from __future__ import annotations

import email.utils
import json
import re
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlmodel import Session

from issuer.intake import read_results
from offchain_store.blobs import blob_store_from_url
from offchain_store.crypto import LinkKey
from offchain_store.records import make_engine
from offchain_store.shares import candidate_data_key
from offchain_store.wallet_offers import keep_wallet_claims
from sceau.settings import Settings, load_settings
from sceau.web import routes_status, routes_wallet
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


def with_wallet_routes(settings: Settings) -> FastAPI:
    """The app as `sceau serve` builds it, plus this module's routers (until app.py has them)."""
    app = create_app(settings)
    included = {getattr(r, "path", "") for r in app.routes}
    if "/.well-known/openid-credential-issuer" not in included:
        for router in routes_wallet.ROUTERS:
            app.include_router(router)
    if "/status/{issuer_id}" not in included:  # the status list (issue #15), also not yet in
        app.include_router(routes_status.public)
    return app


def seed_wallet_claims(settings: Settings, results: Path, messages: list[Delivered]) -> None:
    """What issuance will keep beside each certificate (issuer/storing.py, once it does): the
    content it signed, under the certificate's data key, opened here with the candidate key."""
    rows = {row.email: row for row in read_results(results, today=date.today()).rows}
    engine = make_engine(settings.database_url)
    blobs = blob_store_from_url(settings.blob_store_url)
    for message in messages:
        cert_id = message.receipt.certificate_id
        found = re.search(rf"/me/{cert_id}#([A-Za-z0-9_-]{{43}})", message.text)
        assert found
        with Session(engine) as session:
            data_key = candidate_data_key(session, cert_id, LinkKey.from_token(found.group(1)))
        address = email.utils.parseaddr(message.to)[1]
        content = rows[address].to_content(certificate_id=cert_id, issued_on=date.today())
        keep_wallet_claims(blobs, cert_id, content.model_dump_json().encode(), data_key)
    engine.dispose()


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
    seed_wallet_claims(settings, results, messages)
    app = with_wallet_routes(settings)
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
