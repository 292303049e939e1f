"""The SQL engine and transactions; SQLite by default, PostgreSQL in production."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy import create_engine
from sqlalchemy import event
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker
from sqlalchemy.types import TypeDecorator

from idp.errors import StoreUnavailableError


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused; use the injected clock")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


# The transaction a `Database.unit()` opened in this thread (or task), shared by the store calls
# made inside it. Keyed by the Database so two databases never share a session.
_UNIT: ContextVar[tuple[Database, Session] | None] = ContextVar("idp_db_unit", default=None)

# Pooled connections are replaced after this many seconds, below PostgreSQL's and common
# proxies' idle timeouts, instead of being pinged before every use.
POOL_RECYCLE_SECONDS = 1800


class Database:
    """Owns the engine; every store method runs in one short transaction from `transaction()`,
    unless a `unit()` is open, in which case it joins that one."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        kwargs: dict[str, Any] = {"echo": echo, "future": True}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        else:
            # No pool_pre_ping: it costs a round trip on every checkout (a quarter of a token
            # request's time under load). A connection the server dropped fails its first
            # statement instead; SQLAlchemy then invalidates the whole pool, so one request per
            # worker gets a 503 (StoreUnavailableError, Retry-After) after a database restart,
            # and the next one reconnects. pool_recycle replaces connections before idle timeouts.
            kwargs.update(pool_recycle=POOL_RECYCLE_SECONDS, pool_use_lifo=True, pool_size=5, max_overflow=10)
        self.engine: Engine = create_engine(url, **kwargs)
        if url.startswith("sqlite"):
            _sqlite_pragmas(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in a transaction, committed on exit and rolled back on error. Inside
        `unit()`, the unit's session: the unit commits or rolls back, all at once."""
        unit = _UNIT.get()
        if unit is not None and unit[0] is self:
            yield unit[1]
            return
        try:
            with self._sessions.begin() as session:
                yield session
        except OperationalError as exc:
            raise StoreUnavailableError("the database does not answer") from exc

    @contextmanager
    def unit(self) -> Iterator[None]:
        """Make every store call inside share one transaction: one connection checkout and one
        commit instead of one per call, and all-or-nothing (a token is never stored without its
        event row). Only for paths whose store calls expect no IntegrityError: a failed statement
        spoils the whole unit. Nested units join the outer one."""
        unit = _UNIT.get()
        if unit is not None and unit[0] is self:
            yield
            return
        with self.transaction() as session:
            token = _UNIT.set((self, session))
            try:
                yield
            finally:
                _UNIT.reset(token)

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reads that need no snapshot across statements (usually ONE SELECT). On
        PostgreSQL, outside a unit, bound to a pooled connection in autocommit mode: each SELECT
        sees one consistent snapshot anyway, and this saves the BEGIN and COMMIT round trips and
        the ORM's transaction bookkeeping. Inside a unit, the unit's session (its identity map
        and snapshot); on SQLite, a plain transaction. Never write through it."""
        unit = _UNIT.get()
        if (unit is not None and unit[0] is self) or self.dialect != "postgresql":
            with self.transaction() as session:
                yield session
            return
        try:
            with self.engine.connect() as conn, Session(
                bind=conn.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False
            ) as session:
                yield session
        except OperationalError as exc:
            raise StoreUnavailableError("the database does not answer") from exc

    def ping(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    def dispose(self) -> None:
        self.engine.dispose()


def _sqlite_pragmas(engine: Engine) -> None:
    # SQLAlchemy's documented pysqlite recipe: let SQLAlchemy emit BEGIN itself so that
    # transactions (and SAVEPOINTs) behave, take the write lock at BEGIN to avoid
    # deadlocking upgrades, and turn on foreign keys and WAL for concurrent readers.
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
