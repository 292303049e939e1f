"""The offline common/breached password check (zxcvbn's frequency list, no network)."""

from __future__ import annotations

import pytest

from idp.foundation.breached import FrequencyListCheck
from idp.foundation.breached import NullCheck
from idp.security.center import SECURITY


@pytest.mark.parametrize("password", ["password", "123456", "Qwerty", "dragon", "Password123!", "monkey2024", "letmein!!"])
def test_common_and_leaked_passwords_are_caught(password):
    assert FrequencyListCheck().is_breached(password)


@pytest.mark.parametrize("password", ["correct horse battery", "a brand new passphrase", "tr0ub4dor&3x-zebra", "abc!"])
def test_uncommon_passwords_pass(password):
    assert not FrequencyListCheck().is_breached(password)


def test_the_null_twin_accepts_everything():
    assert not NullCheck().is_breached("password")


@pytest.fixture
def settings_overrides():
    return {"security": {"refuse_breached_passwords": False}}


def test_the_check_can_be_turned_off(services):
    assert isinstance(services.get(SECURITY).breached, NullCheck)
