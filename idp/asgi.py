"""The production application: ASGI, for gunicorn's asgi worker
(`gunicorn -c config/gunicorn.conf.py 'idp.asgi:create_asgi_app()'`).

Requests the OIDC fast lane (idp.oidc.fastlane) can answer are answered in the event loop;
every other request, and every request the lane steps aside from, goes to the Flask application
in a thread pool (`WsgiBridge`), with its body untouched. Both add the same security headers
and request id, and count in the same metrics.
"""

from __future__ import annotations

import asyncio
import collections
import contextvars
import gc
import io
import json
import logging
import os
import sys
import time
from collections.abc import Awaitable
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask import Flask

from idp import logs
from idp import metrics
from idp.errors import StoreUnavailableError
from idp.events import answering
from idp.events import run_later
from idp.oidc.fastlane import PUBLIC
from idp.oidc.fastlane import ROUTES
from idp.oidc.fastlane import FastLane
from idp.oidc.fastlane import LaneRequest
from idp.oidc.fastlane import Reply
from idp.web.plumbing import request_id_of
from idp.web.plumbing import security_headers

log = logging.getLogger(__name__)

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

# The lane's requests are small forms; a larger body is the reference implementation's to refuse.
MAX_LANE_BODY = 16 * 1024


def client_ip(peer: str, forwarded_for: str, trusted_proxies: int) -> str:
    """The address Flask's ProxyFix(x_for=n) finds: the n-th address from the right of
    X-Forwarded-For when there are that many, else the peer's."""
    if trusted_proxies:
        values = forwarded_for.split(",") if forwarded_for else []
        if len(values) >= trusted_proxies:
            return values[-trusted_proxies].strip()
    return peer


class Application:
    def __init__(self, flask_app: Flask, lane: FastLane | None, *, threads: int, owns_app: bool = False) -> None:
        self.flask_app = flask_app
        self.owns_app = owns_app  # close the application's stores at shutdown
        self.container = flask_app.extensions["idp"]
        settings = self.container.settings
        self.lane = lane
        self.trusted_proxies = settings.server.trusted_proxies
        self.common = [(k.lower().encode(), v.encode()) for k, v in security_headers(settings.secure_cookies).items()]
        self.wsgi = WsgiBridge(flask_app, threads=threads, max_body=flask_app.config["MAX_CONTENT_LENGTH"])
        self.tally = Tally()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return  # no WebSockets here
        if self.lane is None or not self.lane.takes(scope["method"], scope["path"]):
            await self.wsgi(scope, b"", False, receive, send)
            return
        started = time.perf_counter()
        method = scope["method"]
        # The lane reads no body of a GET or HEAD; the views get whatever was sent.
        unread = method in ("GET", "HEAD")
        body, complete = (b"", True) if unread else await _read_body(receive)
        headers = _headers(scope)
        reply = None
        if complete and headers is not None:
            request_id = request_id_of(headers.get("x-request-id", ""))
            if scope["path"] in PUBLIC:  # nothing to log, nobody to name: no request context
                reply = self.lane.public(scope["path"], headers.get("if-none-match"))
            else:
                reply = await self._answer(scope, headers, body, request_id)
        if reply is None:
            await self.wsgi(scope, body, complete and not unread, receive, send)
            return
        await send({"type": "http.response.start", "status": reply.status, "headers": [
            *reply.headers, *self.common, (b"x-request-id", request_id.encode()),
            (b"content-length", b"%d" % len(reply.body)),
        ]})
        await send({"type": "http.response.body", "body": b"" if method == "HEAD" else reply.body})
        endpoint = ROUTES[scope["path"]][0]
        if scope["path"] in PUBLIC:
            self.tally.add(method, endpoint, reply.status)
        else:
            _count(method, endpoint, reply.status, time.perf_counter() - started)

    async def _answer(self, scope: Scope, headers: dict[str, str], body: bytes, request_id: str) -> Reply | None:
        assert self.lane is not None  # noqa: S101 - only called with a lane
        peer = (scope.get("client") or ("unknown", 0))[0]
        request = LaneRequest(
            method=scope["method"], path=scope["path"], headers=headers, body=body,
            ip=client_ip(peer, headers.get("x-forwarded-for", ""), self.trusted_proxies),
            scheme=scope.get("scheme"),
        )
        token = logs.request_id.set(request_id)
        try:
            return await self.lane.handle(request)
        except StoreUnavailableError as exc:
            metrics.UNAVAILABLE.inc()
            log.error("store unavailable", extra={"error": str(exc.__cause__ or exc)})
            return _error(503, "temporarily_unavailable", "The service is temporarily unavailable.",
                          [(b"retry-after", b"30")])
        except Exception:
            log.exception("unhandled error")
            return _error(500, "server_error", "An unexpected error happened on our side.", [])
        finally:
            logs.request_id.reset(token)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.tally.flush()
                if self.lane is not None:
                    await self.lane.close()
                self.wsgi.pool.shutdown(wait=False)
                if self.owns_app:
                    await asyncio.get_running_loop().run_in_executor(None, self.container.close)
                await send({"type": "lifespan.shutdown.complete"})
                return


