"""rules.refresh: whether a presented refresh token stands, in the token endpoint's order."""

from __future__ import annotations

import datetime as dt

import pytest

from idp.model import UserStatus
from idp.oidc.rules import refresh
from idp.oidc.rules.refresh import Refusal
from tests.oidc.rules.records import NOW
from tests.oidc.rules.records import person
from tests.oidc.rules.records import refresh_row

HOUR = dt.timedelta(hours=1)


@pytest.mark.parametrize(("row", "client_id", "expected"), [
    (refresh_row(), "rp", None),
    (None, "rp", Refusal.UNKNOWN),
    (refresh_row(), "other", Refusal.UNKNOWN),
    (refresh_row(used_at=NOW - HOUR), "rp", Refusal.REUSED),
    (refresh_row(used_at=NOW - HOUR, revoked_at=NOW - HOUR), "rp", Refusal.DEAD),  # its family is revoked already
    (refresh_row(revoked_at=NOW - HOUR), "rp", Refusal.DEAD),
    (refresh_row(expires_at=NOW), "rp", Refusal.DEAD),
    (refresh_row(used_at=NOW - HOUR), "other", Refusal.UNKNOWN),  # another client learns nothing
])
def test_the_presented_token(row: object, client_id: str, expected: Refusal | None) -> None:
    assert refresh.presented(row, client_id, NOW) is expected  # type: ignore[arg-type]


@pytest.mark.parametrize(("requested", "expected"), [
    (None, "openid profile offline_access"),
    ("", "openid profile offline_access"),
    ("profile openid", "openid profile"),
    ("openid email", None),
])
def test_a_refresh_may_narrow_the_scope_never_widen_it(requested: str | None, expected: str | None) -> None:
    assert refresh.narrowed_scope("openid profile offline_access", requested) == expected


def test_a_locked_account_refreshes_a_disabled_or_deleted_one_does_not() -> None:
    assert refresh.account(person(locked_at=NOW)) is None
    assert refresh.account(person(status=UserStatus.DISABLED)) is Refusal.ACCOUNT
    assert refresh.account(None) is Refusal.ACCOUNT


def test_check_answers_the_scope_or_the_first_refusal() -> None:
    ada, disabled = person(), person(status=UserStatus.DISABLED)
    assert refresh.check(refresh_row(), "rp", ada, "openid", NOW) == "openid"
    assert refresh.check(refresh_row(), "rp", ada, None, NOW) == "openid profile offline_access"
    assert refresh.check(refresh_row(used_at=NOW), "rp", disabled, "email", NOW) is Refusal.REUSED
    assert refresh.check(refresh_row(), "rp", disabled, "email", NOW) is Refusal.SCOPE
    assert refresh.check(refresh_row(), "rp", disabled, None, NOW) is Refusal.ACCOUNT
