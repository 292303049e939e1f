"""The one Redis client (standalone, Sentinel, Cluster, or the embedded in-process server) and its key names."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING
from typing import Any
from typing import ParamSpec
from typing import TypeVar

import fakeredis
import redis
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import ExponentialWithJitterBackoff
from redis.retry import Retry

from idp.errors import StoreUnavailableError

if TYPE_CHECKING:
    from idp.settings import RedisSettings

P = ParamSpec("P")
T = TypeVar("T")

# What a Redis outage looks like to a client: no connection, no answer in time, a cluster that
# lost a slot's master, a sentinel with no master to name, an old master turned replica. All of
# these are a 503. A cross-slot request is not among them: it is a bug, and stays an error.
REDIS_ERRORS: tuple[type[Exception], ...] = (
    redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, redis.exceptions.ClusterDownError,
    redis.exceptions.SlotNotCoveredError, redis.exceptions.TryAgainError, redis.exceptions.ReadOnlyError,
    redis.exceptions.MasterDownError,
)

# A command retries a lost connection twice within about 50 ms, then fails: a request during an
# outage answers 503 at once instead of hanging, and the next request reconnects. A server that
# does not answer in time (frozen, overloaded) is not asked again: one socket_timeout, then 503.
RETRIES = 2


def _retry() -> Retry:
    return Retry(ExponentialWithJitterBackoff(base=0.01, cap=0.05), RETRIES,
                 supported_errors=(redis.exceptions.ConnectionError,))


def _address(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    return host.strip("[]"), int(port)


def _tls(settings: RedisSettings) -> dict[str, Any]:
    """redis-py's TLS arguments: the CA file, and a client certificate where one is set."""
    out: dict[str, Any] = {}
    if settings.tls_ca:
        out["ssl_ca_certs"] = settings.tls_ca
    if settings.tls_cert:
        out["ssl_certfile"], out["ssl_keyfile"] = settings.tls_cert, settings.tls_key
    return out


def client_options(settings: RedisSettings) -> dict[str, Any]:
    """Arguments every data-node connection takes, whichever the mode and client (sync or async)."""
    options: dict[str, Any] = {
        "socket_timeout": settings.socket_timeout, "socket_connect_timeout": settings.socket_timeout,
        "decode_responses": True,
    }
    if settings.mode != "standalone":
        if settings.username:
            options["username"] = settings.username
        if settings.password.get_secret_value():
            options["password"] = settings.password.get_secret_value()
        if settings.tls:
            options["ssl"] = True
            options.update(_tls(settings))
    elif settings.url.get_secret_value().startswith("rediss://"):
        options.update(_tls(settings))
    return options


def _sentinel_options(settings: RedisSettings) -> dict[str, Any]:
    options: dict[str, Any] = {
        "socket_timeout": settings.socket_timeout, "socket_connect_timeout": settings.socket_timeout,
        "decode_responses": True,
    }
    if settings.sentinel_username:
        options["username"] = settings.sentinel_username
    if settings.sentinel_password.get_secret_value():
        options["password"] = settings.sentinel_password.get_secret_value()
    if settings.tls:
        options["ssl"] = True
        options.update(_tls(settings))
    return options


# The synchronous client the stores take (the composition root holds one per process).
Client = redis.Redis


def connect(settings: RedisSettings) -> redis.Redis:
    """The sync client for the configured mode.

    standalone: `redis.Redis` on the url (or, without one, the embedded server: fakeredis's
    FakeRedis subclasses redis.Redis, so every store runs one code path, Lua scripts included);
    sentinel: the master the sentinels name, found again after a failover on the next command;
    cluster: `RedisCluster`, which follows the slots and learns a promoted replica by itself.
    Each is a redis.Redis to the stores (RedisCluster has the same command methods).
    """
    options = client_options(settings)
    if settings.mode == "cluster":
        from redis.cluster import ClusterNode
        from redis.cluster import RedisCluster

        nodes = [ClusterNode(*_address(node)) for node in settings.nodes]  # type: ignore[no-untyped-call]
        return RedisCluster(  # type: ignore[return-value]
            startup_nodes=nodes, retry=_retry(), require_full_coverage=True, **options
        )
    if settings.mode == "sentinel":
        from redis.sentinel import Sentinel

        sentinel = Sentinel(  # type: ignore[no-untyped-call]
            [_address(a) for a in settings.sentinels], sentinel_kwargs=_sentinel_options(settings), **options
        )
        master: redis.Redis = sentinel.master_for(  # type: ignore[no-untyped-call]
            settings.service_name, db=settings.db, retry=_retry(), **options
        )
        return master
    url = settings.url.get_secret_value()
    if url:
        # No health_check_interval: a PING before each use of an idle connection costs a round
        # trip, and a full socket timeout more when the server is frozen; a dead connection
        # fails its command and is replaced by the retry.
        return redis.Redis.from_url(url, retry=_retry(), **options)
    return fakeredis.FakeRedis(server=fakeredis.FakeServer(), decode_responses=True)


def connect_async(settings: RedisSettings) -> aioredis.Redis:
    """The asyncio client (the OIDC fast lane) for the same mode and credentials as `connect`."""
    options = client_options(settings) | {"decode_responses": False}
    retry = AsyncRetry(ExponentialWithJitterBackoff(base=0.01, cap=0.05), RETRIES,
                       supported_errors=(redis.exceptions.ConnectionError,))
    if settings.mode == "cluster":
        from redis.asyncio.cluster import ClusterNode as AsyncNode
        from redis.asyncio.cluster import RedisCluster as AsyncCluster

        nodes = [AsyncNode(*_address(node)) for node in settings.nodes]
        return AsyncCluster(startup_nodes=nodes, retry=retry, require_full_coverage=True, **options)  # type: ignore[return-value]
    if settings.mode == "sentinel":
        from redis.asyncio.sentinel import Sentinel as AsyncSentinel

        sentinel = AsyncSentinel(  # type: ignore[no-untyped-call]
            [_address(a) for a in settings.sentinels],
            sentinel_kwargs=_sentinel_options(settings) | {"decode_responses": False}, **options,
        )
        master: aioredis.Redis = sentinel.master_for(settings.service_name, db=settings.db, retry=retry, **options)
        return master
    return aioredis.Redis.from_url(settings.url.get_secret_value(), retry=retry, **options)


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

    def probe(self) -> str:
        """The key /readyz writes and reads back."""
        return f"{self.p}:readyz"

    def ratelimit(self, scope: str, subject: str) -> str:
        return f"{self.p}:rl:{scope}:{{{subject}}}"


def ready(client: redis.Redis, probe: str) -> bool:
    """Whether Redis really serves this service: a write and a read answered by the node that
    owns the key (a cluster also reports cluster_state:ok; a sentinel setup reaches its master,
    which must still be a master). A PING alone would pass on a cluster that has lost slots, and
    on a demoted master."""
    from redis.cluster import RedisCluster

    try:
        if isinstance(client, RedisCluster):
            info = client.cluster_info(target_nodes=RedisCluster.RANDOM)
            if str(info.get("cluster_state")) != "ok":
                return False
        client.set(probe, "1", ex=10)
        return client.get(probe) == "1"
    except REDIS_ERRORS:
        return False
    except redis.exceptions.RedisError:
        return False


def close(client: redis.Redis) -> None:
    """Close the client's connections (a cluster client holds one pool per node)."""
    client.close()
    pool = getattr(client, "connection_pool", None)
    if pool is not None:
        pool.disconnect()
