"""The credential carries the status list; a suspended certificate is neither issued nor VALID."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from contracts.client import Role
from issuer.suspension import suspend_now
from sceau.suspension_commands import suspensions
from tests.wallet.conftest import WalletSceau, run_wallet
from tests.wallet.python_wallet import PythonWallet, offer_code


def test_suspension_stops_issuance_and_shows_in_presentations_and_the_list(
    wallet_sceau: WalletSceau,
) -> None:
    wallet = PythonWallet(wallet_sceau.base_url)
    cert_id = wallet_sceau.certificate_id(1)
    held = wallet.receive(wallet_sceau.offer(1))  # before any suspension

    admin = wallet_sceau.env.chain.client(wallet_sceau.env.chain.admin)
    revoker = wallet_sceau.env.chain.revoker.address
    if not admin.has_role(Role.SUSPENDER, revoker):  # the revoking account suspends too
        admin.grant_role(Role.SUSPENDER, revoker)
    suspend_now(
        suspensions(wallet_sceau.settings),
        cert_id,
        reason="inquiry",
        note="result under review",
        actor="test",
        now=datetime.now(UTC),
    )

    offer = wallet_sceau.offer(1)
    token = wallet.token(offer_code(offer["offer_uri"]), offer["tx_code"]).json()["access_token"]
    refused = wallet.credential(token, wallet.proof(wallet.nonce()))
    assert refused.status_code == 403 and refused.json()["code"] == "certificate_suspended"

    binding = httpx.get(f"{wallet_sceau.base_url}/api/v1/presentations/nonce").json()
    presented = wallet.present(
        held, {"level"}, audience=binding["audience"], nonce=binding["nonce"]
    )
    report = httpx.post(
        f"{wallet_sceau.base_url}/api/v1/presentations", json={"presentation": presented}
    ).json()
    assert report["verdict"] == "SUSPENDED", report

    other = wallet_sceau.offer(0)
    root = wallet_sceau.settings.signing.trust_root
    npm = run_wallet(other["offer_uri"], other["tx_code"], root, "level,language")
    assert "error" not in npm, npm
    status = npm["verified_claims"]["status"]["status_list"]
    assert status["uri"] == f"{wallet_sceau.base_url}/status/test-centre"
    assert npm["status"] == 0  # the npm wallet read its own slot: valid
    assert npm["report"]["verdict"] == "VALID", npm["report"]
