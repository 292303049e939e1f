"""Every Redis store against the real server and the embedded in-process one: same behaviour.

tests/production/test_redis_modes.py runs these same tests against a real Redis Cluster (where a
transaction or a Lua script whose keys span hash slots fails) and a Sentinel-managed master."""

from __future__ import annotations

import json

import pytest

from idp.settings import RedisSettings
from idp.stores import redis as redis_store
from idp.stores.counters import RedisFailureCounter
from idp.stores.counters import RedisRateLimiter
from idp.stores.credentials import RedisCredentialFailures
from idp.stores.federation import RedisFederationStore
from idp.stores.flows import RedisFlowStore
from idp.stores.kauth import RedisKauthStore
from idp.stores.mfa import RedisMfaStore
from idp.stores.oidc import RedisOidcStore
from idp.stores.security import RedisNotifyThrottle
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


def test_session_update_keeps_the_ttl_and_leaves_nothing_for_a_gone_session(client, keys):
    store = RedisSessionStore(client, keys)
    record = {"user_id": 9, "created": 1, "last_seen": 1, "auth_time": 1, "ip": "x", "user_agent": "", "amr": [],
              "extra": {}}
    store.create("e" * 64, record, ttl=600, expires=4_000_000_000)
    acting = {"partnership_id": 3, "client_slug": "client"}
    assert store.update("e" * 64, {"acting": acting})
    assert store.get("e" * 64)["acting"] == acting and 0 < client.ttl(keys.session("e" * 64)) <= 600
    assert store.update("e" * 64, {"acting": None}) and store.get("e" * 64)["acting"] is None
    store.delete("e" * 64, 9)
    assert not store.update("e" * 64, {"acting": acting})
    assert client.exists(keys.session("e" * 64)) == 0  # no record without a TTL left behind


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


def test_pending_link_attempts_are_counted_once_each_even_in_parallel(client, keys):
    import threading
    from concurrent.futures import ThreadPoolExecutor

    federation = RedisFederationStore(client, keys)
    federation.put_pending("p", {"user_id": 1}, ttl=60)
    assert [federation.spend_attempt("p", 5)[1] for _ in range(2)] == [1, 2]
    federation.put_pending("q", {"user_id": 2}, ttl=60)  # a fresh code starts again
    start = threading.Barrier(32)

    def spend(_: int):
        start.wait()
        return federation.spend_attempt("q", 5)

    with ThreadPoolExecutor(max_workers=32) as pool:
        spent = [s for s in pool.map(spend, range(32)) if s is not None]
    assert sorted(n for _record, n in spent) == [1, 2, 3, 4, 5]
    assert all(record == {"user_id": 2} for record, _n in spent)
    assert federation.spend_attempt("q", 5) is None  # the fifth took it away
    assert all(client.ttl(k) > 0 for k in client.scan_iter("idp:*"))


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


def test_a_held_hit_can_be_given_back(client, keys):
    limiter = RedisRateLimiter(client, keys)
    for i in range(5):  # successes give their place back: they never add up
        retry, ticket = limiter.take("signin", "192.0.2.3", limit=2, window_ms=1000, now_ms=10_000 + i)
        assert retry == 0 and ticket
        limiter.give_back("signin", "192.0.2.3", ticket)
    assert [limiter.take("signin", "192.0.2.3", limit=2, window_ms=1000, now_ms=10_010)[0] for _ in range(2)] == [0, 0]
    assert limiter.take("signin", "192.0.2.3", limit=2, window_ms=1000, now_ms=10_020) == (990, "")


