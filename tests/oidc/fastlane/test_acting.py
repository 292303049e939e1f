"""Grants made while a partner person acts for a client, through the production ASGI application:
the lane steps aside for them (their delegation is read again in SQL by the views, which the
lane does not do), the views answer as they do without the lane, and the other grants stay in
the lane."""

from __future__ import annotations

from typing import Any

from tests.conftest import AuthActions
from tests.oidc.conftest import Flow
from tests.oidc.lane import AsgiClient
from tests.oidc.lane import basic
from tests.oidc.lane import bearer
from tests.partners.conftest import CTX
from tests.partners.conftest import browser  # noqa: F401 - fixture
from tests.partners.conftest import cast  # noqa: F401 - fixture

SCOPE = "openid profile email offline_access"


def _tokens(browser_of: Any, rp: Any, person: Any, *, acting: bool) -> dict[str, Any]:
    if acting:
        browser_of.act()
    tokens = Flow(browser_of.client, AuthActions(browser_of.client)).tokens(rp, person, scope=SCOPE)
    if acting:
        browser_of.stop()
    return tokens


def test_the_lane_steps_aside_for_a_grant_made_while_acting(
    asgi: AsgiClient, cast: Any, browser: Any, rp: Any, warm: Any, oidc: Any,  # noqa: F811
) -> None:
    p = cast.manage(rights=["users"])
    paula = browser("p_lr")
    person = cast.people["p_lr"]
    acting = _tokens(paula, rp, person, acting=True)
    plain = _tokens(paula, rp, person, acting=False)
    warm(rp.client_id)
    auth = basic(rp.client_id, rp.secret)

    # Userinfo and introspection: the views answer an acting token, with its act claims.
    info = asgi.request("GET", "/oauth/userinfo", headers=bearer(acting["access_token"]))
    reference = paula.client.get("/oauth/userinfo", headers=bearer(acting["access_token"]))
    assert not info.lane and info.status == 200 and info.json() == reference.get_json()
    assert info.json()["acting_for"]["partnership"] == p.id
    looked = asgi.request("POST", "/oauth/introspect", headers=auth, data={"token": acting["access_token"]})
    assert not looked.lane and looked.json()["active"] is True
    # The plain grant stays in the lane.
    assert asgi.request("GET", "/oauth/userinfo", headers=bearer(plain["access_token"])).lane
    assert asgi.request("POST", "/oauth/introspect", headers=auth, data={"token": plain["access_token"]}).lane
    plain_refresh = asgi.request("POST", "/oauth/token", headers=auth,
                                 data={"grant_type": "refresh_token", "refresh_token": plain["refresh_token"]})
    assert plain_refresh.lane and plain_refresh.status == 200 and "act" not in oidc.keys.verify(
        plain_refresh.json()["id_token"])[1]

    # A refresh of the acting grant: the views, the same token response as the lane's.
    refreshed = asgi.request("POST", "/oauth/token", headers=auth,
                             data={"grant_type": "refresh_token", "refresh_token": acting["refresh_token"]})
    assert not refreshed.lane and refreshed.status == 200
    assert set(refreshed.json()) == set(plain_refresh.json())
    _h, id_token = oidc.keys.verify(refreshed.json()["id_token"])
    assert id_token["act"]["org"] == "reseller" and id_token["acting_for"]["org"] == "client"
    # Its successor carries the acting state too: the lane steps aside for it as well.
    cast.partners.lifecycle.end(cast.user("c_lr"), "client", p.id, True, CTX)
    refused = asgi.request("POST", "/oauth/token", headers=auth,
                           data={"grant_type": "refresh_token", "refresh_token": refreshed.json()["refresh_token"]})
    assert not refused.lane and refused.status == 400 and refused.json()["error"] == "invalid_grant"
    gone = asgi.request("GET", "/oauth/userinfo", headers=bearer(refreshed.json()["access_token"]))
    assert not gone.lane and gone.status == 401
    inactive = asgi.request("POST", "/oauth/introspect", headers=auth, data={"token": acting["access_token"]})
    assert not inactive.lane and inactive.json() == {"active": False}
