"""Staged content is sealed to its record and field under the staging secret."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from offchain_store.errors import DecryptionFailed
from offchain_store.staging import StagingVault

VAULT = StagingVault("a staging secret for tests")


@given(st.text())
def test_seal_open_round_trip(text: str) -> None:
    sealed = VAULT.seal(text, record_id="ab" * 16, field="content")
    assert VAULT.open(sealed, record_id="ab" * 16, field="content") == text


def test_sealed_text_does_not_show_and_is_bound_to_record_field_and_secret() -> None:
    sealed = VAULT.seal("Łukasz Żółć", record_id="r1", field="content")
    assert "ukasz" not in sealed
    with pytest.raises(DecryptionFailed):
        VAULT.open(sealed, record_id="r2", field="content")
    with pytest.raises(DecryptionFailed):
        VAULT.open(sealed, record_id="r1", field="link")
    with pytest.raises(DecryptionFailed):
        StagingVault("another secret of enough length").open(
            sealed, record_id="r1", field="content"
        )


def test_short_secret_refused_and_repr_hides_it() -> None:
    with pytest.raises(ValueError, match="16 characters"):
        StagingVault("short")
    assert "secret for tests" not in repr(VAULT)
