"""The wallet's policy comes from the settings (`[wallet]`, SCEAU_WALLET__*), bounds checked."""

from __future__ import annotations

from pathlib import Path

import pytest

from issuer.oid4vci import WalletPolicy
from sceau.settings import ConfigurationError, WalletSettings, load_settings


def config(tmp_path: Path, wallet: str) -> Path:
    path = tmp_path / "sceau.toml"
    path.write_text('issuer_id = "wallet-centre"\n\n[wallet]\n' + wallet)
    return path


@pytest.fixture(autouse=True)
def no_wallet_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only what a test sets: no SCEAU_WALLET__* left over from the caller's shell."""
    for name in ("OFFER_MINUTES", "TOKEN_MINUTES", "NONCE_MINUTES", "TX_CODE", "TX_CODE_ATTEMPTS"):
        monkeypatch.delenv(f"SCEAU_WALLET__{name}", raising=False)


def test_the_defaults_are_the_documented_ones() -> None:
    wallet = load_settings().wallet
    assert (wallet.offer_minutes, wallet.token_minutes, wallet.nonce_minutes) == (10, 5, 5)
    assert wallet.tx_code is True
    assert wallet.tx_code_attempts == 5


def test_the_wallet_section_is_read_from_the_toml_file(tmp_path: Path) -> None:
    path = config(
        tmp_path,
        "offer_minutes = 30\ntoken_minutes = 2\nnonce_minutes = 3\n"
        "tx_code = false\ntx_code_attempts = 3\n",
    )
    wallet = load_settings(path).wallet
    assert wallet == WalletSettings(
        offer_minutes=30, token_minutes=2, nonce_minutes=3, tx_code=False, tx_code_attempts=3
    )


def test_environment_variables_override_the_toml_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = config(tmp_path, "offer_minutes = 30\ntx_code = true\n")
    monkeypatch.setenv("SCEAU_WALLET__OFFER_MINUTES", "45")
    monkeypatch.setenv("SCEAU_WALLET__TX_CODE", "false")
    monkeypatch.setenv("SCEAU_WALLET__TX_CODE_ATTEMPTS", "2")
    wallet = load_settings(path).wallet
    assert (wallet.offer_minutes, wallet.tx_code, wallet.tx_code_attempts) == (45, False, 2)
    assert wallet.token_minutes == 5  # untouched: the default


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ("offer_minutes = 0", "offer_minutes"),
        ("offer_minutes = 1441", "offer_minutes"),
        ("token_minutes = -5", "token_minutes"),
        ("nonce_minutes = 100000", "nonce_minutes"),
        ("tx_code_attempts = 0", "tx_code_attempts"),
        ("tx_code_attempts = 21", "tx_code_attempts"),
        ('tx_code = "sometimes"', "tx_code"),
        ("offer_minute = 10", "offer_minute"),  # a misspelt setting is not ignored
    ],
)
def test_a_bad_wallet_setting_in_the_file_is_refused_by_name(
    tmp_path: Path, line: str, field: str
) -> None:
    with pytest.raises(ConfigurationError, match=rf"wallet\.{field}\b"):
        load_settings(config(tmp_path, line + "\n"))


def test_a_bad_wallet_setting_in_the_environment_is_refused_by_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SCEAU_WALLET__TOKEN_MINUTES", "0")
    with pytest.raises(ConfigurationError, match=r"wallet\.token_minutes"):
        load_settings()


def test_the_bounds_themselves_are_accepted(tmp_path: Path) -> None:
    path = config(tmp_path, "offer_minutes = 1440\ntoken_minutes = 1\ntx_code_attempts = 20\n")
    wallet = load_settings(path).wallet
    assert (wallet.offer_minutes, wallet.token_minutes, wallet.tx_code_attempts) == (1440, 1, 20)


def test_the_policy_is_built_from_the_settings_values(tmp_path: Path) -> None:
    path = config(tmp_path, "offer_minutes = 20\ntx_code = false\ntx_code_attempts = 2\n")
    settings = load_settings(path)
    wallet = settings.wallet
    policy = WalletPolicy.for_issuer(
        "https://certs.example.test/",
        offer_minutes=wallet.offer_minutes,
        token_minutes=wallet.token_minutes,
        nonce_minutes=wallet.nonce_minutes,
        tx_code=wallet.tx_code,
        tx_code_attempts=wallet.tx_code_attempts,
    )
    assert policy.issuer_url == "https://certs.example.test"  # the issuer identifier: no slash
    assert (policy.offer_minutes, policy.token_minutes, policy.nonce_minutes) == (20, 5, 5)
    assert (policy.tx_code, policy.tx_code_attempts) == (False, 2)


@pytest.mark.parametrize(
    "values",
    [
        {"offer_minutes": 0},
        {"token_minutes": -1},
        {"nonce_minutes": 0},
        {"tx_code_attempts": 0},
        {"issuer_url": "https://certs.example.test/"},
        {"issuer_url": ""},
    ],
)
def test_a_policy_that_could_not_work_cannot_be_built(values: dict[str, object]) -> None:
    fields: dict[str, object] = {"issuer_url": "https://certs.example.test", **values}
    with pytest.raises(ValueError, match="wallet policy"):
        WalletPolicy(**fields)  # type: ignore[arg-type]
