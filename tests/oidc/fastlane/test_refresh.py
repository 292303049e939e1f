"""The fast lane's refresh grant: rotation, reuse and refusals, as the views have them."""

from __future__ import annotations

from typing import Any

from tests.conftest import events
from tests.oidc.lane import AsgiClient
from tests.oidc.lane import basic
from tests.oidc.lane import bearer
from tests.oidc.lane import offline


def test_refresh_rotates_like_the_views(asgi: AsgiClient, flow: Any, rp: Any, person: Any, oidc: Any,
                                        services: Any, warm: Any) -> None:
    first = offline(flow, rp, person)
    warm(rp.client_id)
    fast = asgi.request("POST", "/oauth/token", headers=basic(rp.client_id, rp.secret),
                        data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]})
    assert fast.lane and fast.status == 200, fast.body
    tokens = fast.json()
    assert set(tokens) == {"access_token", "token_type", "expires_in", "scope", "refresh_token", "id_token"}
    assert tokens["refresh_token"] != first["refresh_token"]
    _, before = oidc.keys.verify(first["id_token"])
    _, after = oidc.keys.verify(tokens["id_token"])
    for claim in ("auth_time", "sub", "aud", "azp", "sid", "acr", "amr", "iss"):
        assert after[claim] == before[claim]
    assert "nonce" not in after and after["at_hash"]
    _, access = oidc.keys.verify(tokens["access_token"], typ="at+jwt")
    assert access["scope"] == "openid profile email offline_access" and access["auth_time"] == before["auth_time"]
    refreshed = events(services, "oidc:token:refreshed")
    assert len(refreshed) == 1 and refreshed[0]["user_id"] == person.id and refreshed[0]["product"] == rp.client_id
    assert refreshed[0]["details"] == {"grant_type": "refresh_token", "scope": access["scope"],
                                       "refresh_token": True}
    # The reference implementation takes the lane's token, and the lane takes the reference's.
    reference = flow.client.post("/oauth/token", auth=(rp.client_id, rp.secret),
                                 data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert reference.status_code == 200
    assert set(reference.get_json()) == set(tokens)
    again = asgi.request("POST", "/oauth/token", headers=basic(rp.client_id, rp.secret),
                         data={"grant_type": "refresh_token", "refresh_token": reference.get_json()["refresh_token"]})
    assert again.lane and again.status == 200


def test_reusing_a_spent_refresh_token_revokes_the_family(asgi: AsgiClient, flow: Any, rp: Any, person: Any,
                                                          services: Any, warm: Any) -> None:
    first = offline(flow, rp, person)
    warm(rp.client_id)
    refresh = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    rotated = asgi.request("POST", "/oauth/token", headers=basic(rp.client_id, rp.secret), data=refresh)
    assert rotated.lane and rotated.status == 200
    reuse = asgi.request("POST", "/oauth/token", headers=basic(rp.client_id, rp.secret), data=refresh)
    assert not reuse.lane and reuse.status == 400 and reuse.json()["error"] == "invalid_grant"
    successor = asgi.request("POST", "/oauth/token", headers=basic(rp.client_id, rp.secret),
                             data={"grant_type": "refresh_token", "refresh_token": rotated.json()["refresh_token"]})
    assert successor.status == 400 and successor.json()["error"] == "invalid_grant"
    # The access token of the rotated pair is denied too.
    userinfo = asgi.request("GET", "/oauth/userinfo", headers=bearer(rotated.json()["access_token"]))
    assert userinfo.status == 401 and not userinfo.lane
    assert events(services, "oidc:token:reused")[-1]["details"]["what"] == "refresh_token"


def test_two_concurrent_uses_of_one_refresh_token(asgi: AsgiClient, flow: Any, rp: Any, person: Any,
                                                  warm: Any) -> None:
    first = offline(flow, rp, person)
    warm(rp.client_id)
    call = ("POST", "/oauth/token", {"headers": basic(rp.client_id, rp.secret),
                                     "data": {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}})
    answers = asgi.concurrently(call, call)
    assert sorted(a.status for a in answers) == [200, 400]
    winner = next(a for a in answers if a.status == 200)
    # The loser was reuse: the whole family is revoked, the winner's token included.
    after = asgi.request("POST", "/oauth/token", headers=basic(rp.client_id, rp.secret),
                         data={"grant_type": "refresh_token", "refresh_token": winner.json()["refresh_token"]})
    assert after.status == 400


def test_refresh_errors_are_the_views_answers(asgi: AsgiClient, flow: Any, rp: Any, person: Any,
                                              make_client: Any, services: Any, warm: Any) -> None:
    tokens = offline(flow, rp, person)
    other = make_client()
    warm(rp.client_id, other.client_id)
    cases = [
        (basic(other.client_id, other.secret), tokens["refresh_token"], "invalid_grant"),
        (basic(rp.client_id, "wrong"), tokens["refresh_token"], "invalid_client"),
        (basic(rp.client_id, rp.secret), "not-a-token", "invalid_grant"),
        (basic(rp.client_id, rp.secret), "x" * 300, "invalid_grant"),
    ]
    for headers, token, error in cases:
        answer = asgi.request("POST", "/oauth/token", headers=headers,
                              data={"grant_type": "refresh_token", "refresh_token": token})
        assert not answer.lane and answer.json()["error"] == error
    wider = asgi.request("POST", "/oauth/token", headers=basic(rp.client_id, rp.secret),
                         data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"],
                               "scope": "openid address"})
    assert not wider.lane and wider.status == 400 and wider.json()["error"] == "invalid_scope"
    # Nothing was spent: the token still works.
    after = asgi.request("POST", "/oauth/token", headers=basic(rp.client_id, rp.secret),
                         data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert after.lane and after.status == 200


def test_a_narrower_refresh_matches_the_views_and_the_successor_keeps_the_grant(
        asgi: AsgiClient, flow: Any, rp: Any, person: Any, oidc: Any, services: Any, warm: Any) -> None:
    by_lane, by_views = offline(flow, rp, person), offline(flow, rp, person)
    warm(rp.client_id)
    narrower = {"grant_type": "refresh_token", "scope": "email openid"}
    fast = asgi.request("POST", "/oauth/token", headers=basic(rp.client_id, rp.secret),
                        data=narrower | {"refresh_token": by_lane["refresh_token"]})
    reference = flow.client.post("/oauth/token", auth=(rp.client_id, rp.secret),
                                 data=narrower | {"refresh_token": by_views["refresh_token"]})
    assert fast.lane and fast.status == 200 == reference.status_code, fast.body
    mine, theirs = fast.json(), reference.get_json()
    assert set(mine) == set(theirs) == {"access_token", "token_type", "expires_in", "scope", "refresh_token",
                                        "id_token"}
    assert mine["scope"] == theirs["scope"] == "openid email"
    for body in (mine, theirs):
        assert oidc.keys.verify(body["access_token"], typ="at+jwt")[1]["scope"] == "openid email"
    refreshed = events(services, "oidc:token:refreshed")
    assert [e["details"] for e in refreshed] == [{"grant_type": "refresh_token", "scope": "openid email",
                                                  "refresh_token": True}] * 2
    # Both successors keep the whole grant, whichever lane refreshes them next.
    whole = "openid profile email offline_access"
    for token in (mine["refresh_token"], theirs["refresh_token"]):
        introspected = asgi.request("POST", "/oauth/introspect", headers=basic(rp.client_id, rp.secret),
                                    data={"token": token})
        assert introspected.json()["scope"] == whole
    again = asgi.request("POST", "/oauth/token", headers=basic(rp.client_id, rp.secret),
                         data={"grant_type": "refresh_token", "refresh_token": theirs["refresh_token"]})
    assert again.lane and again.status == 200 and again.json()["scope"] == whole


def test_a_refresh_dropping_offline_access_keeps_the_family_alive_in_the_lane(
        asgi: AsgiClient, flow: Any, rp: Any, person: Any, services: Any, warm: Any) -> None:
    tokens = offline(flow, rp, person)
    warm(rp.client_id)
    first = asgi.request("POST", "/oauth/token", headers=basic(rp.client_id, rp.secret),
                         data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"],
                               "scope": "openid profile"})
    assert first.lane and first.status == 200 and first.json()["refresh_token"]
    second = asgi.request("POST", "/oauth/token", headers=basic(rp.client_id, rp.secret),
                          data={"grant_type": "refresh_token", "refresh_token": first.json()["refresh_token"]})
    assert second.lane and second.status == 200
    assert second.json()["scope"] == "openid profile email offline_access"
    assert events(services, "oidc:token:reused") == []


def test_a_disabled_account_cannot_refresh(asgi: AsgiClient, flow: Any, rp: Any, person: Any, services: Any,
                                           warm: Any) -> None:
    from idp.model import UserStatus

    tokens = offline(flow, rp, person)
    warm(rp.client_id)
    services.users.set_status(person.id, UserStatus.DISABLED, services.clock.now())
    answer = asgi.request("POST", "/oauth/token", headers=basic(rp.client_id, rp.secret),
                          data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    # No account that may act behind the token: as good as revoked (decision 0609).
    assert not answer.lane and answer.status == 400 and answer.json()["error"] == "invalid_grant"


def test_without_offline_access_a_client_that_always_refreshes_still_rotates(
        asgi: AsgiClient, flow: Any, make_client: Any, person: Any, warm: Any) -> None:
    always = make_client(always_refresh=True)
    tokens = flow.tokens(always, person, scope="openid")
    warm(always.client_id)
    answer = asgi.request("POST", "/oauth/token", headers=basic(always.client_id, always.secret),
                          data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert answer.lane and answer.status == 200 and answer.json()["refresh_token"]
