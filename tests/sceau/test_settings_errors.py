"""A setting that cannot be used is named with what is wrong, never with the value given: a
mistyped password or key must not end up in a terminal, a log or a CI page."""

from __future__ import annotations

from pathlib import Path

import pytest

from sceau.settings import ConfigurationError, load_settings

SECRET = 987654321987  # a password typed as a number: not a string, so refused


def test_a_refused_setting_is_named_without_its_value(tmp_path: Path) -> None:
    config = tmp_path / "sceau.toml"
    config.write_text(f"[mail]\nsmtp_password = {SECRET}\n[wallet]\noffer_minutes = 0\n")
    with pytest.raises(ConfigurationError) as raised:
        load_settings(config)
    message = str(raised.value)
    assert "mail.smtp_password" in message and "wallet.offer_minutes" in message
    assert str(SECRET) not in message
    assert raised.value.__cause__ is None and raised.value.__suppress_context__
