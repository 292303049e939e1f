"""The Redis stores' contract (tests/contract/test_redis_stores.py) against a real Redis Cluster
and a real Sentinel-managed master, the clients made as the service makes them.

On the Cluster, a transaction or a Lua script whose keys span hash slots fails (CROSSSLOT, or the
client's own cross-slot error), so a store that would silently lose its atomicity there fails a
test here. `RedisCluster.pipeline()` is not a transaction unless asked, where `redis.Redis`'s is:
the Cluster client of these tests makes an unqualified pipeline a transaction, so a store that
relies on the default's atomicity is held to it. Last, sessions ended while a master hangs and
a replica takes over: none may stay alive yet unlisted.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from typing import Any

import pytest
from redis.cluster import ClusterNode
from redis.cluster import RedisCluster as ClusterClient
from redis.exceptions import RedisClusterException
from redis.exceptions import ResponseError

from idp.errors import StoreUnavailableError
from idp.settings import load_settings
from idp.stores import redis as redis_store
from idp.stores.sessions import RedisSessionStore
from tests.contract import test_redis_stores as contract
from tests.production.topology import RedisCluster
from tests.production.topology import Topology

# Every test of the contract, collected here too with this module's `client` and `keys`.
for _name in dir(contract):
    if _name.startswith("test_"):
        globals()[_name] = getattr(contract, _name)


class PipelinesAreTransactions(ClusterClient):
    """The service's Cluster client, except that `pipeline()` with no `transaction` argument is a
    transaction, as on `redis.Redis`."""

    def pipeline(self, transaction: Any = None, shard_hint: Any = None) -> Any:
        return super().pipeline(transaction=True if transaction is None else transaction, shard_hint=shard_hint)


def settings_of(topology: Topology) -> Any:
    values = {k.removeprefix("IDP_REDIS_").lower(): v for k, v in topology.env().items()}
    return load_settings(require_secret=False, redis=values).redis


def delete_contract_keys(client: Any) -> None:
    # Only the contract's keys (prefix `idp`): the multi-host tests' services use `hosts`.
    for key in list(client.scan_iter("idp:*")):
        client.delete(key)


@pytest.fixture
def client(redis_topology: Topology) -> Iterator[Any]:
    settings = settings_of(redis_topology)
    made: Any
    if isinstance(redis_topology, RedisCluster):
        service_client = redis_store.connect(settings)
        assert isinstance(service_client, ClusterClient)  # what the service runs on
        redis_store.close(service_client)
        made = PipelinesAreTransactions(
            startup_nodes=[ClusterNode(*node.split(":")) for node in settings.nodes],
            require_full_coverage=True, **redis_store.client_options(settings),
        )
    else:
        made = redis_store.connect(settings)
        assert made.connection_pool.service_name == settings.service_name
    delete_contract_keys(made)
    yield made
    delete_contract_keys(made)
    redis_store.close(made)


@pytest.fixture
def keys() -> redis_store.Keys:
    return redis_store.Keys("idp")


def test_keys_across_slots_are_refused_in_one_transaction_or_script_on_the_cluster(
        client: Any, redis_topology: Topology) -> None:
    """The harness itself: what the contract relies on to catch a cross-slot store."""
    pipe = client.pipeline()
    pipe.set("idp:one", "1")
    pipe.set("idp:two", "2")  # another slot
    script = client.register_script("redis.call('SET', KEYS[1], '1'); redis.call('SET', KEYS[2], '2')")
    if isinstance(redis_topology, RedisCluster):
        with pytest.raises((RedisClusterException, ResponseError), match=r"(?i)slot"):
            pipe.execute()
        with pytest.raises((RedisClusterException, ResponseError), match=r"(?i)slot"):
            script(keys=["idp:one", "idp:two"])
        assert (client.get("idp:one"), client.get("idp:two")) == (None, None)  # nothing half-done
        tagged = client.pipeline()  # one hash tag: one slot
        tagged.set("idp:{t}:one", "1")
        tagged.set("idp:{t}:two", "2")
        assert len(tagged.execute()) == 2  # (a Cluster transaction answers SET with "OK", not True)
        assert (client.get("idp:{t}:one"), client.get("idp:{t}:two")) == ("1", "2")
    else:
        assert pipe.execute() == [True, True]
        client.delete("idp:one", "idp:two")
        script(keys=["idp:one", "idp:two"])
        assert (client.get("idp:one"), client.get("idp:two")) == ("1", "2")


@pytest.mark.parametrize("redis_topology", ["cluster"], indirect=True)
@pytest.mark.parametrize("end", ["one", "all"])
def test_ending_sessions_while_a_master_hangs_leaves_none_alive_and_unlisted(redis_topology: RedisCluster,
                                                                            end: str) -> None:
    """A session's record and its owner's index live in two slots, here on two masters. Ending
    the session while the record's master hangs (and a replica then takes over) fails with a
    503, and must leave the session listed if it is still alive, so that ending it again
    reaches it: a live session missing from the index could not be ended from the sessions
    page, nor by disabling the account or changing its password."""
    cluster = redis_topology
    keys = redis_store.Keys("idp")
    # The service's own client, giving up sooner than the Cluster fails over (as the default
    # 2 s socket timeout does with a node timeout of 5 s or more).
    client = redis_store.connect(settings_of(cluster).model_copy(update={"socket_timeout": 0.3}))
    store = RedisSessionStore(client, keys)
    user_id = 21
    index_master = cluster.master_for_key(keys.user(user_id, "sessions"))
    digests = (secrets.token_hex(32) for _ in range(200))
    digest = next(d for d in digests if cluster.master_for_key(keys.session(d)) is not index_master)
    record = {"user_id": user_id, "created": 1, "last_seen": 1, "auth_time": 1, "ip": "x", "user_agent": "",
              "amr": [], "extra": {}}
    try:
        store.create(digest, record, ttl=600, expires=4_000_000_000)
        victim = cluster.master_for_key(keys.session(digest))
        cluster.wait_replicated(victim)
        assert [d for d, _ in store.list_for_user(user_id, now=2)] == [digest]  # both masters' connections open
        cluster.freeze_master(victim)
        started = time.monotonic()
        with pytest.raises(StoreUnavailableError):
            store.delete(digest, user_id) if end == "one" else store.delete_all(user_id)
        gave_up = time.monotonic() - started
        cluster.wait_failed_over(victim)
        assert time.monotonic() - started > gave_up + 0.5, "the client did not give up before the failover"
        cluster.heal()  # the hung master comes back, as a replica of the promoted one
        alive = store.get(digest) is not None
        listed = [d for d, _ in store.list_for_user(user_id, now=2)]
        assert listed == ([digest] if alive else []), f"alive={alive}, listed={listed}"
        store.delete_all(user_id)
        assert store.get(digest) is None
    finally:
        delete_contract_keys(client)
        redis_store.close(client)
        cluster.heal()
