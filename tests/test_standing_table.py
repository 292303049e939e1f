"""The code's table (idp.standing) is decision 0609's, cell by cell."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from idp.model import User
from idp.model import UserStatus
from idp.standing import ALLOWED
from idp.standing import Act
from idp.standing import first_factor_act
from idp.standing import may
from idp.standing import standing
from tests.standing import EXPECTED
from tests.standing import STANDINGS

NOW = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
ADA = User(id=1, subject="s", email="ada@example.com", display_name="Ada", password_hash=None,
           status=UserStatus.ACTIVE, locale=None, lockout_threshold=10, locked_at=None, created_at=NOW, updated_at=NOW)
IN = {
    "active": ADA, "locked": dataclasses.replace(ADA, locked_at=NOW),
    "disabled": dataclasses.replace(ADA, status=UserStatus.DISABLED),
    "pending": dataclasses.replace(ADA, status=UserStatus.PENDING),
    "deleted": None,
}


def test_every_act_has_a_rule_and_the_rules_are_the_decision():
    assert {str(a) for a in Act} == set(EXPECTED)
    assert {str(a): {str(s) for s in allowed} for a, allowed in ALLOWED.items()} == EXPECTED


@pytest.mark.parametrize("act", sorted(EXPECTED))
@pytest.mark.parametrize("name", STANDINGS)
def test_each_cell(act, name):
    user = IN[name]
    assert standing(user) == name
    assert may(user, Act(act)) is (name in EXPECTED[act])


def test_a_disabled_account_that_is_also_locked_can_do_nothing():
    both = dataclasses.replace(ADA, status=UserStatus.DISABLED, locked_at=NOW)
    assert standing(both) == "disabled" and not any(may(both, act) for act in Act)


def test_a_pending_account_that_is_also_locked_can_do_nothing():
    both = dataclasses.replace(ADA, status=UserStatus.PENDING, locked_at=NOW)
    assert standing(both) == "pending" and not any(may(both, act) for act in Act)


def test_the_second_factor_is_judged_by_how_the_sign_in_began():
    assert first_factor_act(["pwd"]) is Act.PASSWORD
    assert first_factor_act(["fed", "pwd"]) is Act.SSO
    assert first_factor_act(["hwk", "user"]) is Act.PASSKEY
