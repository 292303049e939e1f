"""What each request the fast lane answers costs in round trips: SQL statements through its
async pool, Redis commands through its async client, and none through the synchronous stores
(decision 0604). A rule moved or shared must not add one."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from typing import Any

import psycopg
import pytest
import redis.asyncio as aioredis
from sqlalchemy import event

from tests.oidc.lane import Answer
from tests.oidc.lane import AsgiClient
from tests.oidc.lane import basic
from tests.oidc.lane import bearer
from tests.oidc.lane import offline


@dataclass
class Trips:
    sql: list[str] = field(default_factory=list)  # the lane's statements (async pool)
    redis: list[str] = field(default_factory=list)  # the lane's Redis commands (async client)
    sync: list[str] = field(default_factory=list)  # statements of the synchronous stores

    def clear(self) -> None:
        self.sql.clear(), self.redis.clear(), self.sync.clear()

    def counts(self) -> tuple[int, int, int]:
        return len(self.sql), len(self.redis), len(self.sync)


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch, services: Any) -> Iterator[Trips]:
    seen = Trips()
    execute, executemany = psycopg.AsyncCursor.execute, psycopg.AsyncCursor.executemany
    command = aioredis.Redis.execute_command

    async def spy_execute(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
        seen.sql.append(str(query).split()[0])
        return await execute(self, query, *args, **kwargs)

    async def spy_executemany(self: Any, query: Any, params: Any, *args: Any, **kwargs: Any) -> Any:
        params = list(params)
        seen.sql.extend(str(query).split()[0] for _ in params)
        return await executemany(self, query, params, *args, **kwargs)

    async def spy_command(self: Any, *args: Any, **kwargs: Any) -> Any:
        seen.redis.append(str(args[0]))
        return await command(self, *args, **kwargs)

    def sync(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.sync.append(statement.split()[0])

    monkeypatch.setattr(psycopg.AsyncCursor, "execute", spy_execute)
    monkeypatch.setattr(psycopg.AsyncCursor, "executemany", spy_executemany)
    monkeypatch.setattr(aioredis.Redis, "execute_command", spy_command)
    event.listen(services.db.engine, "before_cursor_execute", sync)
    try:
        yield seen
    finally:
        event.remove(services.db.engine, "before_cursor_execute", sync)


def cost(trips: Trips, call: Callable[[], Answer]) -> tuple[int, int, int]:
    """(SQL statements, Redis commands, synchronous statements) of one request the lane answers."""
    trips.clear()
    answer = call()
    assert answer.lane and answer.status == 200, answer.body
    return trips.counts()


def test_each_answer_costs_what_it_did(asgi: AsgiClient, flow: Any, rp: Any, person: Any, service: Any,
                                       warm: Any, trips: Trips) -> None:
    tokens = offline(flow, rp, person)
    warm(rp.client_id, service.client_id)
    rp_auth, service_auth = basic(rp.client_id, rp.secret), basic(service.client_id, service.secret)
    # One first request of each kind, so that the pool and Redis client are open.
    asgi.request("GET", "/oauth/userinfo", headers=bearer(tokens["access_token"]))

    userinfo = cost(trips, lambda: asgi.request("GET", "/oauth/userinfo", headers=bearer(tokens["access_token"])))
    assert userinfo == (1, 1, 0) and trips.sql == ["SELECT"] and trips.redis == ["EXISTS"]
    person_token = cost(trips, lambda: asgi.request("POST", "/oauth/introspect", headers=rp_auth,
                                                    data={"token": tokens["access_token"]}))
    assert person_token == (1, 1, 0)
    issued = cost(trips, lambda: asgi.request("POST", "/oauth/token", headers=service_auth,
                                              data={"grant_type": "client_credentials"}))
    assert issued == (1, 0, 0) and trips.sql == ["INSERT"]
    service_token = asgi.request("POST", "/oauth/token", headers=service_auth,
                                 data={"grant_type": "client_credentials"}).json()["access_token"]
    # A service's token speaks for no account: no SQL at all.
    assert cost(trips, lambda: asgi.request("POST", "/oauth/introspect", headers=service_auth,
                                            data={"token": service_token})) == (0, 1, 0)
    # The token joined with its person, then one statement: spend, successor, event row.
    refreshed = cost(trips, lambda: asgi.request("POST", "/oauth/token", headers=rp_auth, data={
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}))
    assert refreshed == (2, 0, 0) and trips.sql == ["SELECT", "WITH"]
