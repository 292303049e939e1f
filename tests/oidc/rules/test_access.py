"""rules.access: live access-token claims, and what userinfo releases."""

from __future__ import annotations

from typing import Any

import pytest

from idp.model import UserStatus
from idp.oidc.rules import access
from tests.oidc.rules.records import EPOCH
from tests.oidc.rules.records import NOW
from tests.oidc.rules.records import person

LIVE = {"iss": "https://id", "exp": EPOCH + 1, "jti": "j", "sub": "sub-7", "scope": "openid email"}


@pytest.mark.parametrize(("change", "live"), [
    ({}, True), ({"iss": "https://other"}, False), ({"exp": EPOCH}, False), ({"exp": "later"}, False),
    ({"jti": None}, False),
])
def test_live_claims(change: dict[str, Any], live: bool) -> None:
    assert access.claims_live(LIVE | change, issuer="https://id", now=EPOCH) is live


def test_userinfo_needs_the_openid_scope() -> None:
    assert access.userinfo_allowed(LIVE)
    assert not access.userinfo_allowed(LIVE | {"scope": "email"})
    assert not access.userinfo_allowed({})


def test_userinfo_releases_the_scopes_and_named_claims_while_the_account_may_act() -> None:
    assert access.userinfo(LIVE, person(), base_url="https://id.example.com") == {"sub": "sub-7", "email": "ada@example.com", "email_verified": False}
    named = access.userinfo(LIVE | {"scope": "openid", "userinfo_claims": ["name"]}, person(locked_at=NOW), base_url="https://id.example.com")
    assert named == {"sub": "sub-7", "name": "Ada Lovelace"}
    assert access.userinfo(LIVE, person(status=UserStatus.DISABLED), base_url="https://id.example.com") is None
    assert access.userinfo(LIVE, None, base_url="https://id.example.com") is None
