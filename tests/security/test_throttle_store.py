"""The failed-sign-in mail throttle against the real Redis and the embedded one: same behaviour."""

from __future__ import annotations

import pytest
from redis.crc import key_slot

from idp.settings import RedisSettings
from idp.stores import redis as redis_store
from idp.stores.security import RedisNotifyThrottle


@pytest.fixture(params=["real", "embedded"])
def client(request, redis_url):
    client = redis_store.connect(RedisSettings(url=redis_url if request.param == "real" else ""))
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


def test_one_mail_per_window_and_the_next_counts_the_rest(client):
    keys = redis_store.Keys("idp")
    throttle = RedisNotifyThrottle(client, keys)
    assert throttle.failed(7, now=1000, window=60, keep=3600) == 1
    assert [throttle.failed(7, now=1000 + i, window=60, keep=3600) for i in range(1, 4)] == [0, 0, 0]
    assert throttle.failed(8, now=1010, window=60, keep=3600) == 1  # per account
    assert throttle.failed(7, now=1060, window=60, keep=3600) == 4  # the 3 held back and this one
    assert throttle.failed(7, now=1061, window=60, keep=3600) == 0
    count, gate = keys.user(7, "notify:failed:count"), keys.user(7, "notify:failed:gate")
    assert 0 < client.ttl(count) <= 3600 and 0 < client.ttl(gate) <= 3600  # every key expires
    assert key_slot(count.encode()) == key_slot(gate.encode())