class Tally:
    """Counts of the public documents the lane served, added to the request counter at most a
    second later: a multiprocess counter write costs a tenth of serving the document. (Their
    latency, constant, is not observed.)"""

    def __init__(self) -> None:
        self.pending: collections.Counter[tuple[str, str, int]] = collections.Counter()
        self.scheduled = False

    def add(self, method: str, endpoint: str, status: int) -> None:
        self.pending[(method, endpoint, status)] += 1
        if not self.scheduled:
            self.scheduled = True
            asyncio.get_running_loop().call_later(1.0, self.flush)

    def flush(self) -> None:
        self.scheduled = False
        pending, self.pending = self.pending, collections.Counter()
        for (method, endpoint, status), count in pending.items():
            metrics.REQUESTS.labels(method, endpoint, str(status)).inc(count)


_COUNTERS: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def _count(method: str, endpoint: str, status: int, seconds: float) -> None:
    """The lane's requests in the same metrics as the views' (metric children kept per label set)."""
    children = _COUNTERS.get((method, endpoint, status))
    if children is None:
        children = (metrics.REQUESTS.labels(method, endpoint, str(status)), metrics.LATENCY.labels(endpoint))
        _COUNTERS[(method, endpoint, status)] = children
    children[0].inc()
    children[1].observe(seconds)


def _error(status: int, code: str, description: str, extra: list[tuple[bytes, bytes]]) -> Reply:
    body = json.dumps({"error": code, "error_description": description}).encode()
    return Reply(status, body, [(b"content-type", b"application/json"), (b"cache-control", b"no-store"), *extra])


def _headers(scope: Scope) -> dict[str, str] | None:
    """Headers by lower-cased name; None when one is repeated (the lane then steps aside)."""
    headers: dict[str, str] = {}
    for name, value in scope["headers"]:
        key = name.decode("latin-1").lower()
        if key in headers:
            return None
        headers[key] = value.decode("latin-1")
    return headers


