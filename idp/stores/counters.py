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
# hit is not recorded, so a client that stops recovers), else record this hit under ARGV[4],
# the ticket that can give it back.
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

# One account's failed attempts per client IP: a hash {ip: "<count>:<first failure, ms>"}. A
# window opens at an IP's first failure and lasts ARGV[3] ms; past ARGV[4] failures in it, the
# answer is the milliseconds until it closes (nothing recorded), else 0 and this one counts.
_ACCOUNT_IP_TAKE = """
local now, window, limit = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local count, first = 0, now
local held = redis.call('HGET', KEYS[1], ARGV[1])
if held then
  local sep = string.find(held, ':', 1, true)
  count, first = tonumber(string.sub(held, 1, sep - 1)), tonumber(string.sub(held, sep + 1))
  if now - first >= window then
    count, first = 0, now
  end
end
if count >= limit then
  return first + window - now
end
redis.call('HSET', KEYS[1], ARGV[1], (count + 1) .. ':' .. first)
redis.call('PEXPIRE', KEYS[1], window)
return 0
"""

_ACCOUNT_IP_GIVE_BACK = """
local held = redis.call('HGET', KEYS[1], ARGV[1])
if not held then
  return 0
end
local sep = string.find(held, ':', 1, true)
local count = tonumber(string.sub(held, 1, sep - 1)) - 1
if count <= 0 then
  redis.call('HDEL', KEYS[1], ARGV[1])
else
  redis.call('HSET', KEYS[1], ARGV[1], count .. ':' .. string.sub(held, sep + 1))
end
return 1
"""


def failures_key(keys: Keys, user_id: int | None, login: str) -> str:
    """Where an account's failed attempts are counted: by user id, or by the digest of a login
    that names no account (so an unknown address costs the same Redis work as a known one)."""
    return keys.user(user_id, "failures") if user_id else keys.login(login, "failures")


def by_ip_key(failures: str) -> str:
    """The same account's failures per client IP: next to its count, in the same Cluster slot."""
    return failures + ":by_ip"


class RedisFailureCounter:
    """Failed attempts per account (`<p>:{u:<id>}:failures`) or per unknown login."""

    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self.r = client
        self.keys = keys
        self._count = client.register_script(_COUNT_FAILURE)

    def key(self, user_id: int | None, login: str) -> str:
        return failures_key(self.keys, user_id, login)

    @unavailable_is_503
    def add(self, key: str, window: int) -> int:
        return int(self._count(keys=[key], args=[window]))

    @unavailable_is_503
    def get(self, key: str) -> int:
        return int(self.r.get(key) or 0)

    @unavailable_is_503
    def reset(self, key: str, *, give_back: tuple[str, str, str] | None = None) -> None:
        """Forget the account's failures: its count, and its failures per IP that the sign-in
        limit holds (a success, an unlock, a password set through the unlock link). Both keys
        share the account's hash tag, so one DEL removes them on a Cluster too. `give_back`
        (scope, subject, ticket) also removes a rate-limit hit (`RedisRateLimiter.give_back`),
        in the same round trip (a pipeline, not a transaction: its key is in another slot)."""
        if give_back is None:
            self.r.delete(key, by_ip_key(key))
            return
        scope, subject, ticket = give_back
        pipe = self.r.pipeline(transaction=False)
        pipe.delete(key)  # one key per DEL: a Cluster pipeline takes no multi-key DEL
        pipe.delete(by_ip_key(key))
        pipe.zrem(self.keys.ratelimit(scope, subject), ticket)
        pipe.execute()


class RedisRateLimiter:
    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self.r = client
        self.keys = keys
        self._hit = client.register_script(_SLIDING_WINDOW)
        self._account_take = client.register_script(_ACCOUNT_IP_TAKE)
        self._account_give_back = client.register_script(_ACCOUNT_IP_GIVE_BACK)

    @unavailable_is_503
    def hit(self, scope: str, subject: str, *, limit: int, window_ms: int, now_ms: int) -> int:
        """Record one hit; 0 when allowed, else the milliseconds until one is allowed again."""
        return self.take(scope, subject, limit=limit, window_ms=window_ms, now_ms=now_ms)[0]

    @unavailable_is_503
    def take(self, scope: str, subject: str, *, limit: int, window_ms: int, now_ms: int) -> tuple[int, str]:
        """Record one hit: (0, its ticket) when allowed, else (milliseconds to wait, "")."""
        ticket = f"{now_ms}-{secrets.token_hex(6)}"
        allowed, retry_ms = self._hit(
            keys=[self.keys.ratelimit(scope, subject)], args=[now_ms, window_ms, limit, ticket]
        )
        return (0, ticket) if int(allowed) else (max(1, int(retry_ms)), "")

    @unavailable_is_503
    def give_back(self, scope: str, subject: str, ticket: str) -> None:
        """Remove the hit recorded under `ticket` (it turned out not to count)."""
        self.r.zrem(self.keys.ratelimit(scope, subject), ticket)

    @unavailable_is_503
    def take_account_ip(
        self, user_id: int | None, login: str, ip: str, *, limit: int, window_ms: int, now_ms: int
    ) -> int:
        """Count one attempt on an account from `ip`: 0 when allowed, else the milliseconds
        until that IP may try this account again. Forgotten with the account's failures."""
        key = by_ip_key(failures_key(self.keys, user_id, login))
        return int(self._account_take(keys=[key], args=[ip, now_ms, window_ms, limit]))

    @unavailable_is_503
    def give_back_account_ip(self, user_id: int | None, login: str, ip: str) -> None:
        key = by_ip_key(failures_key(self.keys, user_id, login))
        self._account_give_back(keys=[key], args=[ip])
