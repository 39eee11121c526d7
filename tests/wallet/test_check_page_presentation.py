"""The check page takes an SD-JWT VC presentation, in French and English, in Chromium: it hands
out the nonce and audience a wallet binds its presentation to, then shows the report with
exactly the claims disclosed; a changed or replayed presentation is refused, said in words."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from joserfc.jwk import ECKey

from issuer.wallet_credential import CLAIM_LABELS
from sceau.web.i18n import Translator
from tests.e2e.browsing import RAW_CODE, Visitor
from tests.e2e.conftest import LiveSceau, browser  # noqa: F401  (a module fixture)
from tests.wallet.conftest import REPO, WalletSceau, run_wallet
from tests.wallet.python_wallet import PythonWallet, disclosure, unb64url
from verifier.presentation_report import WALLET_MESSAGES

PRESENT_SCRIPT = Path(__file__).parent / "present.mjs"
SHOWN = ("level", "language")


def npm_present(wallet: dict[str, Any], audience: str, nonce: str, claims: tuple[str, ...]) -> str:
    """@sd-jwt/sd-jwt-vc presents `claims` of the credential the npm wallet received."""
    given = {
        "credential": wallet["credential"],
        "holder_private_jwk": wallet["holder_private_jwk"],
        "audience": audience,
        "nonce": nonce,
        "claims": list(claims),
    }
    done = subprocess.run(
        ["node", str(PRESENT_SCRIPT)],
        input=json.dumps(given),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def changed_level(wallet: dict[str, Any], audience: str, nonce: str) -> str:
    """Level and language, the level's value changed, bound again with the holder's own key:
    only the disclosure is wrong."""
    issuer_jwt, *disclosures = str(wallet["credential"]).rstrip("~").split("~")
    by_name = {json.loads(unb64url(d))[1]: d for d in disclosures}
    salt, _name, level = json.loads(unb64url(by_name["level"]))
    forged = disclosure(salt, "level", "C2" if level != "C2" else "C1")
    presented = f"{issuer_jwt}~{forged}~{by_name['language']}~"
    holder = PythonWallet("", key=ECKey.import_key(wallet["holder_private_jwk"]))
    return holder.bind(presented, audience, nonce)


def ask_binding(visitor: Visitor) -> tuple[str, str]:
    """The employer asks the page for a nonce; it shows a new one and the audience."""
    page = visitor.page
    before = page.input_value("#presentation-nonce")
    page.get_by_role("button", name=visitor.words("presentation.request_button")).click()
    page.wait_for_function(
        "old => { const n = document.getElementById('presentation-nonce').value;"
        " return n !== '' && n !== old; }",
        arg=before,
        timeout=30_000,
    )
    assert page.inner_text("#presentation-expires").strip()
    return page.input_value("#presentation-nonce"), page.input_value("#presentation-audience")


def check(visitor: Visitor, presentation: str, code: str) -> None:
    """Paste, check, and wait for the report to say the words of `code`."""
    page = visitor.page
    page.fill("#presentation-text", presentation)
    page.get_by_role("button", name=visitor.words("presentation.check_button")).click()
    page.wait_for_function(
        "expected => document.getElementById('checks').innerText.includes(expected)",
        arg=words_of(code, visitor.lang),
        timeout=30_000,
    )


def words_of(code: str, lang: str) -> str:
    message = WALLET_MESSAGES[code]
    return message.fr if lang == "fr" else message.en


def disclosed(visitor: Visitor) -> dict[str, str]:
    names = visitor.page.locator("#disclosed-claims dt").all_inner_texts()
    values = visitor.page.locator("#disclosed-claims dd").all_inner_texts()
    return dict(zip(names, values, strict=True))


def test_the_check_page_checks_a_presentation_in_both_languages(
    browser: Any,  # noqa: F811
    wallet_sceau: WalletSceau,
) -> None:
    live = LiveSceau(
        wallet_sceau.env, wallet_sceau.base_url, wallet_sceau.messages, wallet_sceau.clock
    )
    offer = wallet_sceau.offer(0)
    root = wallet_sceau.settings.signing.trust_root
    wallet = run_wallet(offer["offer_uri"], offer["tx_code"], root, "level")
    assert "error" not in wallet, wallet
    claims = wallet["verified_claims"]
    withheld = [str(claims[name]) for name in ("name", "birthdate", "candidate_number")]

    for lang in ("fr", "en"):
        t = Translator(lang)
        visitor = Visitor(browser, live, lang)
        assert visitor.goto(f"{live.base_url}/check?lang={lang}") == 200
        nonce, audience = ask_binding(visitor)
        assert audience == f"{live.base_url}/api/v1/presentations"

        presentation = npm_present(wallet, audience, nonce, SHOWN)
        check(visitor, presentation, "key_binding_valid")
        visitor.verdict_is("VALID")
        assert disclosed(visitor) == {t(f"claim.{name}"): str(claims[name]) for name in SHOWN}
        shown = visitor.page.inner_text("main")
        assert not any(value in shown for value in withheld)
        visitor.snapshot("check-presentation-valid")

        check(visitor, presentation, "key_binding_wrong_nonce")  # the same one, again
        visitor.verdict_is("INVALID")

        nonce, audience = ask_binding(visitor)
        check(visitor, changed_level(wallet, audience, nonce), "disclosure_unreferenced")
        visitor.verdict_is("INVALID")
        assert disclosed(visitor) == {}
        assert visitor.page.is_visible("#disclosed-none")
        assert "disclosure_unreferenced" not in visitor.page.inner_text("main")
        visitor.snapshot("check-presentation-changed")
        visitor.assert_same_origin_only()
        visitor.context.close()


def test_a_text_that_is_no_presentation_is_said_so(
    browser: Any,  # noqa: F811
    wallet_sceau: WalletSceau,
) -> None:
    live = LiveSceau(
        wallet_sceau.env, wallet_sceau.base_url, wallet_sceau.messages, wallet_sceau.clock
    )
    visitor = Visitor(browser, live, "en")
    assert visitor.goto(f"{live.base_url}/check?lang=en") == 200
    visitor.page.fill("#presentation-text", "   ")
    visitor.page.get_by_role("button", name=visitor.words("presentation.check_button")).click()
    visitor.verdict_is("ERROR")
    assert visitor.page.inner_text("#verdict-explain") == visitor.words("error.not_presentation")
    visitor.assert_no_raw_code("check-not-a-presentation")
    visitor.context.close()


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_every_claim_has_its_words_as_in_the_type_metadata(lang: str) -> None:
    t = Translator(lang)
    index = 0 if lang == "fr" else 1
    assert {name: t(f"claim.{name}") for name in CLAIM_LABELS} == {
        name: labels[index] for name, labels in CLAIM_LABELS.items()
    }
    assert not any(RAW_CODE.search(t(f"claim.{name}")) for name in CLAIM_LABELS)
