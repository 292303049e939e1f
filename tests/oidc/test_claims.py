"""Claims: acr from amr, the claims request parameter, claims per scope, and what discovery
advertises against what the provider returns."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from idp.errors import ValidationError
from idp.model import RequestContext
from idp.model import User
from idp.model import UserStatus
from idp.oidc import claims
from tests.e2e.audit_cast import portrait

CTX = RequestContext(ip="198.51.100.7")


BASE = "https://id.example.com"


def _user(**values: object) -> User:
    now = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    base = {"id": 1, "subject": "sub-1", "email": "ada@example.com", "display_name": "Ada", "password_hash": None,
            "status": UserStatus.ACTIVE, "locale": "fr", "lockout_threshold": 10, "locked_at": None,
            "created_at": now, "updated_at": now, "given_name": "Ada", "family_name": "Lovelace",
            "avatar_version": 7, "timezone": "Europe/London", "phone_number": "+441632960001"}
    return User(**(base | values))  # type: ignore[arg-type]


def test_acr_tells_how_the_session_was_authenticated() -> None:
    assert claims.acr_for(["pwd"]) == claims.ACR_PASSWORD
    assert claims.acr_for(["hwk", "mfa", "pwd"]) == claims.ACR_MFA
    assert claims.acr_for(["fed"]) == claims.ACR_FEDERATED
    assert claims.acr_for(["fed", "mfa"]) == claims.ACR_MFA


def test_claims_by_scope_and_by_name() -> None:
    user = _user()
    assert claims.released(user, "openid", base_url=BASE) == {"sub": "sub-1"}
    profile = claims.released(user, "openid profile", base_url=BASE)
    assert profile["name"] == "Ada" and profile["locale"] == "fr" and "email" not in profile
    assert claims.released(user, "openid", ["email", "unknown"], base_url=BASE) == {"sub": "sub-1", "email": "ada@example.com"}
    assert claims.released(user, "openid phone", base_url=BASE) == {
        "sub": "sub-1", "phone_number": "+441632960001", "phone_number_verified": True}
    assert claims.released(_user(phone_number=None), "openid phone", base_url=BASE) == {"sub": "sub-1"}
    assert profile["picture"] == "https://id.example.com/avatars/sub-1/7/large.jpg"
    assert (profile["given_name"], profile["family_name"], profile["zoneinfo"]) == ("Ada", "Lovelace", "Europe/London")
    assert "picture" not in claims.released(_user(avatar_version=None), "openid profile", base_url=BASE)
    assert "locale" not in claims.released(_user(locale=None), "openid profile", base_url=BASE)
    # email_verified says whether a link sent to the address was opened (sign-up, e-mail change).
    assert claims.released(user, "openid email", base_url=BASE)["email_verified"] is False
    proven = _user(email_verified_at=dt.datetime(2030, 1, 2, tzinfo=dt.UTC))
    assert claims.released(proven, "openid email", base_url=BASE)["email_verified"] is True


def test_each_advertised_scope_releases_claims_and_each_profile_claim_has_a_scope() -> None:
    user = _user()
    for scope in claims.SCOPES:
        if scope not in ("openid", "offline_access"):
            assert set(claims.released(user, f"openid {scope}", base_url=BASE)) - {"sub"}, scope
    released = {name for scope in claims.SCOPES for name in claims.released(user, f"openid {scope}", base_url=BASE)}
    assert released == {"sub", *claims.PROFILE_CLAIMS}
    assert set(claims.SUPPORTED_CLAIMS) == {*claims.PROTOCOL_CLAIMS, *claims.DELEGATION_CLAIMS, *claims.PROFILE_CLAIMS}


def test_discovery_advertises_exactly_the_claims_returned_for_a_person_who_has_the_data(
    client: Any, flow: Any, rp: Any, make_user: Any, oidc: Any, services: Any
) -> None:
    meta = client.get("/.well-known/openid-configuration").get_json()
    person = make_user(display_name="Ada Lovelace", locale="fr")
    user = services.users.get(person.id)
    services.profiles.set_names(user, given_name="Ada", family_name="Lovelace", display_name="", ctx=CTX)
    services.profiles.set_picture(user, portrait(), ctx=CTX)
    services.accounts.set_timezone(user, "Europe/Paris")
    services.phones.add(user, label="", number="+41 44 668 18 00", ctx=CTX, text="%(code)s")
    [phone] = services.phones.list(user)
    code = services.phones.sms.sent[-1][1]
    services.phones.confirm(user, phone.id, code, ctx=CTX)
    scope = " ".join(meta["scopes_supported"])
    tokens = flow.tokens(rp, person, scope=scope, nonce="n-1")
    _header, id_token = oidc.keys.verify(tokens["id_token"])
    userinfo = client.get("/oauth/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert userinfo.status_code == 200
    returned = set(id_token) | set(userinfo.get_json())
    # Each advertised claim is returned, and nothing is returned that is not advertised; `act` and
    # `acting_for` come with a partner acting for a client (tests/oidc/test_acting.py).
    advertised = set(meta["claims_supported"]) - set(claims.DELEGATION_CLAIMS)
    assert advertised == returned, advertised ^ returned
    assert set(claims.DELEGATION_CLAIMS) <= set(meta["claims_supported"]) and not returned & {"act", "acting_for"}
    assert tokens["refresh_token"]  # offline_access
    # Each advertised scope but openid and offline_access releases a claim of its own.
    for each in set(meta["scopes_supported"]) - {"openid", "offline_access"}:
        alone = flow.tokens(rp, person, scope=f"openid {each}")["access_token"]
        got = client.get("/oauth/userinfo", headers={"Authorization": f"Bearer {alone}"}).get_json()
        assert set(got) - {"sub"}, each


def test_claims_parameter_parsing() -> None:
    assert claims.parse_claims_request(None) == {}
    parsed = claims.parse_claims_request('{"id_token": {"email": {"essential": true}, "bogus": null}, "userinfo": {"name": null}}')
    assert parsed == {"id_token": ["email"], "userinfo": ["name"]}
    for bad in ("x", "[]", '{"id_token": []}', "{" * 5000):
        with pytest.raises(ValidationError):
            claims.parse_claims_request(bad)
