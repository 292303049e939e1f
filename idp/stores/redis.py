"""The one Redis client (a real server, or the embedded in-process one) and its key names."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import wraps
from typing import ParamSpec
from typing import TypeVar

import fakeredis
import redis

from idp.errors import StoreUnavailableError

P = ParamSpec("P")
T = TypeVar("T")

REDIS_ERRORS = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


def connect(url: str, *, socket_timeout: float = 2.0) -> redis.Redis:
    """A redis-py client; without a URL, the embedded server behind the same client class.

    fakeredis.FakeRedis subclasses redis.Redis, so every store runs one code path (Lua
    scripts included, through lupa) whether the data lives in a server or in this process.
    """
    if url:
        return redis.Redis.from_url(
            url, socket_timeout=socket_timeout, socket_connect_timeout=socket_timeout,
            decode_responses=True, health_check_interval=30,
        )
    return fakeredis.FakeRedis(server=fakeredis.FakeServer(), decode_responses=True)


def unavailable_is_503(func: Callable[P, T]) -> Callable[P, T]:
    """Turn a lost Redis connection into StoreUnavailableError (a 503, never a traceback)."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return func(*args, **kwargs)
        except REDIS_ERRORS as exc:
            raise StoreUnavailableError("the session store does not answer") from exc

    return wrapper


class Keys:
    """Every Redis key the service writes. User-scoped keys carry a hash tag so that a
    Redis Cluster keeps one user's keys in one slot."""

    def __init__(self, prefix: str = "idp") -> None:
        self.p = prefix

    def user(self, user_id: int, what: str) -> str:
        return f"{self.p}:{{u:{user_id}}}:{what}"

    def login(self, login: str, what: str) -> str:
        # Attempts against an e-mail with no account are counted under its digest, so an
        # unknown address costs the same Redis work as a known one.
        digest = hashlib.sha256(login.strip().lower().encode()).hexdigest()[:32]
        return f"{self.p}:{{e:{digest}}}:{what}"

    def session(self, sid_digest: str) -> str:
        return f"{self.p}:sess:{sid_digest}"

    def flow(self, flow_digest: str) -> str:
        return f"{self.p}:flow:{flow_digest}"

    def oidc(self, kind: str, name: str) -> str:
        """OpenID Provider state: `code`, `spent`, `authreq`, `denied` (a revoked access token's jti)."""
        return f"{self.p}:oidc:{kind}:{name}"

    def ratelimit(self, scope: str, subject: str) -> str:
        return f"{self.p}:rl:{scope}:{{{subject}}}"


def ping(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except REDIS_ERRORS:
        return False


def close(client: redis.Redis) -> None:
    client.close()
    client.connection_pool.disconnect()
