"""The OpenID Provider's hot-path statements, for the fast lane of the ASGI application:
PostgreSQL through psycopg's async connection pool, Redis through redis.asyncio.

The SQL is compiled once from the same tables the synchronous stores use, and rows are turned
into records by the same functions, so a column renamed in the models is renamed here too. Only
PostgreSQL: with SQLite the fast lane is off and the synchronous stores serve every request.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import SimpleNamespace
from typing import TYPE_CHECKING
from typing import Any
from typing import cast

import psycopg
import redis.asyncio as aioredis
from psycopg.rows import namedtuple_row
from psycopg.types.json import Json
from psycopg_pool import AsyncConnectionPool
from psycopg_pool import PoolTimeout
from sqlalchemy import Table
from sqlalchemy import bindparam
from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import make_url
from sqlalchemy.sql import ClauseElement

from idp.errors import StoreUnavailableError
from idp.model import User
from idp.oidc.records import RefreshRecord
from idp.stores.models import EventRow
from idp.stores.models import UserRow
from idp.stores.oidc import _refresh
from idp.stores.redis import Keys
from idp.stores.redis import connect_async

if TYPE_CHECKING:
    from idp.settings import RedisSettings
from idp.stores.tables_oidc import OidcRefreshTokenRow
from idp.stores.users import _user

_DIALECT = postgresql.psycopg.dialect()  # type: ignore[no-untyped-call]


def _sql(statement: ClauseElement) -> str:
    """The statement as psycopg runs it (named `%(name)s` parameters)."""
    return str(statement.compile(dialect=_DIALECT))


_USERS = cast(Table, UserRow.__table__)
_REFRESH = cast(Table, OidcRefreshTokenRow.__table__)
_EVENTS = cast(Table, EventRow.__table__)
_JSON_COLUMNS = {"amr", "claims", "details", "acting"}

USER_BY_SUBJECT = _sql(select(_USERS).where(_USERS.c.subject == bindparam("subject")))
_REFRESH_COLUMNS = [c.name for c in _REFRESH.columns if c.name != "id"]
_EVENT_COLUMNS = [c.name for c in _EVENTS.columns if c.name != "id"]
INSERT_EVENT = _sql(insert(_EVENTS).values({c: bindparam(c) for c in _EVENT_COLUMNS}).returning(_EVENTS.c.id))

# A refresh token and its person in one round trip (person columns prefixed "p_").
REFRESH_WITH_PERSON = _sql(
    select(*_REFRESH.c, *[c.label(f"p_{c.name}") for c in _USERS.c])
    .join_from(_REFRESH, _USERS, _USERS.c.id == _REFRESH.c.user_id)
    .where(_REFRESH.c.token_hash == bindparam("token_hash"))
)


def _rotation(with_successor: bool) -> str:
    """One statement, so one atomic commit: spend the token (only if unspent and unrevoked),
    then insert its successor and the event row from what the spend returned; a spend that finds
    nothing inserts nothing. Parameters: spent_id, used_at, r_<column>, e_<column>."""
    spent = (
        update(_REFRESH)
        .where(_REFRESH.c.id == bindparam("spent_id"), _REFRESH.c.used_at.is_(None), _REFRESH.c.revoked_at.is_(None))
        .values(used_at=bindparam("used_at"))
        .returning(_REFRESH.c.id)
        .cte("spent")
    )
    event = insert(_EVENTS).from_select(
        _EVENT_COLUMNS,
        select(*[bindparam(f"e_{c}", type_=_EVENTS.c[c].type) for c in _EVENT_COLUMNS]).select_from(spent),
    ).returning(_EVENTS.c.id).cte("event")
    columns = [select(spent.c.id).scalar_subquery().label("spent_id"),
               select(event.c.id).scalar_subquery().label("event_id")]
    if with_successor:
        successor = insert(_REFRESH).from_select(
            _REFRESH_COLUMNS,
            select(*[bindparam(f"r_{c}", type_=_REFRESH.c[c].type) for c in _REFRESH_COLUMNS]).select_from(spent),
        ).returning(_REFRESH.c.id).cte("successor")
        columns.append(select(successor.c.id).scalar_subquery().label("new_id"))
    return _sql(select(*columns))


ROTATE = _rotation(True)
ROTATE_LAST = _rotation(False)  # the client gets no new refresh token


def _params(values: dict[str, Any], columns: list[str]) -> dict[str, Any]:
    # None stays SQL NULL (a grant without an acting state), not JSON null.
    return {c: Json(values[c]) if c in _JSON_COLUMNS and values.get(c) is not None else values.get(c) for c in columns}


def conninfo(database_url: str) -> str:
    """A libpq connection string from the service's SQLAlchemy URL."""
    return str(make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False))


