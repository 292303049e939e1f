"""The fast lane's client credentials grant, and the client cache it answers from."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest

from idp.asgi import MAX_LANE_BODY
from tests.conftest import events
from tests.oidc.lane import FORM
from tests.oidc.lane import AsgiClient
from tests.oidc.lane import basic


def test_client_credentials_matches_the_views(asgi: AsgiClient, client: Any, service: Any, oidc: Any,
                                              services: Any, warm: Any) -> None:
    warm(service.client_id)
    form = {"grant_type": "client_credentials", "scope": "reports"}
    fast = asgi.request("POST", "/oauth/token", headers=basic(service.client_id, service.secret)
                        | {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"}, data=form)
    reference = client.post("/oauth/token", data=form, auth=(service.client_id, service.secret))
    assert fast.lane and fast.status == 200 == reference.status_code
    assert fast.headers["cache-control"] == "no-store" and fast.headers["pragma"] == "no-cache"
    mine, theirs = fast.json(), reference.get_json()
    assert set(mine) == set(theirs) == {"access_token", "token_type", "expires_in", "scope"}
    assert {k: mine[k] for k in ("token_type", "expires_in", "scope")} == \
        {k: theirs[k] for k in ("token_type", "expires_in", "scope")}
    header, claims = oidc.keys.verify(mine["access_token"], typ="at+jwt")
    _, reference_claims = oidc.keys.verify(theirs["access_token"], typ="at+jwt")
    assert header["alg"] == "RS256" and header["kid"]
    assert set(claims) == set(reference_claims)
    assert {k: claims[k] for k in ("iss", "sub", "aud", "client_id", "scope")} == \
        {k: reference_claims[k] for k in ("iss", "sub", "aud", "client_id", "scope")}
    assert claims["jti"] != reference_claims["jti"]
    issued = events(services, "oidc:token:issued")
    assert len(issued) == 2 and issued[0]["details"] == issued[1]["details"]
    assert issued[0] | {"ip": None, "device": None, "user_agent": None} == issued[1] | {"ip": None, "device": None, "user_agent": None}
    assert issued[0]["ip"] == "203.0.113.9" and "Firefox" in issued[0]["device"]


def test_concurrent_tokens_each_answer_after_their_own_event_row(asgi: AsgiClient, service: Any, services: Any,
                                                                 warm: Any) -> None:
    warm(service.client_id)
    call = ("POST", "/oauth/token", {"headers": basic(service.client_id, service.secret),
                                     "data": {"grant_type": "client_credentials"}})
    answers = asgi.concurrently(*[call] * 12)
    assert [a.status for a in answers] == [200] * 12 and all(a.lane for a in answers)
    issued = events(services, "oidc:token:issued")
    assert len(issued) == 12 and all(e["product"] == service.client_id for e in issued)


def test_client_credentials_asks_for_nothing_and_gets_an_empty_scope(asgi: AsgiClient, service: Any,
                                                                     warm: Any) -> None:
    warm(service.client_id)
    answer = asgi.request("POST", "/oauth/token", headers=basic(service.client_id, service.secret),
                          data={"grant_type": "client_credentials"})
    assert answer.lane and answer.status == 200 and answer.json()["scope"] == ""


@pytest.mark.parametrize(("case", "error", "status"), [
    ("wrong secret", "invalid_client", 401),
    ("unknown client", "invalid_client", 401),
    ("scope not allowed", None, None),
    ("identity scope", None, None),
    ("secret in the body", None, 200),
    ("repeated parameter", None, None),
    ("json body", None, None),
    ("not base64", "invalid_client", 401),
    ("empty scope", None, None),
])
def test_client_credentials_errors_are_the_views_answers(asgi: AsgiClient, client: Any, service: Any,
                                                         case: str, error: str | None, status: int | None,
                                                         warm: Any) -> None:
    warm(service.client_id)
    headers = basic(service.client_id, service.secret) | FORM
    body = "grant_type=client_credentials&scope=reports"
    if case == "wrong secret":
        headers = basic(service.client_id, "nope") | FORM
    elif case == "unknown client":
        headers = basic("nobody", "nope") | FORM
    elif case == "scope not allowed":
        body = "grant_type=client_credentials&scope=reports+admin"
    elif case == "identity scope":
        body = "grant_type=client_credentials&scope=openid+reports"
    elif case == "secret in the body":
        headers = FORM
        body = urlencode({"grant_type": "client_credentials", "client_id": service.client_id,
                          "client_secret": service.secret})
    elif case == "repeated parameter":
        body = "grant_type=client_credentials&scope=reports&scope=audit"
    elif case == "json body":
        headers = basic(service.client_id, service.secret) | {"Content-Type": "application/json"}
        body = json.dumps({"grant_type": "client_credentials"})
    elif case == "not base64":
        headers = {"Authorization": "Basic !!!"} | FORM
    elif case == "empty scope":
        body = "grant_type=client_credentials&scope="
    fast = asgi.request("POST", "/oauth/token", headers=headers, body=body.encode())
    reference = client.post("/oauth/token", data=body, headers=headers)
    assert not fast.lane
    assert fast.status == reference.status_code
    if status is not None:
        assert fast.status == status
    if error is not None:
        assert fast.json()["error"] == error == reference.get_json()["error"]
    if fast.status >= 400:
        assert fast.headers["cache-control"] == "no-store"


def test_a_confidential_client_does_not_get_client_credentials(asgi: AsgiClient, rp: Any, warm: Any) -> None:
    warm(rp.client_id)
    answer = asgi.request("POST", "/oauth/token", headers=basic(rp.client_id, rp.secret),
                          data={"grant_type": "client_credentials"})
    assert not answer.lane and answer.status == 400 and answer.json()["error"] == "unauthorized_client"


def test_a_client_not_in_the_process_cache_is_read_by_the_views_first(asgi: AsgiClient, service: Any,
                                                                      oidc: Any, clock: Any) -> None:
    from idp.oidc.clients import CLIENT_CACHE_SECONDS

    clock.advance(seconds=3 * CLIENT_CACHE_SECONDS)  # whatever this process read is too old to use
    assert not oidc.clients.cached(service.client_id)
    form = {"grant_type": "client_credentials"}
    first = asgi.request("POST", "/oauth/token", headers=basic(service.client_id, service.secret), data=form)
    second = asgi.request("POST", "/oauth/token", headers=basic(service.client_id, service.secret), data=form)
    assert (first.status, first.lane) == (200, False)
    assert (second.status, second.lane) == (200, True)


def test_a_client_read_a_while_ago_is_read_again_while_the_lane_goes_on(asgi: AsgiClient, service: Any,
                                                                       oidc: Any, warm: Any, clock: Any) -> None:
    import time

    from idp.oidc.clients import CLIENT_CACHE_SECONDS

    warm(service.client_id)
    assert oidc.clients.cached(service.client_id)
    clock.advance(seconds=CLIENT_CACHE_SECONDS + 1)  # stale, but young enough to answer from
    assert not oidc.clients.cached(service.client_id)
    form = {"grant_type": "client_credentials"}
    answer = asgi.request("POST", "/oauth/token", headers=basic(service.client_id, service.secret), data=form)
    assert answer.lane and answer.status == 200
    for _ in range(100):  # read again in a thread, off the event loop
        if oidc.clients.cached(service.client_id):
            break
        time.sleep(0.02)
    assert oidc.clients.cached(service.client_id)
    # Too old to use at all: the views read it.
    clock.advance(seconds=3 * CLIENT_CACHE_SECONDS)
    again = asgi.request("POST", "/oauth/token", headers=basic(service.client_id, service.secret), data=form)
    assert not again.lane and again.status == 200
    # A secret rotated elsewhere stops working once the record is read again.
    secret = oidc.clients.rotate_secret(service.client_id)
    old = asgi.request("POST", "/oauth/token", headers=basic(service.client_id, service.secret), data=form)
    new = asgi.request("POST", "/oauth/token", headers=basic(service.client_id, secret), data=form)
    assert old.status == 401 and new.status == 200


def test_a_body_larger_than_the_lane_reads_reaches_the_views_whole(asgi: AsgiClient, service: Any,
                                                                   warm: Any) -> None:
    warm(service.client_id)
    body = ("grant_type=client_credentials&scope=reports&pad=" + "x" * (MAX_LANE_BODY * 2)).encode()
    answer = asgi.request("POST", "/oauth/token", headers=basic(service.client_id, service.secret) | FORM,
                          body=body)
    # The views saw the whole body: the request succeeds there (unknown parameters are ignored).
    assert not answer.lane and answer.status == 200 and answer.json()["scope"] == "reports"
