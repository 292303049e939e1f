"""Atomic counters in Redis: failed sign-in attempts and sliding-window rate limits."""

from __future__ import annotations

import secrets

import redis

from idp.stores.redis import Keys
from idp.stores.redis import unavailable_is_503

# Increment and give the key its window on the first failure, in one step: a process dying
# between INCR and EXPIRE would otherwise leave a counter that never expires.
_COUNT_FAILURE = """
local n = redis.call('INCR', KEYS[1])
if n == 1 or redis.call('TTL', KEYS[1]) < 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
end
return n
"""

# Sliding-window log: drop entries older than the window, refuse past the limit (a refused
# hit is not recorded, so a client that stops recovers), else record this hit.
_SLIDING_WINDOW = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[2]))
local n = redis.call('ZCARD', KEYS[1])
if n >= tonumber(ARGV[3]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {0, tonumber(oldest[2]) + tonumber(ARGV[2]) - tonumber(ARGV[1])}
end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return {1, 0}
"""


class RedisFailureCounter:
    """Failed attempts per account (`<p>:{u:<id>}:failures`) or per unknown login."""

    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self.r = client
        self.keys = keys
        self._count = client.register_script(_COUNT_FAILURE)

    def key(self, user_id: int | None, login: str) -> str:
        return self.keys.user(user_id, "failures") if user_id else self.keys.login(login, "failures")

    @unavailable_is_503
    def add(self, key: str, window: int) -> int:
        return int(self._count(keys=[key], args=[window]))

    @unavailable_is_503
    def get(self, key: str) -> int:
        return int(self.r.get(key) or 0)

    @unavailable_is_503
    def reset(self, key: str) -> None:
        self.r.delete(key)


class RedisRateLimiter:
    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self.r = client
        self.keys = keys
        self._hit = client.register_script(_SLIDING_WINDOW)

    @unavailable_is_503
    def hit(self, scope: str, subject: str, *, limit: int, window_ms: int, now_ms: int) -> int:
        """Record one hit; 0 when allowed, else the milliseconds until one is allowed again."""
        member = f"{now_ms}-{secrets.token_hex(6)}"
        allowed, retry_ms = self._hit(
            keys=[self.keys.ratelimit(scope, subject)], args=[now_ms, window_ms, limit, member]
        )
        return 0 if int(allowed) else max(1, int(retry_ms))