async def _read_body(receive: Receive) -> tuple[bytes, bool]:
    """The request body if it is at most MAX_LANE_BODY bytes: (body, True); else what was read
    so far and False (the rest is still to be received)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), False
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), True
        if size > MAX_LANE_BODY:
            return b"".join(chunks), False


# A WSGI answer, buffered: status, headers, body.
Answer = tuple[int, list[tuple[bytes, bytes]], bytes]


class WsgiBridge:
    """The Flask application behind the event loop: the body is read whole (Flask refuses more
    than `max_body` bytes anyway), the WSGI call runs in a thread of the pool, and the buffered
    response is sent in two messages. (No view streams its response.)"""

    def __init__(self, app: Any, *, threads: int, max_body: int) -> None:
        self.app = app
        self.max_body = max_body
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="idp-wsgi")

    async def __call__(self, scope: Scope, body: bytes, complete: bool, receive: Receive, send: Send) -> None:
        chunks = [body]
        size = len(body)
        while not complete and size <= self.max_body:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            complete = not message.get("more_body", False)
        if not complete:
            await _send(send, 413, [(b"content-type", b"application/json")],
                        b'{"error":"request_too_large","error_description":"What was sent is too large."}')
            return
        environ = wsgi_environ(scope, b"".join(chunks))
        context = contextvars.copy_context()
        later: list[Callable[[], None]] = []
        loop = asyncio.get_running_loop()
        status, headers, payload = await loop.run_in_executor(self.pool, context.run, self._call, environ, later)
        await _send(send, status, headers, b"" if scope["method"] == "HEAD" else payload)
        if later:
            # The notifications of the events the request recorded (their mails, the sign-in
            # places), once the response is out: nobody waits for them (idp.events.after_answer).
            # Awaited, so that a worker that stops finishes them first.
            await loop.run_in_executor(self.pool, context.run, run_later, later)

    def _call(self, environ: dict[str, Any], later: list[Callable[[], None]]) -> Answer:
        with answering() as queued:
            answer = self._respond(environ)
        if answer[0] < 500:
            # A request that failed (a store away: 503) may have rolled back the events whose
            # notifications were queued: they are not sent.
            later.extend(queued)
        return answer

    def _respond(self, environ: dict[str, Any]) -> Answer:
        started: list[Any] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            started[:] = [status, headers]
            return lambda _data: None  # the legacy write() callable: no view uses it

        iterable = self.app(environ, start_response)
        try:
            payload = b"".join(iterable)
        finally:
            getattr(iterable, "close", lambda: None)()
        status, headers = started
        encoded = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers]
        return int(status.split(" ", 1)[0]), encoded, payload


async def _send(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def wsgi_environ(scope: Scope, body: bytes) -> dict[str, Any]:
    """The PEP 3333 environ of an ASGI HTTP request whose body was read whole."""
    server = scope.get("server") or ("localhost", 80)
    client = scope.get("client") or ("", 0)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": scope.get("root_path", "").encode("utf-8").decode("latin-1"),
        "PATH_INFO": scope["path"].encode("utf-8").decode("latin-1"),
        "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(server[1] or 80),
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "REMOTE_ADDR": str(client[0]),
        "REMOTE_PORT": str(client[1]),
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    for raw_name, raw_value in scope["headers"]:
        name = raw_name.decode("latin-1").upper().replace("-", "_")
        value = raw_value.decode("latin-1")
        if name == "CONTENT_LENGTH":
            continue  # the body was read whole: its real length is set above
        key = name if name == "CONTENT_TYPE" else f"HTTP_{name}"
        environ[key] = f"{environ[key]}{'; ' if key == 'HTTP_COOKIE' else ','}{value}" if key in environ else value
    return environ


def build_lane(flask_app: Flask) -> FastLane | None:
    """The fast lane, when settings allow it; its stores only when the data is in PostgreSQL
    and Redis (with SQLite or the embedded store it answers discovery and JWKS alone)."""
    from idp.oidc import OIDC
    from idp.stores.oidc_async import AsyncOidcStore
    from idp.stores.redis import Keys

    container = flask_app.extensions["idp"]
    settings = container.settings
    ext = container.find(OIDC)
    if ext is None or not settings.oidc.fast_lane:
        return None
    store = None
    if container.db.dialect == "postgresql" and not settings.redis.embedded:
        store = AsyncOidcStore(settings.database_url, settings.redis, Keys(settings.redis.key_prefix))
    return FastLane(ext, container.events, store)


def create_asgi_app(flask_app: Flask | None = None) -> Application:
    """The ASGI application around the Flask application (built from the settings if not given)."""
    from idp import create_app

    owns_app = flask_app is None
    flask_app = flask_app or create_app()
    threads = int(os.environ.get("IDP_THREADS", "4"))
    application = Application(flask_app, build_lane(flask_app), threads=threads, owns_app=owns_app)
    if owns_app:
        # The 170,000 objects built at start-up live as long as the process: moved out of the
        # collector's reach, a full collection under load takes microseconds instead of ~90 ms
        # (a p99 of 50 ms on the token endpoints).
        gc.collect()
        gc.freeze()
    return application
