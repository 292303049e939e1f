"""The kAuth Redis store on the embedded server too (its Lua scripts run under fakeredis)."""

from __future__ import annotations

import pytest

from idp.kauth.model import Challenge
from idp.settings import RedisSettings
from idp.stores import redis as redis_store
from idp.stores.kauth import RedisKauthStore
from idp.stores.redis import Keys


@pytest.fixture(params=["embedded", "server"])
def store(request, redis_url):
    import redis

    if request.param == "server":
        redis.Redis.from_url(redis_url).flushdb()
    client = redis_store.connect(RedisSettings(url="" if request.param == "embedded" else redis_url))
    yield RedisKauthStore(client, Keys("idp"))
    if request.param == "server":
        client.flushdb()
    redis_store.close(client)


def challenge(cid: str, now: int = 1_000_000, user_id: int = 7) -> Challenge:
    return Challenge(id=cid, user_id=user_id, flow="f", number=42, options=[42, 17, 88], created_ms=now,
                     expires_ms=now + 120_000, context={"ip": "10.0.0.1"})


def test_one_pending_then_first_answer_wins_then_consumed_once(store):
    assert store.create_challenge(challenge("kc_a"), cap=5, window_ms=3_600_000, keep=400) == ("ok", "kc_a")
    assert store.create_challenge(challenge("kc_b"), cap=5, window_ms=3_600_000, keep=400) == ("busy", "kc_a")
    assert store.pending_id(7) == "kc_a"
    assert store.answer(7, "kc_a", status="approved", device_id="kd_1", now_ms=1_000_500) == "ok"
    assert store.answer(7, "kc_a", status="denied", device_id="kd_2", now_ms=1_000_600) == "answered"
    assert store.pending_id(7) is None
    first = store.consume(7, "kc_a")
    assert first is not None and first.status == "approved" and first.device_id == "kd_1"
    assert first.context == {"ip": "10.0.0.1"} and first.options == [42, 17, 88]
    assert store.consume(7, "kc_a") is None


def test_expiry_and_cap_follow_the_service_clock(store):
    store.create_challenge(challenge("kc_a"), cap=2, window_ms=3_600_000, keep=400)
    assert store.answer(7, "kc_a", status="approved", device_id="kd_1", now_ms=1_120_000) == "expired"
    assert store.create_challenge(challenge("kc_b", now=1_130_000), cap=2, window_ms=3_600_000, keep=400)[0] == "ok"
    assert store.create_challenge(challenge("kc_c", now=1_260_000), cap=2, window_ms=3_600_000, keep=400) == ("capped", "")
    assert store.sent_in_window(7, now_ms=1_260_000, window_ms=3_600_000) == 2
    assert store.create_challenge(challenge("kc_d", now=4_700_000), cap=2, window_ms=3_600_000, keep=400)[0] == "ok"
    assert store.answer(7, "kc_nope", status="approved", device_id="kd_1", now_ms=1) == "unknown"


def test_nonces_and_enrolment_tokens_work_once(store):
    assert store.claim_nonce("kd_1", "n" * 16, 60)
    assert not store.claim_nonce("kd_1", "n" * 16, 60)
    assert store.claim_nonce("kd_2", "n" * 16, 60)
    store.put_enrolment("d", {"user_id": 7, "handle": "h"}, user_id=7, handle="h", ttl=60)
    assert store.enrolment_status(7, "h") == "pending"
    assert store.take_enrolment("d") == {"user_id": 7, "handle": "h"}
    assert store.take_enrolment("d") is None
