"""Decision 0609 at the OpenID Provider: a locked account's tokens go on; a disabled or deleted
account's refresh tokens, access tokens (userinfo, introspection) stop at once, through the views
and through the fast lane alike. On PostgreSQL always, as the fast lane's tests."""

from __future__ import annotations

from typing import Any

import pytest

from tests.oidc.lane import AsgiClient
from tests.oidc.lane import asgi  # noqa: F401 - fixture
from tests.oidc.lane import basic
from tests.oidc.lane import bearer
from tests.oidc.lane import clean_stores  # noqa: F401 - fixture: the lane's database
from tests.oidc.lane import lane_database  # noqa: F401 - fixture
from tests.oidc.lane import settings  # noqa: F401 - fixture
from tests.oidc.lane import warm  # noqa: F401 - fixture
from tests.standing import STANDINGS
from tests.standing import put_in
from tests.standing import works


@pytest.fixture
def resource(make_client: Any) -> Any:
    return make_client("service", scopes=["reports"])


@pytest.mark.parametrize("standing", STANDINGS)
def test_tokens_follow_the_account_standing(asgi: AsgiClient, flow: Any, rp: Any, person: Any, client: Any,  # noqa: F811
                                            resource: Any, warm: Any, standing: str) -> None:  # noqa: F811
    by_views = flow.tokens(rp, person, scope="openid profile offline_access")
    by_lane = flow.tokens(rp, person, scope="openid profile offline_access")
    warm(rp.client_id, resource.client_id)
    put_in(flow_services(client), person.id, standing)
    access_ok, refresh_ok = works("access_token", standing), works("refresh_token", standing)

    # userinfo
    views = client.get("/oauth/userinfo", headers=bearer(by_views["access_token"]))
    lane = asgi.request("GET", "/oauth/userinfo", headers=bearer(by_lane["access_token"]))
    assert (views.status_code, lane.status) == ((200, 200) if access_ok else (401, 401))
    assert lane.lane is access_ok  # a refusal is the views' answer

    # introspection by a resource server (access tokens) and by the client (its refresh token)
    form = {"token": by_views["access_token"]}
    views = client.post("/oauth/introspect", data=form, auth=(resource.client_id, resource.secret))
    lane = asgi.request("POST", "/oauth/introspect", headers=basic(resource.client_id, resource.secret), data=form)
    assert views.get_json()["active"] is access_ok and lane.json()["active"] is access_ok
    refresh = client.post("/oauth/introspect", data={"token": by_views["refresh_token"]},
                          auth=(rp.client_id, rp.secret))
    assert refresh.get_json()["active"] is refresh_ok

    # the refresh grant
    views = client.post("/oauth/token", data={"grant_type": "refresh_token", "refresh_token": by_views["refresh_token"]},
                        auth=(rp.client_id, rp.secret))
    lane = asgi.request("POST", "/oauth/token", headers=basic(rp.client_id, rp.secret),
                        data={"grant_type": "refresh_token", "refresh_token": by_lane["refresh_token"]})
    if refresh_ok:
        assert views.status_code == 200 and lane.status == 200 and lane.lane
    else:
        assert views.status_code == 400 and views.get_json()["error"] == "invalid_grant"
        assert lane.status == 400 and lane.json()["error"] == "invalid_grant" and not lane.lane


def test_a_services_own_token_speaks_for_no_account(asgi: AsgiClient, resource: Any, client: Any,  # noqa: F811
                                                    warm: Any) -> None:  # noqa: F811
    token = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                        auth=(resource.client_id, resource.secret)).get_json()["access_token"]
    warm(resource.client_id)
    answer = asgi.request("POST", "/oauth/introspect", headers=basic(resource.client_id, resource.secret),
                          data={"token": token})
    assert answer.lane and answer.json()["active"] is True


def flow_services(client: Any) -> Any:
    return client.application.extensions["idp"]
