"""The fast lane's discovery and JWKS: the views' bytes, their freshness, and their metrics."""

from __future__ import annotations

from typing import Any

from idp.asgi import Application
from tests.oidc.lane import AsgiClient
from tests.oidc.lane import basic
from tests.oidc.lane import bearer


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
