"""The candidate page offers the credential (QR code, link, transaction code) in French and
English, in Chromium; the offer it shows is one the npm wallet takes."""

from __future__ import annotations

import re
import time
from typing import Any

from tests.e2e.browsing import Visitor
from tests.e2e.conftest import LiveSceau, browser  # noqa: F401  (a module fixture)
from tests.wallet.conftest import WalletSceau, run_wallet

WORDS = {"fr": "Ajouter à mon portefeuille", "en": "Add to my wallet"}


def slow_encoder(route: Any) -> None:
    """The QR encoder module answers late, as on a loaded server or a slow phone link: the
    offer must not show before its QR code is drawn (it once did, with an empty image)."""
    time.sleep(0.5)
    route.continue_()


def test_the_candidate_page_offers_the_credential_in_both_languages(
    browser: Any,  # noqa: F811
    wallet_sceau: WalletSceau,
) -> None:
    live = LiveSceau(
        wallet_sceau.env, wallet_sceau.base_url, wallet_sceau.messages, wallet_sceau.clock
    )
    cert_id, key = wallet_sceau.certificate_id(0), wallet_sceau.link_key(0)
    offers: dict[str, tuple[str, str]] = {}
    for lang in ("fr", "en"):
        visitor = Visitor(browser, live, lang)
        if lang == "fr":
            visitor.page.route("**/vendor/qrcode/**", slow_encoder)
        assert visitor.goto(f"{live.base_url}/me/{cert_id}?lang={lang}#{key}") == 200
        visitor.page.get_by_role("button", name=WORDS[lang]).click()
        visitor.page.wait_for_selector("#wallet-offer-made:not([hidden])", timeout=30_000)
        link = str(visitor.page.get_attribute("#wallet-offer-link", "href"))
        tx_code = visitor.page.inner_text("#wallet-offer-tx-code").strip()
        qr = str(visitor.page.get_attribute("#wallet-offer-qr", "src"))
        assert link.startswith("openid-credential-offer://?credential_offer=")
        assert re.fullmatch(r"\d{6}", tx_code) and tx_code not in link
        assert qr.startswith("data:image/")
        assert not any(key in url for url in visitor.requests)  # the key went in a body only
        visitor.snapshot("wallet-offer")
        visitor.assert_same_origin_only()
        visitor.context.close()
        offers[lang] = (link, tx_code)

    link, tx_code = offers["en"]
    wallet = run_wallet(link, tx_code, wallet_sceau.settings.signing.trust_root, "level")
    assert "error" not in wallet, wallet
    assert wallet["report"]["verdict"] == "VALID" and list(wallet["report"]["disclosed"]) == [
        "level"
    ]
