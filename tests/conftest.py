"""Fixtures: real SQL (SQLite or PostgreSQL) and real Redis, reset between tests; actions that read like a person's."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine
from sqlalchemy import text

from idp import create_app
from idp.clock import FixedClock
from idp.clock import SystemClock
from idp.container import Container
from idp.settings import Settings
from idp.settings import load_settings
from idp.stores.migrate import upgrade
from idp.stores.models import Base

# Which backends this run uses: scripts/test runs the suite once per database.
DATABASE = os.environ.get("IDP_TEST_DATABASE", "sqlite")
PG_ADMIN_URL = os.environ.get("IDP_TEST_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
# Empty: the suite starts a redis-server of its own (its data and FLUSHDB touch nothing else,
# and two runs at once cannot disturb each other).
REDIS_URL = os.environ.get("IDP_TEST_REDIS_URL", "")

# The production-shape tier (real servers, hosts, Redis topologies) runs in the PostgreSQL run only.
# The page audit (every page in a browser, both languages, both widths) checks what the pages
# render, which no database changes: it runs in the SQLite run only, the shorter of the two.
if DATABASE != "postgresql":
    collect_ignore_glob = ["production/*"]
else:
    collect_ignore_glob = ["e2e/test_page_audit.py", "e2e/test_audit_checks.py"]

CHEAP_ARGON2 = {"time_cost": 1, "memory_cost": 64, "parallelism": 1}


@contextmanager
def postgresql_database(name: str) -> Iterator[str]:
    """A fresh PostgreSQL database at the current schema, dropped afterwards."""
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    upgrade(url)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def truncate_all(url: str) -> None:
    # Truncation rather than a rolled-back outer transaction: tests run real concurrent
    # requests and threaded servers, which a single connection cannot serve.
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(table.delete())
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if DATABASE == "postgresql":
        with postgresql_database(f"idp_test_{os.getpid()}") as url:
            yield url
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'idp.sqlite3'}"
        upgrade(url)
        yield url


@pytest.fixture(scope="session")
def _truncate(database_url: str) -> Iterator[Any]:
    engine = create_engine(database_url)

    def truncate() -> None:
        # Truncation rather than a rolled-back outer transaction: tests run real concurrent
        # requests and threaded servers, which a single connection cannot serve.
        with engine.begin() as conn:
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(table.delete())

    yield truncate
    engine.dispose()


@pytest.fixture(scope="session")
def _redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if REDIS_URL:
        yield REDIS_URL
        return
    from tests.production.servers import RedisServer

    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def redis_url(_redis_server: str) -> str:
    return _redis_server


@pytest.fixture
def clean_stores(_truncate: Any, redis_url: str) -> Iterator[None]:
    import redis

    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    _truncate()
    yield
    client.flushdb()
    client.close()


def make_settings(tmp_path: Path, database_url: str, redis_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "testing": True,
        "secret_key": "test-secret-key",
        "instance_path": tmp_path,
        "database": {"url": database_url},
        "redis": {"url": redis_url},
        "password": CHEAP_ARGON2 | {"min_length": 8},
        "mail": {"background_delivery": False},
        "log": {"json_format": False},
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(values.get(key), dict):
            values[key] = values[key] | value
        else:
            values[key] = value
    return load_settings(**values)


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """Override per test module or test: `@pytest.mark.parametrize` or a local fixture."""
    return {}


@pytest.fixture
def clock() -> FixedClock:
    # Starts at the real time so TTLs that Redis applies itself agree with the service's view.
    return FixedClock(SystemClock().now())


@pytest.fixture
def settings(tmp_path: Path, database_url: str, redis_url: str, settings_overrides: dict[str, Any]) -> Settings:
    return make_settings(tmp_path, database_url, redis_url, **settings_overrides)


@pytest.fixture
def app(settings: Settings, clock: FixedClock, clean_stores: None) -> Iterator[Any]:
    application = create_app(settings, clock=clock)
    yield application
    container: Container = application.extensions["idp"]
    container.close()


@pytest.fixture
def services(app: Any) -> Container:
    container: Container = app.extensions["idp"]
    return container


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1)


@dataclass
class Person:
    id: int
    email: str
    password: str


class UserFactory:
    def __init__(self, services: Container) -> None:
        self.services = services

    def __call__(
        self, email: str | None = None, password: str = "correct horse battery", **values: Any
    ) -> Person:
        email = email or f"person-{uuid.uuid4().hex[:8]}@example.com"
        user = self.services.accounts.create_user(email, password, **values)
        return Person(user.id, user.email, password)


@pytest.fixture
def make_user(services: Container) -> UserFactory:
    return UserFactory(services)


class AuthActions:
    """What a person does in the browser, through the test client."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def start(self, next_url: str | None = None) -> str:
        page = self.client.get("/login" + (f"?next={next_url}" if next_url else ""))
        return csrf_of(page.get_data(as_text=True))

    def identify(self, email: str, next_url: str | None = None) -> Any:
        token = self.start(next_url)
        data = {"csrf_token": token, "login": email}
        if next_url:
            data["next"] = next_url
        return self.client.post("/login", data=data)

    def password(self, password: str, **headers: str) -> Any:
        page = self.client.get("/login/password")
        token = csrf_of(page.get_data(as_text=True))
        return self.client.post(
            "/login/password", data={"csrf_token": token, "password": password}, headers=headers
        )

    def sign_in(self, email: str, password: str, next_url: str | None = None) -> Any:
        self.identify(email, next_url)
        return self.password(password)

    def logout(self) -> Any:
        page = self.client.get("/")
        return self.client.post("/logout", data={"csrf_token": csrf_of(page.get_data(as_text=True))})


@pytest.fixture
def auth(client: Any) -> AuthActions:
    return AuthActions(client)


def outbox(services: Container) -> list[dict[str, Any]]:
    """Messages queued so far, oldest first (subject, recipient, body)."""
    from idp.stores.models import OutboxRow

    with services.db.transaction() as s:
        rows = s.query(OutboxRow).order_by(OutboxRow.id).all()
        return [{"to": r.to_addr, "subject": r.subject, "body": r.body_text} for r in rows]


def events(services: Container, tag: str | None = None) -> list[Any]:
    from idp.stores.models import EventRow

    with services.db.transaction() as s:
        query = s.query(EventRow).order_by(EventRow.id)
        if tag:
            query = query.filter(EventRow.tag == tag)
        return [
            {"tag": r.tag, "user_id": r.user_id, "actor_id": r.actor_id, "product": r.product,
             "ip": r.ip, "device": r.device, "details": r.details, "org_id": r.org_id,
             "user_agent": r.user_agent}
            for r in query.all()
        ]