def test_account_failures_per_ip_are_windowed_and_forgotten_with_the_account(client, keys):
    from redis.crc import key_slot

    limiter = RedisRateLimiter(client, keys)
    counter = RedisFailureCounter(client, keys)
    take = lambda ip, now: limiter.take_account_ip(5, "a@example.com", ip, limit=2, window_ms=1000, now_ms=now)  # noqa: E731
    assert [take("192.0.2.1", 10_000 + i) for i in range(3)] == [0, 0, 998]
    assert take("2001:db8::1", 10_005) == 0  # another address has its own count
    limiter.give_back_account_ip(5, "a@example.com", "192.0.2.1")
    assert take("192.0.2.1", 10_006) == 0 and take("192.0.2.1", 10_007) == 993
    assert take("192.0.2.1", 11_000) == 0  # the window closed
    assert all(0 < client.pttl(k) <= 1000 for k in client.scan_iter("idp:*:by_ip"))
    key = counter.key(5, "a@example.com")
    assert len({key_slot(k.encode()) for k in (key, *client.scan_iter("idp:*:by_ip"))}) == 1
    counter.add(key, 60)
    counter.reset(key)  # a success or an unlock
    assert list(client.scan_iter("idp:*")) == []
    assert [take("192.0.2.1", 11_001) for _ in range(2)] == [0, 0]
    # A login that names no account is counted by its digest, the same way.
    assert limiter.take_account_ip(None, "Nobody@Example.com", "192.0.2.1", limit=1, window_ms=1000, now_ms=1) == 0
    assert limiter.take_account_ip(None, "nobody@example.com", "192.0.2.1", limit=1, window_ms=1000, now_ms=2) == 999
    assert not [k for k in client.scan_iter("idp:*") if "nobody" in k]


def test_flows_complete_once(client, keys):
    flows = RedisFlowStore(client, keys)
    flows.put("f1", {"step": "password"}, ttl=60)
    assert flows.replace("f1", {"step": "factor"})
    assert 0 < client.ttl(keys.flow("f1")) <= 60
    assert flows.take("f1") == {"step": "factor"}
    assert flows.take("f1") is None
    assert not flows.replace("f1", {"step": "x"})  # a finished flow is not brought back
    assert json.loads(json.dumps(flows.get("f1"))) is None


def test_a_claimed_flow_is_gone_until_given_back_with_the_lifetime_it_had_left(client, keys):
    flows = RedisFlowStore(client, keys)
    flows.put("f2", {"step": "password"}, ttl=60)
    state, ttl_ms = flows.claim("f2")
    assert state == {"step": "password"} and 58_000 < ttl_ms <= 60_000
    assert flows.claim("f2") is None and flows.get("f2") is None  # a racing attempt finds nothing
    flows.give_back("f2", {"step": "factor"}, ttl_ms)
    assert flows.get("f2") == {"step": "factor"}
    assert ttl_ms - 2000 < client.pttl(keys.flow("f2")) <= ttl_ms
    assert flows.claim("nope") is None
    _, left = flows.claim("f2")
    flows.give_back("f2", {"step": "x"}, 0)  # no lifetime left: it stays gone
    assert flows.get("f2") is None and left > 0
    # The sign-in limits: the failures cleared and a held place given back, in one call.
    counter, limiter = RedisFailureCounter(client, keys), RedisRateLimiter(client, keys)
    _, ticket = limiter.take("signin", "192.0.2.9", limit=5, window_ms=60_000, now_ms=1)
    key = counter.key(42, "ada@example.com")
    counter.add(key, 60)
    counter.reset(key, give_back=("signin", "192.0.2.9", ticket))
    assert counter.get(key) == 0 and client.zcard(keys.ratelimit("signin", "192.0.2.9")) == 0


