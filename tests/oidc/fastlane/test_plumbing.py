"""The fast lane's failures, settings, transport and the bridge to the Flask views."""

from __future__ import annotations

from typing import Any

import pytest
from werkzeug.middleware.proxy_fix import ProxyFix

from idp.asgi import client_ip
from idp.asgi import create_asgi_app
from idp.events import EventTag
from tests.oidc.lane import FORM
from tests.oidc.lane import AsgiClient
from tests.oidc.lane import basic
from tests.oidc.lane import bearer
from tests.oidc.lane import offline

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
    tokens = offline(flow, rp, person)
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
