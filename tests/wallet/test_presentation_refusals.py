"""Sceau's verifier refuses a presentation that was changed, replayed or meant for another."""

from __future__ import annotations

import json
from typing import Any

import httpx

from tests.wallet.conftest import WalletSceau
from tests.wallet.python_wallet import PythonWallet, b64url, disclosure, unb64url


def _binding(wallet_sceau: WalletSceau) -> dict[str, Any]:
    return dict(httpx.get(f"{wallet_sceau.base_url}/api/v1/presentations/nonce").json())


def _verify(wallet_sceau: WalletSceau, presentation: str) -> dict[str, Any]:
    answer = httpx.post(
        f"{wallet_sceau.base_url}/api/v1/presentations", json={"presentation": presentation}
    )
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def _code_of(report: dict[str, Any], check: str) -> str:
    return next(str(c["code"]) for c in report["checks"] if c["name"] == check)


def test_changed_replayed_or_misdirected_presentations_are_refused(
    wallet_sceau: WalletSceau,
) -> None:
    wallet = PythonWallet(wallet_sceau.base_url)
    credential = wallet.receive(wallet_sceau.offer(0))
    issuer_jwt, *disclosures = credential.rstrip("~").split("~")
    by_name = {json.loads(unb64url(d))[1]: d for d in disclosures}
    binding = _binding(wallet_sceau)

    honest = wallet.present(credential, {"level", "exam"}, **binding_of(binding))
    report = _verify(wallet_sceau, honest)
    assert report["verdict"] == "VALID", report
    assert set(report["disclosed"]) == {"level", "exam"}
    replayed = _verify(wallet_sceau, honest)
    assert replayed["verdict"] == "INVALID"
    assert _code_of(replayed, "key_binding") == "key_binding_wrong_nonce"

    salt, _name, level = json.loads(unb64url(by_name["level"]))
    higher = "C2" if level != "C2" else "C1"
    changed = issuer_jwt + "~" + disclosure(salt, "level", higher) + "~"
    report = _verify(wallet_sceau, wallet.bind(changed, **binding_of(_binding(wallet_sceau))))
    assert report["verdict"] == "INVALID" and report["disclosed"] == {}
    assert _code_of(report, "disclosures") == "disclosure_unreferenced"

    elsewhere = wallet.present(
        credential, {"level"}, audience="https://another-verifier.example", nonce=binding["nonce"]
    )
    report = _verify(wallet_sceau, elsewhere)
    assert _code_of(report, "key_binding") == "key_binding_wrong_audience"

    unbound = issuer_jwt + "~" + by_name["level"] + "~"
    assert _code_of(_verify(wallet_sceau, unbound), "key_binding") == "key_binding_missing"

    header, payload, signature = issuer_jwt.split(".")
    claims = json.loads(unb64url(payload))
    claims["vct_note"] = "added"
    forged = ".".join((header, b64url(json.dumps(claims).encode()), signature))
    report = _verify(wallet_sceau, wallet.bind(forged + "~", **binding_of(_binding(wallet_sceau))))
    assert _code_of(report, "issuer_signature") == "issuer_signature_invalid"


def binding_of(binding: dict[str, Any]) -> dict[str, str]:
    return {"audience": str(binding["audience"]), "nonce": str(binding["nonce"])}