def test_kauth_enrolment_challenges_and_nonces(client, keys):
    from idp.kauth.model import Challenge

    store = RedisKauthStore(client, keys)
    store.put_enrolment("e" * 64, {"user_id": 9}, user_id=9, handle="h1", ttl=60)
    assert store.enrolment_status(9, "h1") == "pending"
    assert store.take_enrolment("e" * 64) == {"user_id": 9}
    assert store.take_enrolment("e" * 64) is None  # a token works once
    store.set_enrolment_status(9, "h1", "done", ttl=60)
    assert store.enrolment_status(9, "h1") == "done"

    first = Challenge(id="c1", user_id=9, flow="f", number=42, options=[42, 7, 13], created_ms=1_000,
                      expires_ms=121_000)
    assert store.create_challenge(first, cap=2, window_ms=3_600_000, keep=300) == ("ok", "c1")
    second = Challenge(id="c2", user_id=9, flow="f", number=1, options=[1, 2, 3], created_ms=2_000, expires_ms=122_000)
    assert store.create_challenge(second, cap=2, window_ms=3_600_000, keep=300) == ("busy", "c1")
    assert store.pending_id(9) == "c1"
    assert store.consume(9, "c1").status == "pending"  # not concluded: not used up
    assert store.answer(9, "c1", status="approved", device_id="d1", now_ms=5_000) == "ok"
    assert store.answer(9, "c1", status="denied", device_id="d1", now_ms=6_000) == "answered"
    assert store.pending_id(9) is None
    assert store.consume(9, "c1").status == "approved"
    assert store.consume(9, "c1") is None  # the browser uses an answer once
    assert store.create_challenge(second, cap=2, window_ms=3_600_000, keep=300) == ("ok", "c2")
    store.drop_pending(9, "c2")
    assert store.pending_id(9) is None
    third = Challenge(id="c3", user_id=9, flow="f", number=5, options=[5, 6, 8], created_ms=3_000, expires_ms=123_000)
    assert store.create_challenge(third, cap=2, window_ms=3_600_000, keep=300) == ("capped", "")
    assert store.sent_in_window(9, now_ms=3_000, window_ms=3_600_000) == 2
    assert store.claim_nonce("d1", "n1", ttl=60)
    assert not store.claim_nonce("d1", "n1", ttl=60)
    assert all(client.ttl(k) > 0 for k in client.scan_iter("idp:*"))


def test_failed_signin_mail_throttle(client, keys):
    throttle = RedisNotifyThrottle(client, keys)
    assert throttle.failed(11, now=1_000, window=60, keep=300) == 1  # the first failure mails at once
    assert throttle.failed(11, now=1_010, window=60, keep=300) == 0  # held back
    assert throttle.failed(11, now=1_020, window=60, keep=300) == 0
    assert throttle.failed(11, now=1_061, window=60, keep=300) == 3  # one mail for the three since


def test_credential_failures_per_ip(client, keys):
    failures = RedisCredentialFailures(client, keys)
    assert failures.count("192.0.2.7")[0] == 0
    assert [failures.add("192.0.2.7", 300) for _ in range(2)] == [1, 2]
    count, seconds = failures.count("192.0.2.7")
    assert count == 2 and 0 < seconds <= 300


def test_oidc_codes_denied_tokens_and_session_clients(client, keys):
    store = RedisOidcStore(client, keys)
    store.put("code", "h1", {"client_id": "c"}, ttl=60)
    assert store.get("code", "h1") == {"client_id": "c"}
    assert store.take("code", "h1") == {"client_id": "c"}
    assert store.take("code", "h1") is None
    store.put("authreq", "r1", {"params": {}}, ttl=60)
    store.drop("authreq", "r1")
    assert store.get("authreq", "r1") is None
    store.deny("jti-1", ttl=60)
    assert store.is_denied("jti-1") and not store.is_denied("jti-2")
    store.link_session(12, "s1", "app-a", ttl=60)
    store.link_session(12, "s1", "app-b", ttl=60)
    assert store.take_session_clients(12, "s1") == ["app-a", "app-b"]
    assert store.take_session_clients(12, "s1") == []


def test_mfa_and_federation_single_use_values(client, keys):
    mfa = RedisMfaStore(client, keys)
    key = mfa.user_key(13, "webauthn:register")
    mfa.put(key, "challenge", ttl=60)
    assert mfa.get(key) == "challenge"
    assert mfa.take(key) == "challenge" and mfa.take(key) is None
    flow_key = mfa.token_key("webauthn:signin", "flow-token")
    mfa.put(flow_key, "x", ttl=60)
    mfa.delete(flow_key)
    assert mfa.get(flow_key) is None

    federation = RedisFederationStore(client, keys)
    federation.put_state("st", {"org": 1}, ttl=60)
    assert federation.has_state("st")
    assert federation.take_state("st") == {"org": 1} and federation.take_state("st") is None
    federation.put_pending("p", {"step": 1}, ttl=60)
    assert all(0 < client.ttl(k) <= 60 for k in client.scan_iter("idp:fed:pending:*"))
    assert federation.spend_attempt("p", 3) == ({"step": 1}, 1)
    assert federation.take_pending("p") and not federation.take_pending("p")
    assert federation.spend_attempt("p", 3) is None
    federation.put_resume("r", {"code": "c"}, ttl=60)
    assert federation.take_resume("r") == {"code": "c"} and federation.take_resume("r") is None
