"""Every Redis store against the real server and the embedded in-process one: same behaviour."""

from __future__ import annotations

import json

import pytest

from idp.settings import RedisSettings
from idp.stores import redis as redis_store
from idp.stores.counters import RedisFailureCounter
from idp.stores.counters import RedisRateLimiter
from idp.stores.flows import RedisFlowStore
from idp.stores.sessions import RedisSessionStore


@pytest.fixture(params=["real", "embedded"])
def client(request, redis_url):
    client = redis_store.connect(RedisSettings(url=redis_url if request.param == "real" else ""))
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
def keys():
    return redis_store.Keys("idp")


def test_user_keys_share_one_cluster_slot(keys):
    from redis.crc import key_slot

    slots = {key_slot(k.encode()) for k in (keys.user(42, "sessions"), keys.user(42, "failures"))}
    assert len(slots) == 1
    assert keys.user(42, "sessions") == "idp:{u:42}:sessions"


def test_sessions_create_list_touch_and_end(client, keys):
    store = RedisSessionStore(client, keys)
    record = {"user_id": 7, "created": 100, "last_seen": 100, "auth_time": 100, "ip": "192.0.2.1",
              "user_agent": "ua", "amr": ["pwd"], "extra": {}}
    store.create("a" * 64, record, ttl=600, expires=4_000_000_000)
    store.create("b" * 64, record | {"ip": "192.0.2.2"}, ttl=600, expires=4_000_000_000)
    assert store.get("a" * 64)["amr"] == ["pwd"]
    assert {d for d, _ in store.list_for_user(7, now=200)} == {"a" * 64, "b" * 64}
    assert store.touch("a" * 64, last_seen=300, ip="192.0.2.9", ttl=600)
    assert store.get("a" * 64)["last_seen"] == 300
    assert store.delete_all(7, keep="a" * 64) == ["b" * 64]
    assert store.get("b" * 64) is None
    assert store.delete("a" * 64, 7)
    assert store.list_for_user(7, now=200) == []
    assert not store.touch("a" * 64, last_seen=400, ip="x", ttl=600)
    assert client.exists(keys.session("a" * 64)) == 0  # touching a gone session leaves nothing behind


def test_every_session_key_has_a_ttl(client, keys):
    store = RedisSessionStore(client, keys)
    record = {"user_id": 7, "created": 1, "last_seen": 1, "auth_time": 1, "ip": "x", "user_agent": "", "amr": [], "extra": {}}
    store.create("c" * 64, record, ttl=600, expires=4_000_000_000)
    assert all(client.ttl(k) > 0 for k in client.scan_iter("idp:*"))


def test_index_drops_sessions_whose_record_expired(client, keys):
    store = RedisSessionStore(client, keys)
    record = {"user_id": 8, "created": 1, "last_seen": 1, "auth_time": 1, "ip": "x", "user_agent": "", "amr": [], "extra": {}}
    store.create("d" * 64, record, ttl=600, expires=4_000_000_000)
    client.delete(keys.session("d" * 64))  # as if its idle TTL ran out
    assert store.list_for_user(8, now=2) == []
    assert client.zcard(keys.user(8, "sessions")) == 0


def test_failure_counter_counts_and_expires(client, keys):
    counter = RedisFailureCounter(client, keys)
    key = counter.key(5, "a@example.com")
    assert [counter.add(key, 60) for _ in range(3)] == [1, 2, 3]
    assert 0 < client.ttl(key) <= 60
    assert counter.get(key) == 3
    counter.reset(key)
    assert counter.get(key) == 0
    unknown = counter.key(None, "Nobody@Example.com")
    assert unknown == counter.key(None, "nobody@example.com ") and "nobody" not in unknown


def test_sliding_window_rate_limit(client, keys):
    limiter = RedisRateLimiter(client, keys)
    hits = [limiter.hit("signin", "192.0.2.1", limit=3, window_ms=1000, now_ms=10_000 + i) for i in range(5)]
    assert hits[:3] == [0, 0, 0]
    assert all(h > 0 for h in hits[3:])
    assert limiter.hit("signin", "192.0.2.1", limit=3, window_ms=1000, now_ms=11_001) == 0
    assert limiter.hit("signin", "192.0.2.2", limit=3, window_ms=1000, now_ms=10_000) == 0


def test_flows_complete_once(client, keys):
    flows = RedisFlowStore(client, keys)
    flows.put("f1", {"step": "password"}, ttl=60)
    assert flows.replace("f1", {"step": "factor"})
    assert 0 < client.ttl(keys.flow("f1")) <= 60
    assert flows.take("f1") == {"step": "factor"}
    assert flows.take("f1") is None
    assert not flows.replace("f1", {"step": "x"})  # a finished flow is not brought back
    assert json.loads(json.dumps(flows.get("f1"))) is None
