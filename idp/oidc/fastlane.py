"""The OIDC fast lane: the successful path of the busiest endpoints, answered in the event loop
of the ASGI application without Flask or Authlib's request machinery.

It answers discovery and JWKS, userinfo with a Bearer header, introspection of access tokens,
and the client credentials and refresh token grants with client_secret_basic. It only ever
answers what the reference implementation (the Flask views on Authlib) would answer with
success, and decides it with the same pure rules (`idp.oidc.rules`: claims, token bodies,
refresh standing, introspection answers, event rows) and the same signing service; only its
reads, writes and replies are its own. Anything else, an error, a cache it would have to fill
from the database, a parameter it does not know, goes to the reference implementation
untouched: `handle()` returns None before it has changed anything. So every error response,
and every rule about reuse and revocation, has one implementation.

Storage goes through an async store (PostgreSQL and Redis); RSA signatures, which release the
GIL, run in a small thread pool so the event loop keeps serving while a key signs.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING
from typing import Any
from urllib.parse import parse_qsl
from urllib.parse import unquote

from authlib.common.security import is_secure_transport
from werkzeug.datastructures import Authorization

from idp.events import EventRecorder
from idp.model import Event
from idp.model import RequestContext
from idp.oidc.discovery import discovery_document
from idp.oidc.keys import JWKS_MAX_AGE
from idp.oidc.models import Client
from idp.oidc.rules import access as access_rules
from idp.oidc.rules import acting
from idp.oidc.rules import bodies
from idp.oidc.rules import grant as grant_rules
from idp.oidc.rules import introspection
from idp.oidc.rules import refresh as refresh_rules
from idp.oidc.rules.events import TokenEvent
from idp.oidc.rules.events import token_event
from idp.oidc.tokens import digest

if TYPE_CHECKING:
    from idp.oidc import OidcExtension
    from idp.stores.oidc_async import AsyncOidcStore

log = logging.getLogger(__name__)

JSON = b"application/json"
NO_STORE = [(b"cache-control", b"no-store"), (b"pragma", b"no-cache")]
# Path -> (the Flask endpoint's name, so metrics count both lanes alike; the methods the lane takes).
ROUTES = {
    "/.well-known/openid-configuration": ("oidc.discovery", ("GET", "HEAD")),
    "/oauth/jwks": ("oidc.jwks", ("GET", "HEAD")),
    "/oauth/userinfo": ("oidc.userinfo", ("GET", "POST")),
    "/oauth/introspect": ("oidc.introspect", ("POST",)),
    "/oauth/token": ("oidc.token", ("POST",)),
}
PUBLIC = frozenset({"/.well-known/openid-configuration", "/oauth/jwks"})
FORM = "application/x-www-form-urlencoded"


@dataclass
class LaneRequest:
    method: str
    path: str
    headers: dict[str, str]  # lower-cased names; a repeated header makes the lane step aside
    body: bytes
    ip: str
    scheme: str | None = None  # the connection's (the ASGI scope's); None: not known

    def transport_is_secure(self, trusted_proxies: int) -> bool:
        """Whether Authlib would accept the URL the views see for this request (https, or http
        to a loopback host): the scheme and host as ProxyFix finds them behind
        `trusted_proxies` proxies. With the scheme not known, only a loopback host is (http
        and https both pass there); no Host header is not known either."""
        scheme = _forwarded(self.headers.get("x-forwarded-proto"), trusted_proxies) or self.scheme
        host = _forwarded(self.headers.get("x-forwarded-host"), trusted_proxies) or self.headers.get("host")
        if not host:
            return False
        return bool(is_secure_transport(f"{scheme or 'http'}://{host}/"))

    @property
    def context(self) -> RequestContext:
        return RequestContext(ip=self.ip, user_agent=self.headers.get("user-agent", "")[:512])

    def form(self, allowed: set[str]) -> dict[str, str] | None:
        """The url-encoded body when every parameter is known and given once, else None."""
        if self.headers.get("content-type", "").split(";")[0].strip().lower() != FORM:
            return None
        try:
            pairs = parse_qsl(self.body.decode("ascii"), keep_blank_values=True, strict_parsing=True)
        except (UnicodeDecodeError, ValueError):
            return None
        form = dict(pairs)
        if len(form) != len(pairs) or not set(form) <= allowed or any(not v for v in form.values()):
            return None
        return form

    def authorization(self) -> Authorization | None:
        """The Authorization header, parsed as a Werkzeug request would (None: absent, or Basic
        credentials that are not Base64 of UTF-8)."""
        return Authorization.from_header(self.headers.get("authorization"))

    def basic_auth(self) -> tuple[str, str] | None:
        """client_secret_basic credentials (RFC 6749 §2.3.1: form-encoded, then Base64)."""
        auth = self.authorization()
        if auth is None or auth.type != "basic" or not auth.username or not auth.password:
            return None
        return unquote(auth.username), unquote(auth.password)


def _forwarded(value: str | None, trusted: int) -> str | None:
    """The value ProxyFix takes from an X-Forwarded-* header set by `trusted` proxies: the
    `trusted`-th from the right when there are that many, else none."""
    if not value or not trusted:
        return None
    values = value.split(",")
    if len(values) < trusted:
        return None
    return values[-trusted].strip() or None


@dataclass
class Reply:
    status: int
    body: bytes
    headers: list[tuple[bytes, bytes]]


def _json(payload: dict[str, Any]) -> Reply:
    # Sorted keys, as Flask's jsonify writes them.
    body = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    return Reply(200, body, [(b"content-type", JSON), *NO_STORE])


class FastLane:
    def __init__(self, ext: OidcExtension, events: EventRecorder, store: AsyncOidcStore | None, *,
                 signers: int = 2) -> None:
        self.ext, self.events, self.store = ext, events, store
        self.tokens, self.keys, self.clients = ext.tokens, ext.keys, ext.clients
        self._signer = ThreadPoolExecutor(max_workers=signers, thread_name_prefix="idp-sign")
        self._reloading: asyncio.Future[None] | None = None
        self._rereading: set[str] = set()

    def takes(self, method: str, path: str) -> bool:
        """Whether the lane looks at this request at all (the others never reach it)."""
        route = ROUTES.get(path)
        return route is not None and method in route[1]

    async def close(self) -> None:
        # Wait for reads still running in the pool (keys, clients): one holds a database
        # connection, which would outlive the engine's dispose and be dropped unclosed.
        await asyncio.get_running_loop().run_in_executor(None, self._signer.shutdown)
        if self.store is not None:
            await self.store.close()

    async def handle(self, request: LaneRequest) -> Reply | None:
        """The answer, or None for the reference implementation (nothing was changed then)."""
        path = request.path
        if path in PUBLIC:
            return self.public(path, request.headers.get("if-none-match"))
        if self.store is None:
            return None
        if path == "/oauth/userinfo":
            return await self._userinfo(request)
        if not request.transport_is_secure(self.ext.trusted_proxies):
            return None  # the views' Authlib refuses it (userinfo, above, is not Authlib's)
        if path == "/oauth/introspect":
            return await self._introspect(request)
        return await self._token(request)

    def public(self, path: str, if_none_match: str | None) -> Reply | None:
        """Discovery or JWKS (GET or HEAD): the views' bytes, ETag and caching headers."""
        if path == "/oauth/jwks":
            self._keep_keys_fresh()
            document = self.keys.jwks_cached()
            if document is None:
                return None
            body, etag = document
            max_age = f"public, max-age={JWKS_MAX_AGE}".encode()
        else:
            body, etag = discovery_document(self.ext.issuer, tuple(self.ext.algorithms))
            max_age = b"public, max-age=300"
        headers = [(b"etag", etag.encode()), (b"cache-control", max_age), (b"access-control-allow-origin", b"*")]
        if if_none_match is not None:
            # Lists, weak tags and "*" are the reference's to weigh.
            return Reply(304, b"", headers) if if_none_match == etag else None
        return Reply(200, body, [(b"content-type", JSON), *headers])

    def _keep_keys_fresh(self) -> None:
        """Past the key cache lifetime, reload the keys in a thread while the loop goes on with
        the set it has (one reload at a time), instead of sending requests to the views."""
        if self._reloading is not None or self.keys.cached():
            return
        self._reloading = asyncio.get_running_loop().run_in_executor(self._signer, self.keys.reload_if_stale)
        self._reloading.add_done_callback(self._reloaded)

    def _reread_client(self, client_id: str) -> None:
        """Past the client cache lifetime, read the client again in a thread (once at a time per
        client) while this request goes on with the record it has: a rotated secret or a deleted
        client takes effect within the cache lifetime plus that read."""
        if client_id in self._rereading:
            return
        self._rereading.add(client_id)
        future = asyncio.get_running_loop().run_in_executor(self._signer, self.clients.get, client_id)

        def done(future: asyncio.Future[Any]) -> None:
            self._rereading.discard(client_id)
            if not future.cancelled() and future.exception() is not None:
                log.error("reading a client failed", extra={"error": str(future.exception())})

        future.add_done_callback(done)

    def _reloaded(self, future: asyncio.Future[None]) -> None:
        self._reloading = None
        if not future.cancelled() and future.exception() is not None:
            log.error("reading the signing keys failed", extra={"error": str(future.exception())})

    async def _sign(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._signer, fn, *args)

    # -- tokens that are presented ----------------------------------------------------------

    async def _access_claims(self, token: str) -> dict[str, Any] | None:
        """The claims of a live access token, or None (the reference then explains why)."""
        if token.count(".") != 2:
            return None
        self._keep_keys_fresh()
        verified = self.keys.verify_cached(token, typ="at+jwt")
        if verified is None:
            return None
        body: dict[str, Any] = verified[1]
        if not self.tokens.access_claims_valid(body):
            return None
        assert self.store is not None  # noqa: S101 - only called with a store
        if await self.store.is_denied(body["jti"]):
            return None
        return body

    async def _userinfo(self, request: LaneRequest) -> Reply | None:
        if request.body:
            return None  # a token in the body is the reference's (one place only, RFC 6750)
        auth = request.authorization()
        if auth is None or auth.type != "bearer" or not auth.token:
            return None
        body = await self._access_claims(auth.token)
        if body is None or not access_rules.userinfo_allowed(body) or acting.of_token(body) is not None:
            return None  # a token issued while acting: its delegation is the views' to read
        assert self.store is not None  # noqa: S101 - checked by handle()
        user = await self.store.user_by_subject(str(body.get("sub")))
        claims = access_rules.userinfo(body, user, base_url=self.tokens.base_url)
        return None if claims is None else _json(claims)

    def _client(self, request: LaneRequest, grant_type: str | None) -> Client | None:
        """A confidential or service client authenticated with client_secret_basic, from the
        process cache (a client not in it, or read too long ago, is the reference's to read)."""
        credentials = request.basic_auth()
        if credentials is None or len(credentials[0]) > 64:
            return None
        peeked = self.clients.peek(credentials[0])
        if peeked is None:
            return None
        record, fresh = peeked
        if not fresh:
            self._reread_client(record.client_id)
        client = Client(record)
        if not client.check_endpoint_auth_method("client_secret_basic", "token"):
            return None
        if not client.check_client_secret(credentials[1]):
            return None
        if grant_type is not None and not client.check_grant_type(grant_type):
            return None
        return client

    async def _introspect(self, request: LaneRequest) -> Reply | None:
        form = request.form({"token", "token_type_hint"})
        hints = introspection.TOKEN_TYPE_HINTS
        if form is None or "token" not in form or form.get("token_type_hint", "access_token") not in hints:
            return None
        client = self._client(request, None)
        if client is None:
            return None
        claims = await self._access_claims(form["token"])
        if claims is None or acting.of_token(claims) is not None or not introspection.may_introspect(
                "access_token", str(claims.get("client_id")), client.record):
            return None
        user = None
        if introspection.speaks_for_a_person(claims):
            assert self.store is not None  # noqa: S101 - checked by handle()
            user = await self.store.user_by_subject(str(claims.get("sub")))
        if not introspection.access_token_active(claims, user):
            return None  # the views answer (inactive)
        return _json(introspection.access_token_answer(claims))

    # -- tokens that are issued ---------------------------------------------------------------

    async def _token(self, request: LaneRequest) -> Reply | None:
        form = request.form({"grant_type", "scope", "refresh_token"})
        if form is None:
            return None
        grant_type = form.get("grant_type")
        if grant_type == "client_credentials" and "refresh_token" not in form:
            return await self._client_credentials(request, form)
        if grant_type == "refresh_token" and "refresh_token" in form:
            return await self._refresh(request, form["refresh_token"], form.get("scope"))
        return None

    async def _record(self, request: LaneRequest, event: TokenEvent) -> None:
        assert self.store is not None  # noqa: S101 - checked by handle()
        values = self.events.values(event.tag, ctx=request.context, **event.fields())
        await self._notify(await self.store.add_event(values), values)

    async def _notify(self, event_id: int, values: dict[str, Any]) -> None:
        """Log the event and tell its subscribers, as `record_event` does (in a thread: a
        subscriber may read or write)."""
        event = Event(id=event_id, **values)
        if self.events.wants(values["tag"]):
            await asyncio.get_running_loop().run_in_executor(None, self.events.notify, event)
        else:
            self.events.notify(event)

    async def _client_credentials(self, request: LaneRequest, form: dict[str, str]) -> Reply | None:
        client = self._client(request, "client_credentials")
        if client is None or client.record.kind != "service":
            return None
        requested = form.get("scope")
        if requested is not None and not set(requested.split()) <= set(client.record.scopes):
            return None
        ctx = grant_rules.for_service(client.record, requested)
        access, _jti, _exp, lifetime = await self._sign(self.tokens.access_token, ctx)
        await self._record(request, token_event("client_credentials", ctx, refresh_token=False))
        return _json(bodies.token_response(ctx, access_token=access, expires_in=lifetime, refresh_token=None,
                                           id_token=None))

    async def _refresh(self, request: LaneRequest, token: str, requested: str | None) -> Reply | None:
        client = self._client(request, "refresh_token")
        if client is None or client.record.kind != "confidential" or len(token) > 200:
            return None
        assert self.store is not None  # noqa: S101 - checked by handle()
        found = await self.store.refresh_with_person(digest(token))
        if found is None:
            return None
        record, user = found
        if record.acting is not None:
            return None  # a grant made while acting: the views read its delegation again
        scope = refresh_rules.check(record, client.client_id, user, requested, self.tokens.clock.now())
        if isinstance(scope, refresh_rules.Refusal):
            return None  # the views refuse it (and handle a reuse)
        ctx = grant_rules.refreshed(client.record, user, record, scope)
        access, jti, exp, lifetime = await self._sign(self.tokens.access_token, ctx)
        refresh, new_row = None, None
        if bodies.wants_refresh(client.record, ctx.grant_scope):
            refresh, new_row = self.tokens.new_refresh(ctx, jti, exp)
        id_token = await self._sign(self.tokens.id_token, ctx, access) if bodies.wants_id_token(ctx) else None
        event = token_event("refresh_token", ctx, refresh_token=new_row is not None)
        values = self.events.values(event.tag, ctx=request.context, **event.fields())
        done = await self.store.rotate(record.id, self.tokens.clock.now(), new_row, values)
        if done is None:
            return None  # spent or revoked meanwhile: reuse, which the reference handles
        await self._notify(done[1], values)
        return _json(bodies.token_response(ctx, access_token=access, expires_in=lifetime, refresh_token=refresh,
                                           id_token=id_token))
