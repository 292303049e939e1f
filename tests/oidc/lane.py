"""The harness of the fast lane's tests: the production ASGI application (idp.asgi) called in
an event loop of its own, on a PostgreSQL database of the module's (the lane's only database)
and Redis, with each answer saying whether the lane or the Flask views gave it."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from idp.asgi import Application
from idp.asgi import create_asgi_app
from tests.conftest import make_settings
from tests.conftest import postgresql_database
from tests.conftest import truncate_all

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture(scope="module")
def lane_database() -> Iterator[str]:
    with postgresql_database(f"idp_test_lane_{os.getpid()}") as url:
        yield url


@pytest.fixture
def clean_stores(lane_database: str, redis_url: str) -> Iterator[None]:
    import redis

    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    truncate_all(lane_database)
    yield
    client.flushdb()
    client.close()


@pytest.fixture
def settings(tmp_path: Path, lane_database: str, redis_url: str, settings_overrides: dict[str, Any]) -> Any:
    return make_settings(tmp_path, lane_database, redis_url, **settings_overrides)


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    lane: bool  # answered by the fast lane (False: by the Flask views)

    def json(self) -> Any:
        return json.loads(self.body)


class AsgiClient:
    """Calls the ASGI application in one event loop of its own thread, as a server's worker does
    (the test's thread may already run a loop: Playwright's)."""

    def __init__(self, asgi: Application) -> None:
        self.asgi = asgi
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self._answered: list[bool] = []
        lane = asgi.lane
        assert lane is not None and lane.store is not None
        original = lane.handle

        async def spy(request: Any) -> Any:
            reply = await original(request)
            self._answered.append(reply is not None)
            return reply

        lane.handle = spy  # type: ignore[method-assign]
        public = lane.public

        def public_spy(path: str, if_none_match: str | None) -> Any:
            reply = public(path, if_none_match)
            self._answered.append(reply is not None)
            return reply

        lane.public = public_spy  # type: ignore[method-assign]

    def request(self, method: str, path: str, *, headers: dict[str, str] | None = None,
                data: dict[str, str] | None = None, body: bytes = b"", query: str = "") -> Answer:
        return self._run(self._call(method, path, headers or {}, data, body, query))

    def _run(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=60)

    def concurrently(self, *calls: tuple[str, str, dict[str, Any]]) -> list[Answer]:
        async def all_of() -> list[Answer]:
            return list(await asyncio.gather(*(self._call(m, p, kw.get("headers", {}), kw.get("data"), b"", "")
                                               for m, p, kw in calls)))
        return list(self._run(all_of()))

    async def _call(self, method: str, path: str, headers: dict[str, str], data: dict[str, str] | None,
                    body: bytes, query: str) -> Answer:
        if data is not None:
            body = urlencode(data).encode()
            headers = FORM | headers
        # As a real client, a Host header naming the server (a test may name another host).
        headers = {"host": "127.0.0.1:8000"} | {k.lower(): v for k, v in headers.items()}
        before = len(self._answered)
        scope = {
            "type": "http", "method": method, "path": path, "query_string": query.encode(), "root_path": "",
            "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
            "client": ("203.0.113.9", 50000), "server": ("127.0.0.1", 8000), "scheme": "http",
            "http_version": "1.1",
        }
        chunks = [body[i:i + 4096] for i in range(0, len(body), 4096)] or [b""]
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            if chunks:
                chunk = chunks.pop(0)
                return {"type": "http.request", "body": chunk, "more_body": bool(chunks)}
            await asyncio.sleep(3600)
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await self.asgi(scope, receive, send)
        start = sent[0]
        answered = self._answered[before:] if len(self._answered) > before else [False]
        return Answer(start["status"], {k.decode(): v.decode() for k, v in start["headers"]},
                      b"".join(m.get("body", b"") for m in sent[1:]), any(answered))

    def close(self) -> None:
        assert self.asgi.lane is not None
        self._run(self.asgi.lane.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture
def asgi(app: Any) -> Iterator[AsgiClient]:
    client = AsgiClient(create_asgi_app(app))
    yield client
    client.close()


def basic(client_id: str, secret: str | None) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def service(make_client: Any) -> Any:
    return make_client("service", scopes=["reports", "audit"])


@pytest.fixture
def warm(oidc: Any) -> Any:
    """Fill the caches the lane reads and never fills itself (clients, keys), as the first
    requests through the Flask views do in a server."""

    def fill(*client_ids: str) -> None:
        oidc.keys.jwks()
        for client_id in client_ids:
            oidc.clients.get(client_id)

    return fill



def offline(flow: Any, rp: Any, person: Any) -> dict[str, Any]:
    """Tokens of a grant with a refresh token (offline_access), through the views."""
    return dict(flow.tokens(rp, person, scope="openid profile email offline_access"))

