"""Tokens: RFC 9068 JWT access tokens, ID tokens, logout tokens, and opaque refresh tokens
stored hashed, rotated at each use, revoked by family."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from dataclasses import field
from typing import TYPE_CHECKING
from typing import Any

from idp.clock import Clock
from idp.model import User
from idp.oidc import claims as claims_mod
from idp.oidc.keys import InvalidSignature
from idp.oidc.keys import KeyService
from idp.oidc.records import ClientRecord
from idp.oidc.records import RefreshRecord

if TYPE_CHECKING:
    from idp.stores.oidc import RedisOidcStore
    from idp.stores.oidc import SqlRefreshTokenStore


BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"
LOGOUT_TOKEN_LIFETIME = 120


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def half_hash(value: str, alg: str) -> str:
    """at_hash / c_hash: the left half of the hash matching the signing algorithm (SHA-256 here)."""
    import base64

    raw = hashlib.sha256(value.encode("ascii")).digest()
    return base64.urlsafe_b64encode(raw[: len(raw) // 2]).rstrip(b"=").decode()


def wants_refresh(client: ClientRecord, scope: str) -> bool:
    """Whether a grant gets a refresh token: `offline_access` asked for, or the client always
    gets one; either way only when the client may use the refresh grant."""
    return "refresh_token" in client.grant_types and ("offline_access" in scope.split() or client.always_refresh)


def narrowed_scope(granted: str, requested: str | None) -> str | None:
    """The scope of an access token issued on refresh (RFC 6749 §6): the scopes asked for, in
    the grant's order, when every one of them was granted; the whole grant when none is asked
    for; None when one of them was not granted (`invalid_scope`). The refresh token itself
    keeps the grant's scope."""
    asked = set((requested or "").split())
    if not asked:
        return granted
    kept = [s for s in granted.split() if s in asked]
    return " ".join(kept) if asked <= set(kept) else None


def token_event_details(grant_type: str, scope: str, *, refresh_token: bool) -> dict[str, Any]:
    """What the activity log keeps of a token issued or refreshed (never the token)."""
    return {"grant_type": grant_type, "scope": scope, "refresh_token": refresh_token}


@dataclass
class GrantContext:
    """Who and what a token speaks for; built from an authorization code, a refresh token, or a client."""

    client: ClientRecord
    user: User | None
    scope: str
    auth_time: int | None = None
    acr: str | None = None
    amr: list[str] = field(default_factory=list)
    sid: str | None = None
    claims: dict[str, list[str]] = field(default_factory=dict)
    nonce: str | None = None
    family: str | None = None
    # The scope the person granted, which refresh tokens keep when a refresh narrows `scope`
    # (that of the access and ID tokens); None: the same as `scope`.
    granted: str | None = None

    @property
    def grant_scope(self) -> str:
        return self.scope if self.granted is None else self.granted


@dataclass
class Issued:
    response: dict[str, Any]
    jti: str
    exp: int
    family: str | None = None
    refresh_id: int | None = None


