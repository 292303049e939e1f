"""The production ASGI application (idp.asgi) and its OIDC fast lane, on PostgreSQL and Redis.

The lane must answer exactly what the Flask views on Authlib answer when a request succeeds, and
step aside, having changed nothing, whenever it would not succeed. Each test says which of the
two answered (the `lane` flags). These tests always run on PostgreSQL, the lane's only database.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from werkzeug.middleware.proxy_fix import ProxyFix

from idp.asgi import MAX_LANE_BODY
from idp.asgi import Application
from idp.asgi import client_ip
from idp.asgi import create_asgi_app
from idp.events import EventTag
from tests.conftest import events
from tests.conftest import make_settings
from tests.conftest import postgresql_database
from tests.conftest import truncate_all

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture(scope="module")
def lane_database() -> Iterator[str]:
    with postgresql_database(f"idp_test_lane_{os.getpid()}") as url:
        yield url


@pytest.fixture
def clean_stores(lane_database: str, redis_url: str) -> Iterator[None]:
    import redis

    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    truncate_all(lane_database)
    yield
    client.flushdb()
    client.close()


@pytest.fixture
def settings(tmp_path: Path, lane_database: str, redis_url: str, settings_overrides: dict[str, Any]) -> Any:
    return make_settings(tmp_path, lane_database, redis_url, **settings_overrides)


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    lane: bool  # answered by the fast lane (False: by the Flask views)

    def json(self) -> Any:
        return json.loads(self.body)


class AsgiClient:
    """Calls the ASGI application in one event loop of its own thread, as a server's worker does
    (the test's thread may already run a loop: Playwright's)."""

    def __init__(self, asgi: Application) -> None:
        self.asgi = asgi
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self._answered: list[bool] = []
        lane = asgi.lane
        assert lane is not None and lane.store is not None
        original = lane.handle

        async def spy(request: Any) -> Any:
            reply = await original(request)
            self._answered.append(reply is not None)
            return reply

        lane.handle = spy  # type: ignore[method-assign]
        public = lane.public

        def public_spy(path: str, if_none_match: str | None) -> Any:
            reply = public(path, if_none_match)
            self._answered.append(reply is not None)
            return reply

        lane.public = public_spy  # type: ignore[method-assign]

    def request(self, method: str, path: str, *, headers: dict[str, str] | None = None,
                data: dict[str, str] | None = None, body: bytes = b"", query: str = "") -> Answer:
        return self._run(self._call(method, path, headers or {}, data, body, query))

    def _run(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=60)

    def concurrently(self, *calls: tuple[str, str, dict[str, Any]]) -> list[Answer]:
        async def all_of() -> list[Answer]:
            return list(await asyncio.gather(*(self._call(m, p, kw.get("headers", {}), kw.get("data"), b"", "")
                                               for m, p, kw in calls)))
        return list(self._run(all_of()))

    async def _call(self, method: str, path: str, headers: dict[str, str], data: dict[str, str] | None,
                    body: bytes, query: str) -> Answer:
        if data is not None:
            body = urlencode(data).encode()
            headers = FORM | headers
        # As a real client, a Host header naming the server (a test may name another host).
        headers = {"host": "127.0.0.1:8000"} | {k.lower(): v for k, v in headers.items()}
        before = len(self._answered)
        scope = {
            "type": "http", "method": method, "path": path, "query_string": query.encode(), "root_path": "",
            "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
            "client": ("203.0.113.9", 50000), "server": ("127.0.0.1", 8000), "scheme": "http",
            "http_version": "1.1",
        }
        chunks = [body[i:i + 4096] for i in range(0, len(body), 4096)] or [b""]
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            if chunks:
                chunk = chunks.pop(0)
                return {"type": "http.request", "body": chunk, "more_body": bool(chunks)}
            await asyncio.sleep(3600)
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await self.asgi(scope, receive, send)
        start = sent[0]
        answered = self._answered[before:] if len(self._answered) > before else [False]
        return Answer(start["status"], {k.decode(): v.decode() for k, v in start["headers"]},
                      b"".join(m.get("body", b"") for m in sent[1:]), any(answered))

    def close(self) -> None:
        assert self.asgi.lane is not None
        self._run(self.asgi.lane.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture
def asgi(app: Any) -> Iterator[AsgiClient]:
    client = AsgiClient(create_asgi_app(app))
    yield client
    client.close()


def basic(client_id: str, secret: str | None) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def service(make_client: Any) -> Any:
    return make_client("service", scopes=["reports", "audit"])


@pytest.fixture
def warm(oidc: Any) -> Any:
    """Fill the caches the lane reads and never fills itself (clients, keys), as the first
    requests through the Flask views do in a server."""

    def fill(*client_ids: str) -> None:
        oidc.keys.jwks()
        for client_id in client_ids:
            oidc.clients.get(client_id)

    return fill


# -- discovery and JWKS ---------------------------------------------------------------------


def test_discovery_and_jwks_bytes_are_the_views_bytes(asgi: AsgiClient, client: Any, warm: Any) -> None:
    warm()
    for path in ("/.well-known/openid-configuration", "/oauth/jwks"):
        fast = asgi.request("GET", path)
        reference = client.get(path)
        assert fast.lane and fast.status == 200
        assert fast.body == reference.data
        assert fast.headers["etag"] == reference.headers["ETag"]
        assert fast.headers["cache-control"] == reference.headers["Cache-Control"]
        assert fast.headers["content-type"] == "application/json"
        assert fast.headers["x-content-type-options"] == "nosniff" and fast.headers["x-request-id"]
        again = asgi.request("GET", path, headers={"If-None-Match": fast.headers["etag"]})
        assert again.lane and again.status == 304 and again.body == b""
        head = asgi.request("HEAD", path)
        assert head.status == 200 and head.body == b"" and head.headers["content-length"] == str(len(fast.body))


def test_public_documents_step_aside_for_conditions_they_do_not_weigh(asgi: AsgiClient, warm: Any) -> None:
    warm()
    etag = asgi.request("GET", "/oauth/jwks").headers["etag"]
    listed = asgi.request("GET", "/oauth/jwks", headers={"If-None-Match": f'"other", {etag}'})
    assert not listed.lane and listed.status == 304
    stale = asgi.request("GET", "/oauth/jwks", headers={"If-None-Match": '"other"'})
    assert not stale.lane and stale.status == 200


def test_an_idle_workers_old_jwks_is_never_served(asgi: AsgiClient, oidc: Any, clock: Any) -> None:
    # A worker that served nothing for a long time holds a key set from long ago: serving it
    # while a reload runs would omit keys published since. The views reload it first.
    assert asgi.request("GET", "/oauth/jwks").status == 200
    clock.advance(seconds=2 * oidc.keys.cache_seconds + 1)
    first = asgi.request("GET", "/oauth/jwks")
    assert first.status == 200 and not first.lane
    second = asgi.request("GET", "/oauth/jwks")
    assert second.lane and second.body == first.body


def test_lane_requests_are_counted_in_the_metrics(asgi: AsgiClient, service: Any, warm: Any) -> None:
    from prometheus_client import REGISTRY

    def count(endpoint: str, method: str) -> float:
        labels = {"method": method, "endpoint": endpoint, "status": "200"}
        return REGISTRY.get_sample_value("idp_http_requests_total", labels) or 0.0

    warm(service.client_id)
    before = count("oidc.discovery", "GET"), count("oidc.token", "POST")
    assert asgi.request("GET", "/.well-known/openid-configuration").lane
    assert asgi.request("POST", "/oauth/token", headers=basic(service.client_id, service.secret),
                        data={"grant_type": "client_credentials"}).lane
    assert count("oidc.token", "POST") == before[1] + 1
    asgi._run(_flush(asgi.asgi))  # public documents are tallied, then added within a second
    assert count("oidc.discovery", "GET") == before[0] + 1


async def _flush(application: Application) -> None:
    application.tally.flush()


def test_keys_past_their_cache_lifetime_are_reloaded_while_the_lane_goes_on(
        asgi: AsgiClient, flow: Any, rp: Any, person: Any, oidc: Any, warm: Any, clock: Any) -> None:
    import time

    tokens = flow.tokens(rp, person, scope="openid profile")
    warm(rp.client_id)
    # Past the cache lifetime (and within twice it, the longest a set is served while reloading).
    clock.advance(seconds=oidc.keys.cache_seconds + 1)
    assert not oidc.keys.cached()
    jwks = asgi.request("GET", "/oauth/jwks")
    userinfo = asgi.request("GET", "/oauth/userinfo", headers=bearer(tokens["access_token"]))
    assert jwks.lane and jwks.status == 200 and userinfo.lane and userinfo.status == 200
    for _ in range(100):  # reloaded in a thread, off the event loop
        if oidc.keys.cached():
            break
        time.sleep(0.02)
    assert oidc.keys.cached()
    # A key created since (by another process) is unknown to the old set: the views reload.
    rotated, _ = oidc.keys.rotate(immediately=True)
    assert rotated
    fresh = flow.tokens(rp, person, scope="openid")
    answer = asgi.request("GET", "/oauth/userinfo", headers=bearer(fresh["access_token"]))
    assert answer.status == 200


def test_a_request_id_sent_by_the_caller_comes_back(asgi: AsgiClient) -> None:
    answer = asgi.request("GET", "/.well-known/openid-configuration", headers={"X-Request-ID": "trace-123456"})
    assert answer.lane and answer.headers["x-request-id"] == "trace-123456"
    bogus = asgi.request("GET", "/.well-known/openid-configuration", headers={"X-Request-ID": "a b"})
    assert bogus.headers["x-request-id"] != "a b"


# -- client credentials -----------------------------------------------------------------------


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
    assert issued[0] | {"ip": None, "device": None} == issued[1] | {"ip": None, "device": None}
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


# -- refresh ------------------------------------------------------------------------------------


def _offline(flow: Any, rp: Any, person: Any) -> dict[str, Any]:
    return dict(flow.tokens(rp, person, scope="openid profile email offline_access"))


def test_refresh_rotates_like_the_views(asgi: AsgiClient, flow: Any, rp: Any, person: Any, oidc: Any,
                                        services: Any, warm: Any) -> None:
    first = _offline(flow, rp, person)
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
    first = _offline(flow, rp, person)
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
    first = _offline(flow, rp, person)
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
    tokens = _offline(flow, rp, person)
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
    by_lane, by_views = _offline(flow, rp, person), _offline(flow, rp, person)
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
    tokens = _offline(flow, rp, person)
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

    tokens = _offline(flow, rp, person)
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


# -- userinfo and introspection -----------------------------------------------------------------


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


# -- failures, settings, plumbing ---------------------------------------------------------------


def test_store_unavailable_is_a_503_with_retry_after(asgi: AsgiClient, service: Any, warm: Any) -> None:
    from idp.stores.oidc_async import conninfo

    warm(service.client_id)
    store = asgi.asgi.lane.store  # type: ignore[union-attr]
    assert store is not None
    store._conninfo = conninfo("postgresql+psycopg://postgres@127.0.0.1:1/none")
    store._pool = None
    store.timeout = 0.5
    call = ("POST", "/oauth/token", {"headers": basic(service.client_id, service.secret),
                                     "data": {"grant_type": "client_credentials"}})
    for answer in asgi.concurrently(call, call, call):
        assert answer.status == 503 and answer.headers["retry-after"] == "30"
        assert answer.json()["error"] == "temporarily_unavailable"


@pytest.mark.parametrize("settings_overrides", [{"oidc": {"fast_lane": False}}])
def test_the_lane_can_be_turned_off(app: Any, settings_overrides: Any) -> None:
    application = create_asgi_app(app)
    assert application.lane is None


def test_subscribers_of_token_events_are_told_by_the_lane(asgi: AsgiClient, service: Any, services: Any,
                                                          warm: Any) -> None:
    seen: list[Any] = []
    services.events.subscribe(seen.append, [EventTag.OIDC_TOKEN_ISSUED])
    warm(service.client_id)
    answer = asgi.request("POST", "/oauth/token", headers=basic(service.client_id, service.secret),
                          data={"grant_type": "client_credentials"})
    assert answer.lane and [e.tag for e in seen] == ["oidc:token:issued"] and seen[0].id > 0


def test_pages_go_through_the_bridge_with_cookies_query_and_forms(asgi: AsgiClient, person: Any) -> None:
    page = asgi.request("GET", "/login", query="next=%2Fsecurity")
    assert page.status == 200 and not page.lane and b'name="csrf_token"' in page.body
    assert page.headers["content-security-policy"] and page.headers["x-request-id"]
    cookie = page.headers["set-cookie"].split(";")[0]
    from tests.conftest import csrf_of

    form = {"csrf_token": csrf_of(page.body.decode()), "login": person.email, "next": "/security"}
    answer = asgi.request("POST", "/login", headers={"Cookie": cookie}, data=form)
    assert answer.status == 302 and "/login/password" in answer.headers["location"]
    missing_csrf = asgi.request("POST", "/login", headers={"Cookie": cookie}, data={"login": person.email})
    assert missing_csrf.status == 400
    too_big = asgi.request("POST", "/login", headers={"Cookie": cookie} | FORM, body=b"x" * (1024 * 1024 + 10))
    assert too_big.status == 413


@pytest.mark.parametrize(("peer", "forwarded", "trusted"), [
    ("10.0.0.1", "", 0), ("10.0.0.1", "198.51.100.7", 0), ("10.0.0.1", "198.51.100.7", 1),
    ("10.0.0.1", "198.51.100.7, 10.0.0.2", 1), ("10.0.0.1", "198.51.100.7, 10.0.0.2", 2),
    ("10.0.0.1", "198.51.100.7", 2),
])
def test_client_ip_is_the_address_proxyfix_finds(peer: str, forwarded: str, trusted: int) -> None:
    seen: dict[str, str] = {}

    def wsgi(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen["ip"] = environ["REMOTE_ADDR"]
        start_response("200 OK", [])
        return []

    environ = {"REMOTE_ADDR": peer, "wsgi.url_scheme": "http", "HTTP_HOST": "x"}
    if forwarded:
        environ["HTTP_X_FORWARDED_FOR"] = forwarded
    ProxyFix(wsgi, x_for=trusted)(environ, lambda *a: None) if trusted else wsgi(environ, lambda *a: None)
    assert client_ip(peer, forwarded, trusted) == seen["ip"]


# -- transport and malformed credentials ----------------------------------------------------------


def test_basic_credentials_that_are_not_utf8_step_aside_to_the_views_answer(
        asgi: AsgiClient, client: Any, service: Any, warm: Any) -> None:
    warm(service.client_id)
    headers = {"Authorization": "Basic //46/w=="}
    for path, data in (("/oauth/token", {"grant_type": "client_credentials"}),
                       ("/oauth/token", {"grant_type": "refresh_token", "refresh_token": "x"}),
                       ("/oauth/introspect", {"token": "x"})):
        fast = asgi.request("POST", path, headers=headers, data=data)
        reference = client.post(path, data=data, headers=headers)
        assert not fast.lane
        assert fast.status == 401 == reference.status_code
        assert fast.json() == reference.get_json() and fast.json()["error"] == "invalid_client"
        assert fast.headers["www-authenticate"].startswith("Basic")


def test_plain_http_to_a_real_host_is_the_views_refusal(asgi: AsgiClient, flow: Any, rp: Any, person: Any,
                                                        service: Any, warm: Any) -> None:
    tokens = _offline(flow, rp, person)
    warm(service.client_id, rp.client_id)
    real_host = {"Host": "id.example.com"}
    calls = [
        ("/oauth/token", basic(service.client_id, service.secret), {"grant_type": "client_credentials"}),
        ("/oauth/token", basic(rp.client_id, rp.secret),
         {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}),
        ("/oauth/introspect", basic(rp.client_id, rp.secret), {"token": tokens["access_token"]}),
    ]
    for path, auth, data in calls:
        answer = asgi.request("POST", path, headers=auth | real_host, data=data)
        assert not answer.lane and answer.status == 400
        assert answer.json()["error"] == "invalid_request" and "https is required" in answer.json()["error_description"]
    # Nothing was spent; over a loopback address the lane answers.
    refreshed = asgi.request("POST", "/oauth/token", headers=basic(rp.client_id, rp.secret),
                             data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert refreshed.lane and refreshed.status == 200
    # Userinfo is not OAuth's token endpoint: the lane and the views answer it over http too.
    info = asgi.request("GET", "/oauth/userinfo", headers=bearer(refreshed.json()["access_token"]) | real_host)
    assert info.lane and info.status == 200


@pytest.mark.parametrize("settings_overrides", [{"server": {"base_url": "https://id.example.com",
                                                           "trusted_proxies": 1}}])
def test_behind_a_tls_proxy_the_lane_answers_as_the_views_do(asgi: AsgiClient, service: Any, warm: Any,
                                                             settings_overrides: Any) -> None:
    warm(service.client_id)
    proxied = basic(service.client_id, service.secret) | {
        "Host": "10.0.0.5:8000", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "id.example.com",
        "X-Forwarded-For": "198.51.100.7",
    }
    form = {"grant_type": "client_credentials"}
    answer = asgi.request("POST", "/oauth/token", headers=proxied, data=form)
    assert answer.lane and answer.status == 200
    # The proxy says the client came over plain http: the views refuse it, the lane steps aside.
    plain = asgi.request("POST", "/oauth/token", headers=proxied | {"X-Forwarded-Proto": "http"}, data=form)
    assert not plain.lane and plain.status == 400 and plain.json()["error"] == "invalid_request"
    # A forwarded scheme the proxy did not set (two values, one proxy: the rightmost counts).
    forged = asgi.request("POST", "/oauth/token", headers=proxied | {"X-Forwarded-Proto": "https, http"}, data=form)
    assert not forged.lane and forged.status == 400


def test_forged_bearer_tokens_cost_no_sql(asgi: AsgiClient, flow: Any, rp: Any, person: Any, oidc: Any,
                                          services: Any, warm: Any, clock: Any) -> None:
    import base64 as b64
    import json as js

    from sqlalchemy import event

    from idp.oidc.keys import RELOAD_ON_MISS

    token = flow.tokens(rp, person, scope="openid profile")["access_token"]
    warm()
    head, body, signature = token.split(".")

    def encoded(value: dict[str, Any]) -> str:
        return b64.urlsafe_b64encode(js.dumps(value).encode()).rstrip(b"=").decode()

    header = js.loads(b64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    forged = [
        f"{head}.{body}.{signature[:-6]}AAAAAA",                          # a bad signature on our kid
        f"{encoded(header | {'kid': 'unknown-kid'})}.{body}.{signature}",  # a kid we never made
        f"{encoded(header | {'alg': 'none'})}.{body}.",                    # no signature at all
        "a.b.c", "not a token",
    ]
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(services.db.engine, "before_cursor_execute", record)
    try:
        for i in range(40):
            answer = asgi.request("GET", "/oauth/userinfo", headers=bearer(forged[i % len(forged)]))
            assert answer.status == 401
        quiet = len(seen)
        # Past the reload interval, one forged token with an unknown kid reads the keys once; the
        # next ones, within the interval, read nothing.
        clock.advance(seconds=RELOAD_ON_MISS + 1)
        for _ in range(20):
            assert asgi.request("GET", "/oauth/userinfo", headers=bearer(forged[1])).status == 401
    finally:
        event.remove(services.db.engine, "before_cursor_execute", record)
    assert quiet == 0, seen
    assert 1 <= len(seen) <= 2, seen  # the keys (and their activation) read once
    assert asgi.request("GET", "/oauth/userinfo", headers=bearer(token)).status == 200
