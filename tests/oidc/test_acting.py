"""Applications see delegation: tokens issued while a partner person acts for a client carry
`act` (RFC 8693 §4.1) and `acting_for`, with `sub` still the person who signed in; the code
carries the acting state of the authorization; a refresh (and userinfo, introspection) reads the
delegation again and refuses a grant whose delegation is gone."""

from __future__ import annotations

from typing import Any

import pytest

from idp.partners.access import parse_access
from tests.conftest import AuthActions
from tests.conftest import events
from tests.oidc.conftest import Flow
from tests.partners.conftest import CTX
from tests.partners.conftest import browser  # noqa: F401 - fixture
from tests.partners.conftest import cast  # noqa: F401 - fixture

SCOPE = "openid profile email offline_access"


def _flow(browser_of: Any) -> Flow:
    return Flow(browser_of.client, AuthActions(browser_of.client))


def _claims(oidc: Any, tokens: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    _h, id_token = oidc.keys.verify(tokens["id_token"])
    _h, access = oidc.keys.verify(tokens["access_token"], typ="at+jwt")
    return id_token, access


def _userinfo(client: Any, access_token: str) -> Any:
    return client.get("/oauth/userinfo", headers={"Authorization": f"Bearer {access_token}"})


def _refresh(client: Any, rp: Any, token: str) -> Any:
    return client.post("/oauth/token", auth=(rp.client_id, rp.secret),
                       data={"grant_type": "refresh_token", "refresh_token": token})


def _introspect(client: Any, rp: Any, token: str) -> dict[str, Any]:
    return dict(client.post("/oauth/introspect", auth=(rp.client_id, rp.secret), data={"token": token}).get_json())


def test_tokens_and_userinfo_say_who_acts_for_whom(cast, browser, rp, oidc, services):  # noqa: F811
    p = cast.manage(rights=["users", "activity"])
    paula = browser("p_lr")
    paula.act()
    tokens = _flow(paula).tokens(rp, cast.people["p_lr"], scope=SCOPE, nonce="n-1")
    subject = services.users.get(cast.people["p_lr"].id).subject
    expected = {
        "act": {"sub": subject, "org": "reseller"},
        "acting_for": {"org": "client", "name": "Client Sàrl", "partnership": p.id, "rights": ["users", "activity"]},
    }
    id_token, access = _claims(oidc, tokens)
    for body in (id_token, access):
        assert body["sub"] == subject, "sub stays the person who signed in"
        assert {k: body[k] for k in expected} == expected
    info = _userinfo(paula.client, tokens["access_token"])
    assert info.status_code == 200
    assert info.get_json()["sub"] == subject and {k: info.get_json()[k] for k in expected} == expected
    assert _introspect(paula.client, rp, tokens["access_token"])["active"] is True
    # A refresh while the delegation stands: the same claims.
    refreshed = _refresh(paula.client, rp, tokens["refresh_token"])
    assert refreshed.status_code == 200, refreshed.get_json()
    id_again, access_again = _claims(oidc, refreshed.get_json())
    assert {k: id_again[k] for k in expected} == expected and {k: access_again[k] for k in expected} == expected


def test_without_acting_and_after_stopping_no_token_says_act(cast, browser, rp, oidc):  # noqa: F811
    cast.manage(rights=["users"])
    paula = browser("p_lr")
    before = _flow(paula).tokens(rp, cast.people["p_lr"], scope=SCOPE)
    paula.act()
    paula.stop()
    after = _flow(paula).tokens(rp, cast.people["p_lr"], scope=SCOPE)
    for tokens in (before, after):
        for body in _claims(oidc, tokens):
            assert "act" not in body and "acting_for" not in body
        info = _userinfo(paula.client, tokens["access_token"]).get_json()
        assert "act" not in info and "acting_for" not in info


def test_the_code_carries_the_acting_state_of_the_authorization(cast, browser, rp, oidc):  # noqa: F811
    cast.manage(rights=["users"])
    paula = browser("p_lr")
    paula.act()
    flow = _flow(paula)
    _params, answer = flow.code_for(rp, cast.people["p_lr"], scope=SCOPE)
    paula.stop()  # after the authorization: the grant was made while acting
    redeemed = flow.redeem(rp, answer["code"])
    assert redeemed.status_code == 200
    for body in _claims(oidc, redeemed.get_json()):
        assert body["acting_for"]["org"] == "client"


def test_a_code_whose_delegation_ended_before_redemption_is_refused(cast, browser, rp):  # noqa: F811
    p = cast.manage(rights=["users"])
    paula = browser("p_lr")
    paula.act()
    flow = _flow(paula)
    _params, answer = flow.code_for(rp, cast.people["p_lr"], scope=SCOPE)
    cast.partners.lifecycle.end(cast.user("c_lr"), "client", p.id, True, CTX)
    redeemed = flow.redeem(rp, answer["code"])
    assert redeemed.status_code == 400 and redeemed.get_json()["error"] == "invalid_grant"


def _end(people: Any, p: Any) -> None:
    people.partners.lifecycle.end(people.user("c_lr"), "client", p.id, True, CTX)


def _fewer_rights(people: Any, p: Any) -> None:
    people.partners.lifecycle.change(people.user("c_lr"), "client", p.id, parse_access(
        access="limited", rights=["activity"], payer="client", days="30", auto_renew=False), CTX)


def _demoted(people: Any, p: Any) -> None:
    from idp.model import Role

    people.services.accounts.add_member(people.org("reseller"), people.user("p_admin"), Role.COLLABORATOR)


def _not_a_partner(people: Any, p: Any) -> None:
    people.partners.lifecycle.set_partner("reseller", False, CTX)


@pytest.mark.parametrize("how", [_end, _fewer_rights, _demoted, _not_a_partner])
def test_a_refresh_after_the_delegation_went_is_refused_and_the_grant_revoked(
    cast, browser, rp, services, how,  # noqa: F811
):
    p = cast.manage(rights=["users", "activity"])
    pierre = browser("p_admin")
    pierre.act()
    tokens = _flow(pierre).tokens(rp, cast.people["p_admin"], scope=SCOPE)
    how(cast, p)
    refused = _refresh(pierre.client, rp, tokens["refresh_token"])
    assert refused.status_code == 400 and refused.get_json()["error"] == "invalid_grant"
    assert "delegation" in refused.get_json()["error_description"]
    # The access token of the grant: refused at userinfo, inactive at introspection.
    info = _userinfo(pierre.client, tokens["access_token"])
    assert info.status_code == 401 and info.get_json()["error"] == "invalid_token"
    assert _introspect(pierre.client, rp, tokens["access_token"]) == {"active": False}
    assert _introspect(pierre.client, rp, tokens["refresh_token"]) == {"active": False}
    [revoked] = [e for e in events(services, "oidc:token:revoked") if e["details"].get("reason")]
    assert revoked["details"]["reason"] == "delegation_ended" and revoked["user_id"] == cast.people["p_admin"].id


def test_more_rights_keep_the_grant_standing(cast, browser, rp, oidc):  # noqa: F811
    p = cast.manage(rights=["users"])
    paula = browser("p_lr")
    paula.act()
    tokens = _flow(paula).tokens(rp, cast.people["p_lr"], scope=SCOPE)
    cast.partners.lifecycle.change(cast.user("c_lr"), "client", p.id, parse_access(
        access="full", rights=[], payer="client", days="30", auto_renew=False), CTX)
    refreshed = _refresh(paula.client, rp, tokens["refresh_token"])
    assert refreshed.status_code == 200
    # The grant says what was granted when it was made; a new sign-in says what holds now.
    assert _claims(oidc, refreshed.get_json())[0]["acting_for"]["rights"] == ["users"]
    again = _flow(paula).tokens(rp, cast.people["p_lr"], scope=SCOPE)
    assert _claims(oidc, again)[0]["acting_for"]["rights"] == ["products", "billing", "users", "activity"]


def test_a_forged_or_malformed_acting_claim_never_stands(services, cast):  # noqa: F811
    from idp.oidc import OIDC

    service = services.get(OIDC).service
    person = cast.people["p_lr"].id
    assert service.token_delegation_stands(person, {"sub": "x"})
    for bad in ("client", {"org": "client"}, {"org": "client", "partnership": "1", "rights": []},
                {"org": 5, "partnership": 1, "rights": ["users"]},
                {"org": "client", "partnership": 1, "rights": ["nothing"]},
                {"org": "no-such-org", "partnership": 1, "rights": ["users"]}):
        assert not service.token_delegation_stands(person, {"acting_for": bad}), bad
    p = cast.manage(rights=["users"])
    good = {"org": "client", "partnership": p.id, "rights": ["users"]}
    assert service.token_delegation_stands(person, {"acting_for": good})
    assert not service.token_delegation_stands(person, {"acting_for": good | {"partnership": p.id + 1}})
    assert not service.token_delegation_stands(person, {"acting_for": good | {"rights": ["users", "billing"]}})
    assert not service.token_delegation_stands(cast.people["c_lr"].id, {"acting_for": good})