class TokenService:
    def __init__(
        self, *, issuer: str, keys: KeyService, clock: Clock, refresh_tokens: SqlRefreshTokenStore,
        redis: RedisOidcStore, access_lifetime: int, id_lifetime: int, refresh_lifetime: int,
    ) -> None:
        self.issuer, self.keys, self.clock = issuer, keys, clock
        self.refresh_tokens, self.redis = refresh_tokens, redis
        self.access_lifetime, self.id_lifetime, self.refresh_lifetime = access_lifetime, id_lifetime, refresh_lifetime

    def _now(self) -> int:
        return int(self.clock.now().timestamp())

    # -- access tokens (RFC 9068) -------------------------------------------------------

    def access_token(self, ctx: GrantContext) -> tuple[str, str, int, int]:
        """(jwt, jti, exp, lifetime). `sub` is the person's subject, or the client for a service."""
        now = self._now()
        lifetime = ctx.client.access_token_lifetime or self.access_lifetime
        jti = secrets.token_urlsafe(16)
        body: dict[str, Any] = {
            "iss": self.issuer,
            "sub": ctx.user.subject if ctx.user else ctx.client.client_id,
            "aud": ctx.client.client_id,
            "client_id": ctx.client.client_id,
            "iat": now,
            "exp": now + lifetime,
            "jti": jti,
            "scope": ctx.scope,
        }
        if ctx.user is not None:
            body["auth_time"] = ctx.auth_time
            if ctx.acr:
                body["acr"] = ctx.acr
            if ctx.amr:
                body["amr"] = ctx.amr
            if ctx.claims.get("userinfo"):
                # Claims asked for by name at userinfo (the `claims` parameter) travel with the token.
                body["userinfo_claims"] = ctx.claims["userinfo"]
        return self.keys.sign(body, alg="RS256", typ="at+jwt"), jti, now + lifetime, lifetime

    def verify_access_token(self, token: str) -> dict[str, Any] | None:
        """The claims of a live access token we issued (signature, type, issuer, expiry, not revoked)."""
        try:
            _header, body = self.keys.verify(token, typ="at+jwt")
        except InvalidSignature:
            return None
        if not self.access_claims_valid(body) or self.redis.is_denied(body["jti"]):
            return None
        return body

    def access_claims_valid(self, body: dict[str, Any]) -> bool:
        """An access token's claims we rely on: our issuer, not expired, a `jti` (whose denial the
        caller checks)."""
        exp = body.get("exp")
        return (body.get("iss") == self.issuer and isinstance(exp, int) and exp > self._now()
                and isinstance(body.get("jti"), str))

    def deny(self, jti: str | None, exp: int | None) -> None:
        if jti and exp:
            self.redis.deny(jti, exp - self._now())

    # -- issuing ------------------------------------------------------------------------

    def issue(self, ctx: GrantContext, *, with_refresh: bool) -> Issued:
        access, jti, exp, lifetime = self.access_token(ctx)
        issued = self.issued(ctx, access, jti, exp, lifetime)
        if with_refresh and ctx.user is not None:
            refresh, row = self.new_refresh(ctx, jti, exp)
            issued.refresh_id = self.refresh_tokens.add(**row)
            issued.family = row["family"]
            issued.response["refresh_token"] = refresh
        return issued

    @staticmethod
    def issued(ctx: GrantContext, access: str, jti: str, exp: int, lifetime: int) -> Issued:
        response: dict[str, Any] = {
            "access_token": access, "token_type": "Bearer", "expires_in": lifetime, "scope": ctx.scope,
        }
        return Issued(response, jti, exp)

    def new_refresh(self, ctx: GrantContext, access_jti: str, access_exp: int) -> tuple[str, dict[str, Any]]:
        """A new opaque refresh token and the columns of its row (only its hash is stored)."""
        assert ctx.user is not None  # noqa: S101 - only user grants get refresh tokens
        refresh = secrets.token_urlsafe(32)
        now = self.clock.now()
        lifetime_s = ctx.client.refresh_token_lifetime or self.refresh_lifetime
        return refresh, {
            "token_hash": digest(refresh), "now": now, "family": ctx.family or secrets.token_hex(16),
            "client_id": ctx.client.client_id, "user_id": ctx.user.id, "scope": ctx.grant_scope,
            "auth_time": ctx.auth_time or self._now(), "acr": ctx.acr, "amr": ctx.amr, "sid": ctx.sid,
            "claims": ctx.claims, "access_jti": access_jti, "access_exp": access_exp,
            "expires_at": now + dt.timedelta(seconds=lifetime_s),
        }

    def id_token(self, ctx: GrantContext, access_token: str | None) -> str:
        """The ID token: identity and authentication facts; scope claims only when no access
        token goes with it (they are served by userinfo), plus claims asked for by name."""
        assert ctx.user is not None  # noqa: S101 - only user grants reach here
        now = self._now()
        alg = ctx.client.id_token_alg
        body: dict[str, Any] = {
            "iss": self.issuer, "sub": ctx.user.subject, "aud": ctx.client.client_id,
            "azp": ctx.client.client_id, "iat": now, "exp": now + self.id_lifetime,
            "auth_time": ctx.auth_time,
        }
        if ctx.nonce:
            body["nonce"] = ctx.nonce
        if ctx.acr:
            body["acr"] = ctx.acr
        if ctx.amr:
            body["amr"] = ctx.amr
        if ctx.sid:
            body["sid"] = ctx.sid
        if access_token:
            body["at_hash"] = half_hash(access_token, alg)
            extra = claims_mod.released(ctx.user, "", ctx.claims.get("id_token"))
        else:
            extra = claims_mod.released(ctx.user, ctx.scope, ctx.claims.get("id_token"))
        body.update({k: v for k, v in extra.items() if k not in body})
        return self.keys.sign(body, alg=alg)

    def logout_token(self, client_id: str, subject: str, sid: str) -> str:
        now = self._now()
        body = {
            "iss": self.issuer, "aud": client_id, "iat": now, "exp": now + LOGOUT_TOKEN_LIFETIME,
            "jti": secrets.token_urlsafe(16), "sub": subject, "sid": sid,
            "events": {BACKCHANNEL_EVENT: {}},
        }
        return self.keys.sign(body, alg="RS256", typ="logout+jwt")

    # -- refresh tokens -----------------------------------------------------------------

    def find_refresh(self, token: str) -> RefreshRecord | None:
        if not token or len(token) > 200:
            return None
        return self.refresh_tokens.by_hash(digest(token))

    def is_live(self, record: RefreshRecord) -> bool:
        return record.revoked_at is None and record.used_at is None and record.expires_at > self.clock.now()

    def spend(self, record: RefreshRecord) -> bool:
        """Spend a refresh token for its rotation. False when it was already spent: the caller
        treats that as theft and revokes the family."""
        return self.refresh_tokens.mark_used(record.id, self.clock.now())

    def revoke_family(self, family: str) -> int:
        rows = self.refresh_tokens.revoke_family(family, self.clock.now())
        for _family, _client, jti, exp in rows:
            self.deny(jti, exp)
        return len(rows)

    def revoke_user(self, user_id: int, client_id: str | None = None) -> list[tuple[str, str, str | None, int | None]]:
        rows = self.refresh_tokens.revoke_for_user(user_id, self.clock.now(), client_id)
        for _family, _client, jti, exp in rows:
            self.deny(jti, exp)
        return rows
