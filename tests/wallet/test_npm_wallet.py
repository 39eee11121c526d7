"""An independent wallet (npm) takes the credential from a real server and shows two claims."""

from __future__ import annotations

from tests.wallet.conftest import WalletSceau, run_wallet


def test_npm_wallet_receives_verifies_and_presents_level_and_language(
    wallet_sceau: WalletSceau,
) -> None:
    offer = wallet_sceau.offer(0)
    assert offer["tx_code"] and offer["tx_code"] not in offer["offer_uri"]
    root = wallet_sceau.settings.signing.trust_root

    wallet = run_wallet(offer["offer_uri"], offer["tx_code"], root, "level,language")

    assert "error" not in wallet, wallet
    claims = wallet["verified_claims"]
    assert claims["vct"].endswith("/credentials/types/sceau-certificate/v1")
    assert claims["cnf"]["jwk"]["kty"] == "EC"
    assert claims["name"] and claims["birthdate"]  # the wallet holds every claim
    report = wallet["report"]
    assert report["verdict"] == "VALID", report
    assert report["disclosed"] == {"level": claims["level"], "language": claims["language"]}
    codes = {c["name"]: c["code"] for c in report["checks"]}
    assert codes["disclosures"] == "disclosures_valid" and codes["anchoring"] == "anchored"
