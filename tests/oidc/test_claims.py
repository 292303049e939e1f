"""Pure rules: acr from amr, the claims request parameter, claims per scope."""

from __future__ import annotations

import datetime as dt

import pytest

from idp.errors import ValidationError
from idp.model import User
from idp.model import UserStatus
from idp.oidc import claims


def _user(**values: object) -> User:
    now = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    base = {"id": 1, "subject": "sub-1", "email": "ada@example.com", "display_name": "Ada", "password_hash": None,
            "status": UserStatus.ACTIVE, "locale": "fr", "lockout_threshold": 10, "locked_at": None,
            "created_at": now, "updated_at": now}
    return User(**(base | values))  # type: ignore[arg-type]


def test_acr_tells_how_the_session_was_authenticated() -> None:
    assert claims.acr_for(["pwd"]) == claims.ACR_PASSWORD
    assert claims.acr_for(["hwk", "mfa", "pwd"]) == claims.ACR_MFA
    assert claims.acr_for(["fed"]) == claims.ACR_FEDERATED
    assert claims.acr_for(["fed", "mfa"]) == claims.ACR_MFA


def test_claims_by_scope_and_by_name() -> None:
    user = _user()
    assert claims.released(user, "openid") == {"sub": "sub-1"}
    profile = claims.released(user, "openid profile")
    assert profile["name"] == "Ada" and profile["locale"] == "fr" and "email" not in profile
    assert claims.released(user, "openid", ["email", "unknown"]) == {"sub": "sub-1", "email": "ada@example.com"}
    assert "phone_number" not in claims.released(user, "openid phone")


def test_claims_parameter_parsing() -> None:
    assert claims.parse_claims_request(None) == {}
    parsed = claims.parse_claims_request('{"id_token": {"email": {"essential": true}, "bogus": null}, "userinfo": {"name": null}}')
    assert parsed == {"id_token": ["email"], "userinfo": ["name"]}
    for bad in ("x", "[]", '{"id_token": []}', "{" * 5000):
        with pytest.raises(ValidationError):
            claims.parse_claims_request(bad)