# Seconds between two fresh pools after failures, how long after a failure requests wait only
# FAST_FAIL_TIMEOUT seconds for a connection.
RESET_INTERVAL = 0.5
FAST_FAIL_WINDOW = 5.0
FAST_FAIL_TIMEOUT = 0.5


class AsyncOidcStore:
    """Opened on first use in the running event loop (one per worker process), closed by
    `close()` when the server shuts down."""

    def __init__(self, database_url: str, redis: RedisSettings, keys: Keys, *, pool_size: int = 4,
                 timeout: float = 3.0) -> None:
        self._conninfo = conninfo(database_url)
        self._redis_settings = redis
        self.keys = keys
        self.pool_size = pool_size
        # Seconds a request waits for a connection (the database down: then a 503).
        self.timeout = timeout
        self._pool: AsyncConnectionPool[Any] | None = None
        self._redis: aioredis.Redis | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._events: list[tuple[dict[str, Any], asyncio.Future[int]]] = []
        self._writing = False
        self._writer: asyncio.Task[None] | None = None
        self._failed_at = self._reset_at = float("-inf")
        self._closing: set[asyncio.Task[None]] = set()

    def _bind(self) -> asyncio.AbstractEventLoop:
        """The running loop. A pool and a writer serve the loop they started in: a server has one
        loop per worker; a new loop (tests, a restarted server thread) starts afresh."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._pool, self._redis, self._loop = None, None, loop
            self._events, self._writing = [], False
        return loop

    async def _open(self) -> AsyncConnectionPool[Any]:
        self._bind()
        if self._redis is None:
            self._redis = connect_async(self._redis_settings)
        if self._pool is None:
            pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
                self._conninfo, min_size=1, max_size=self.pool_size, open=False, timeout=self.timeout,
                kwargs={"autocommit": True, "row_factory": namedtuple_row},
            )
            self._pool = pool
            await pool.open()
        return self._pool

    async def close(self) -> None:
        pool, client = self._pool, self._redis
        self._pool, self._redis, self._loop = None, None, None
        if pool is not None:
            await pool.close()
        if client is not None:
            await client.aclose()

    def _failed(self) -> None:
        """After a failed connection, start a new pool (at most once per RESET_INTERVAL): the old
        one would reconnect with a back-off of 1, 2, 4, 8... seconds, serving 503s for up to a
        quarter of a minute after the database is back; a new pool connects at its first use."""
        loop = self._bind()
        now = loop.time()
        self._failed_at = now
        if now - self._reset_at < RESET_INTERVAL:
            return
        self._reset_at = now
        old, self._pool = self._pool, None
        if old is not None:
            task = loop.create_task(old.close(timeout=0))
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)

    @asynccontextmanager
    async def _conn(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        # Right after a failure the database is likely still down: fail fast (a 503) instead of
        # holding the request for the whole pool timeout.
        recent = self._loop is not None and self._loop.time() - self._failed_at < FAST_FAIL_WINDOW
        try:
            pool = await self._open()
            async with pool.connection(timeout=FAST_FAIL_TIMEOUT if recent else None) as conn:
                yield conn
        except (psycopg.OperationalError, psycopg.InterfaceError, PoolTimeout) as exc:
            self._failed()
            raise StoreUnavailableError("the database does not answer") from exc

    # -- Redis ----------------------------------------------------------------------------

    async def is_denied(self, jti: str) -> bool:
        """Whether an access token was revoked (the key RedisOidcStore.deny sets)."""
        await self._open()
        assert self._redis is not None  # noqa: S101 - opened above
        try:
            return bool(await self._redis.exists(self.keys.oidc("denied", jti)))
        except aioredis.RedisError as exc:
            raise StoreUnavailableError("the session store does not answer") from exc

    # -- SQL --------------------------------------------------------------------------------

    async def user_by_subject(self, subject: str) -> User | None:
        async with self._conn() as conn:
            row = await (await conn.execute(USER_BY_SUBJECT, {"subject": subject})).fetchone()
        return _user(row) if row else None

    async def refresh_with_person(self, token_hash: str) -> tuple[RefreshRecord, User] | None:
        """A refresh token by its hash, with the person it speaks for."""
        async with self._conn() as conn:
            row = await (await conn.execute(REFRESH_WITH_PERSON, {"token_hash": token_hash})).fetchone()
        if row is None:
            return None
        person = SimpleNamespace(**{k[2:]: v for k, v in row._asdict().items() if k.startswith("p_")})
        return _refresh(row), _user(person)  # type: ignore[arg-type]

    async def add_event(self, values: dict[str, Any]) -> int:
        """Insert one event row; returns its id once it is committed.

        Group commit: rows that arrive while a batch is being written wait for the next batch,
        written in one transaction (one round trip, one commit); each caller still answers only
        after its own row is committed."""
        loop = self._bind()
        future: asyncio.Future[int] = loop.create_future()
        self._events.append((_params(values, _EVENT_COLUMNS), future))
        if not self._writing:
            self._writing = True
            self._writer = loop.create_task(self._write_events())  # kept: the loop holds tasks weakly
        return await future

    async def _write_events(self) -> None:
        try:
            while self._events:
                batch, self._events = self._events, []
                try:
                    ids = await self._insert_events([params for params, _future in batch])
                except Exception as exc:  # every waiter gets the failure (a 503 when the store is down)
                    for _row, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for (_row, future), event_id in zip(batch, ids, strict=True):
                    if not future.done():
                        future.set_result(event_id)
        finally:
            self._writing = False

    async def _insert_events(self, rows: list[dict[str, Any]]) -> list[int]:
        async with self._conn() as conn:
            if len(rows) == 1:
                row = await (await conn.execute(INSERT_EVENT, rows[0])).fetchone()
                return [int(row.id)] if row else []
            ids = []
            async with conn.transaction(), conn.cursor() as cur:
                await cur.executemany(INSERT_EVENT, rows, returning=True)
                while True:
                    row = await cur.fetchone()
                    if row is not None:
                        ids.append(int(row.id))
                    if not cur.nextset():
                        break
            return ids

    async def rotate(
        self, spent_id: int, now: dt.datetime, new_row: dict[str, Any] | None, event: dict[str, Any],
    ) -> tuple[int | None, int] | None:
        """Spend a refresh token, store its successor (if any) and the event row, atomically:
        (successor id, event id), or None, with nothing written, when the token was already spent
        or revoked (the caller leaves that to the reuse handling)."""
        params: dict[str, Any] = {"spent_id": spent_id, "used_at": now}
        params.update({f"e_{k}": v for k, v in _params(event, _EVENT_COLUMNS).items()})
        if new_row is not None:
            values = dict(new_row, created_at=new_row["now"])
            params.update({f"r_{k}": v for k, v in _params(values, _REFRESH_COLUMNS).items()})
        async with self._conn() as conn:
            row = await (await conn.execute(ROTATE if new_row is not None else ROTATE_LAST, params)).fetchone()
        if row is None or row.spent_id is None:
            return None
        return (row.new_id if new_row is not None else None), int(row.event_id)
