"""Relying parties: registration rules, secrets shown once and stored hashed, lookups."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import string
from typing import TYPE_CHECKING
from typing import Any
from urllib.parse import urlsplit

from idp.clock import Clock
from idp.errors import NotFoundError
from idp.errors import ValidationError
from idp.events import EventRecorder
from idp.events import EventTag
from idp.model import RequestContext
from idp.oidc.claims import SCOPES
from idp.oidc.records import ClientRecord

if TYPE_CHECKING:
    from idp.stores.oidc import SqlClientStore


KINDS = ("confidential", "public", "service")
GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials")
DEFAULT_GRANTS = {
    "confidential": ["authorization_code", "refresh_token"],
    "public": ["authorization_code", "refresh_token"],
    "service": ["client_credentials"],
}
LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")
# Every token request looks its client up; clients change rarely, so each process keeps them this
# many seconds. A secret rotated or a client deleted by another process takes effect within it.
CLIENT_CACHE_SECONDS = 5.0
CLIENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
# What any client id presented can be (RFC 6749 Appendix A.1: visible ASCII and space), up to
# the length of the column. Anything else (a NUL byte, a control character, non-ASCII) names no
# client and is never looked up: PostgreSQL refuses a NUL in a text parameter.
PRESENTED_CLIENT_ID = re.compile(r"[\x20-\x7e]{1,64}")
ID_ALPHABET = string.ascii_letters + string.digits


def hash_secret(secret: str) -> str:
    # Secrets are 256-bit random strings, so one SHA-256 is as strong as a slow hash and keeps
    # the token endpoint fast.
    return "sha256$" + hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(stored: str | None, presented: str) -> bool:
    if not stored or not presented:
        return False
    return hmac.compare_digest(stored, hash_secret(presented))


def check_uri(uri: str, what: str) -> str:
    """An absolute https URI (http only on a loopback address), without a fragment."""
    parts = urlsplit(uri)
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.fragment or len(uri) > 500:
        raise ValidationError(f"{what} must be an absolute https URL without a fragment: {uri}")
    if parts.scheme == "http" and parts.hostname not in LOOPBACK:
        raise ValidationError(f"{what} may use http only on a loopback address: {uri}")
    return uri


class ClientService:
    def __init__(self, store: SqlClientStore, events: EventRecorder, clock: Clock) -> None:
        self.store, self.events, self.clock = store, events, clock
        self._cache: dict[str, tuple[float, ClientRecord]] = {}

    def get(self, client_id: str | None) -> ClientRecord | None:
        """The client, or None when there is none by that id or the id cannot be one."""
        if not client_id or not PRESENTED_CLIENT_ID.fullmatch(client_id):
            return None
        peeked = self.peek(client_id)
        if peeked is not None and peeked[1]:
            return peeked[0]
        client = self.store.get(client_id)
        if client is None:
            self._cache.pop(client_id, None)
        else:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[client_id] = (self._now(), client)
        return client

    def cached(self, client_id: str) -> bool:
        """Whether the client was read less than the cache lifetime ago (the lane needs no database)."""
        peeked = self.peek(client_id)
        return peeked is not None and peeked[1]

    def _now(self) -> float:
        # The injected clock, as the keys' cache: tests age caches by moving it.
        return self.clock.now().timestamp()

    def peek(self, client_id: str) -> tuple[ClientRecord, bool] | None:
        """(client, fresh) from the process cache without the database: fresh when read less than
        the cache lifetime ago; a record up to twice that old is given too, for a caller that
        reads it again meanwhile (`get`) rather than wait. None when older or never read."""
        cached = self._cache.get(client_id)
        if cached is None:
            return None
        age = self._now() - cached[0]
        if not 0 <= age < 2 * CLIENT_CACHE_SECONDS:  # too old, or the clock was set back
            return None
        return cached[1], age < CLIENT_CACHE_SECONDS

    def find(self, client_id: str) -> ClientRecord:
        client = self.get(client_id)
        if client is None:
            raise NotFoundError(f"no client {client_id}")
        return client

    def all(self) -> list[ClientRecord]:
        return self.store.all()

    def create(
        self, name: str, *, kind: str = "confidential", redirect_uris: list[str] | None = None,
        post_logout_redirect_uris: list[str] | None = None, backchannel_logout_uri: str | None = None,
        scopes: list[str] | None = None, grant_types: list[str] | None = None, skip_consent: bool = False,
        always_refresh: bool = False, access_token_lifetime: int | None = None,
        refresh_token_lifetime: int | None = None, id_token_alg: str = "RS256",  # noqa: S107 - an algorithm
        client_id: str | None = None,
        ctx: RequestContext | None = None,
    ) -> tuple[ClientRecord, str | None]:
        """Register a client; returns it with its secret (None for public clients), shown once."""
        name = name.strip()
        if not name or len(name) > 200:
            raise ValidationError("a client needs a name of at most 200 characters")
        if kind not in KINDS:
            raise ValidationError(f"kind must be one of {', '.join(KINDS)}")
        grants = list(dict.fromkeys(grant_types or DEFAULT_GRANTS[kind]))
        for grant in grants:
            if grant not in GRANT_TYPES:
                raise ValidationError(f"unknown grant type {grant}")
        if kind == "public" and "client_credentials" in grants:
            raise ValidationError("a public client cannot use client_credentials")
        if kind == "service" and set(grants) - {"client_credentials"}:
            raise ValidationError("a service client only uses client_credentials")
        redirects = [check_uri(u, "redirect URI") for u in redirect_uris or []]
        if "authorization_code" in grants and not redirects:
            raise ValidationError("the authorization code flow needs at least one redirect URI")
        logouts = [check_uri(u, "post-logout redirect URI") for u in post_logout_redirect_uris or []]
        backchannel = check_uri(backchannel_logout_uri, "back-channel logout URI") if backchannel_logout_uri else None
        allowed = list(dict.fromkeys(scopes or list(SCOPES)))
        if kind == "service" and scopes is None:
            allowed = []
        for lifetime in (access_token_lifetime, refresh_token_lifetime):
            if lifetime is not None and not 60 <= lifetime <= 365 * 86400:
                raise ValidationError("token lifetimes are between 60 seconds and a year")
        if id_token_alg not in ("RS256", "ES256"):
            raise ValidationError("the ID token algorithm is RS256 or ES256")
        if client_id is not None and not CLIENT_ID.fullmatch(client_id):
            raise ValidationError(
                "a client id is 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit"
            )
        # Letters and digits only: a generated id never starts with '-' (read as an option by a
        # command line) and needs no escaping in a URL or a Basic authorization header.
        client_id = client_id or "".join(secrets.choice(ID_ALPHABET) for _ in range(24))
        secret = None if kind == "public" else secrets.token_urlsafe(32)
        client = self.store.create(
            now=self.clock.now(), client_id=client_id, name=name, kind=kind,
            secret_hash=hash_secret(secret) if secret else None, redirect_uris=redirects,
            post_logout_redirect_uris=logouts, backchannel_logout_uri=backchannel, scopes=allowed,
            grant_types=grants, skip_consent=skip_consent, always_refresh=always_refresh,
            access_token_lifetime=access_token_lifetime, refresh_token_lifetime=refresh_token_lifetime,
            id_token_alg=id_token_alg,
        )
        self.events.record_event(EventTag.OIDC_CLIENT_CREATED, ctx=ctx, product=client_id,
                                 details={"kind": kind, "name": name})
        return client, secret

    def rotate_secret(self, client_id: str, ctx: RequestContext | None = None) -> str:
        client = self.find(client_id)
        if client.kind == "public":
            raise ValidationError("a public client has no secret")
        secret = secrets.token_urlsafe(32)
        self.store.set_secret_hash(client_id, hash_secret(secret), self.clock.now())
        self._cache.pop(client_id, None)
        self.events.record_event(EventTag.OIDC_CLIENT_SECRET_ROTATED, ctx=ctx, product=client_id)
        return secret

    def delete(self, client_id: str, ctx: RequestContext | None = None) -> None:
        """Remove a client with its consents and refresh tokens (its live access tokens expire soon)."""
        self._cache.pop(client_id, None)
        if not self.store.delete(client_id):
            raise NotFoundError(f"no client {client_id}")
        self.events.record_event(EventTag.OIDC_CLIENT_DELETED, ctx=ctx, product=client_id)


def describe(client: ClientRecord) -> dict[str, Any]:
    """A client for `idp client show --json`: everything except the secret hash."""
    data = {k: v for k, v in client.__dict__.items() if k != "secret_hash"}
    data["created_at"] = client.created_at.isoformat()
    data["has_secret"] = client.secret_hash is not None
    return data
