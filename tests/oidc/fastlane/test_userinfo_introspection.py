"""The fast lane's userinfo and introspection of access tokens, against the views' answers."""

from __future__ import annotations

from typing import Any

from tests.oidc.lane import AsgiClient
from tests.oidc.lane import basic
from tests.oidc.lane import bearer


def test_userinfo_matches_the_views(asgi: AsgiClient, flow: Any, rp: Any, person: Any, client: Any,
                                    warm: Any) -> None:
    tokens = flow.tokens(rp, person, scope="openid profile email")
    warm()
    fast = asgi.request("GET", "/oauth/userinfo", headers=bearer(tokens["access_token"]))
    reference = client.get("/oauth/userinfo", headers=bearer(tokens["access_token"]))
    assert fast.lane and fast.status == 200 and fast.json() == reference.get_json()
    assert fast.json()["name"] == "Ada Lovelace" and fast.headers["cache-control"] == "no-store"
    posted = asgi.request("POST", "/oauth/userinfo", headers=bearer(tokens["access_token"]))
    assert posted.lane and posted.json() == fast.json()


def test_userinfo_refusals_come_from_the_views(asgi: AsgiClient, flow: Any, rp: Any, person: Any, oidc: Any,
                                               services: Any, warm: Any) -> None:
    from idp.model import UserStatus

    tokens = flow.tokens(rp, person, scope="openid profile")
    no_openid = flow.tokens(rp, person, scope="profile")
    warm()
    token = tokens["access_token"]
    in_body = asgi.request("POST", "/oauth/userinfo", data={"access_token": token})
    assert not in_body.lane and in_body.status == 200
    both = asgi.request("POST", "/oauth/userinfo", headers=bearer(token), data={"access_token": token})
    assert not both.lane and both.status == 400
    assert asgi.request("GET", "/oauth/userinfo").status == 401
    assert asgi.request("GET", "/oauth/userinfo", headers=bearer("a.b.c")).status == 401
    scoped = asgi.request("GET", "/oauth/userinfo", headers=bearer(no_openid["access_token"]))
    assert not scoped.lane and scoped.status == 403
    _, claims = oidc.keys.verify(token)
    oidc.tokens.deny(claims["jti"], claims["exp"])
    revoked = asgi.request("GET", "/oauth/userinfo", headers=bearer(token))
    assert not revoked.lane and revoked.status == 401 and "WWW-Authenticate".lower() in revoked.headers
    fresh = flow.tokens(rp, person, scope="openid")["access_token"]
    services.users.set_status(person.id, UserStatus.DISABLED, services.clock.now())
    disabled = asgi.request("GET", "/oauth/userinfo", headers=bearer(fresh))
    assert not disabled.lane and disabled.status == 401


def test_introspection_matches_the_views(asgi: AsgiClient, flow: Any, rp: Any, person: Any, service: Any,
                                         make_client: Any, client: Any, warm: Any) -> None:
    tokens = flow.tokens(rp, person, scope="openid offline_access")
    other = make_client()
    warm(rp.client_id, service.client_id, other.client_id)
    form = {"token": tokens["access_token"]}
    fast = asgi.request("POST", "/oauth/introspect", headers=basic(rp.client_id, rp.secret), data=form)
    reference = client.post("/oauth/introspect", data=form, auth=(rp.client_id, rp.secret))
    assert fast.lane and fast.status == 200 and fast.json() == reference.get_json()
    assert fast.json()["active"] is True and fast.json()["client_id"] == rp.client_id
    # A resource server (service client) may introspect any access token.
    by_service = asgi.request("POST", "/oauth/introspect", headers=basic(service.client_id, service.secret),
                              data=form | {"token_type_hint": "access_token"})
    assert by_service.lane and by_service.json()["active"] is True
    # Another relying party learns nothing; refresh tokens are the views' to introspect.
    foreign = asgi.request("POST", "/oauth/introspect", headers=basic(other.client_id, other.secret), data=form)
    assert not foreign.lane and foreign.json() == {"active": False}
    refresh = asgi.request("POST", "/oauth/introspect", headers=basic(rp.client_id, rp.secret),
                           data={"token": tokens["refresh_token"]})
    assert not refresh.lane and refresh.json()["active"] is True and refresh.json()["token_type"] == "refresh_token"
    bad_hint = asgi.request("POST", "/oauth/introspect", headers=basic(rp.client_id, rp.secret),
                            data=form | {"token_type_hint": "id_token"})
    assert not bad_hint.lane
    unauthenticated = asgi.request("POST", "/oauth/introspect", data=form)
    assert not unauthenticated.lane and unauthenticated.status == 401
