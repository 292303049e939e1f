"""Tokens: RFC 9068 JWT access tokens, ID tokens, logout tokens, and opaque refresh tokens
stored hashed, rotated at each use, revoked by family. What they say is `idp.oidc.rules`';
this service signs, stores and looks them up."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING
from typing import Any

from idp.clock import Clock
from idp.oidc.keys import InvalidSignature
from idp.oidc.keys import KeyService
from idp.oidc.records import RefreshRecord
from idp.oidc.rules import access as access_rules
from idp.oidc.rules import bodies
from idp.oidc.rules import refresh as refresh_rules
from idp.oidc.rules.grant import GrantContext

if TYPE_CHECKING:
    from idp.stores.oidc import RedisOidcStore
    from idp.stores.oidc import SqlRefreshTokenStore


BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"
LOGOUT_TOKEN_LIFETIME = 120


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


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
        base_url: str | None = None,
    ) -> None:
        self.issuer, self.keys, self.clock = issuer, keys, clock
        # Where the service serves what claims link to (the picture): its base URL, which an
        # issuer with a path is not.
        self.base_url = (base_url or issuer).rstrip("/")
        self.refresh_tokens, self.redis = refresh_tokens, redis
        self.access_lifetime, self.id_lifetime, self.refresh_lifetime = access_lifetime, id_lifetime, refresh_lifetime

    def _now(self) -> int:
        return int(self.clock.now().timestamp())

    # -- access tokens (RFC 9068) -------------------------------------------------------

    def access_token(self, ctx: GrantContext) -> tuple[str, str, int, int]:
        """(jwt, jti, exp, lifetime), the claims of `rules.bodies.access_token_claims`."""
        now = self._now()
        lifetime = ctx.client.access_token_lifetime or self.access_lifetime
        jti = secrets.token_urlsafe(16)
        body = bodies.access_token_claims(ctx, issuer=self.issuer, now=now, lifetime=lifetime, jti=jti)
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
        """`rules.access.claims_live` by this service's issuer and clock."""
        return access_rules.claims_live(body, issuer=self.issuer, now=self._now())

    def deny(self, jti: str | None, exp: int | None) -> None:
        if jti and exp:
            self.redis.deny(jti, exp - self._now())

    # -- issuing ------------------------------------------------------------------------

    def issue(self, ctx: GrantContext, *, with_refresh: bool) -> Issued:
        """Sign the access token, store a refresh token (`with_refresh`, a person's grant only)
        and sign the ID token when `rules.bodies.wants_id_token`: the views' token response."""
        access, jti, exp, lifetime = self.access_token(ctx)
        issued = Issued({}, jti, exp)
        refresh = None
        if with_refresh and ctx.user is not None:
            refresh, row = self.new_refresh(ctx, jti, exp)
            issued.refresh_id = self.refresh_tokens.add(**row)
            issued.family = row["family"]
        id_token = self.id_token(ctx, access) if bodies.wants_id_token(ctx) else None
        issued.response = bodies.token_response(ctx, access_token=access, expires_in=lifetime,
                                                refresh_token=refresh, id_token=id_token)
        return issued

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
            "acting": ctx.acting.as_dict() if ctx.acting is not None else None,
            "expires_at": now + dt.timedelta(seconds=lifetime_s),
        }

    def id_token(self, ctx: GrantContext, access_token: str | None) -> str:
        """The ID token of `rules.bodies.id_token_claims`, signed with the client's algorithm."""
        body = bodies.id_token_claims(ctx, issuer=self.issuer, now=self._now(), lifetime=self.id_lifetime,
                                      access_token=access_token, base_url=self.base_url)
        return self.keys.sign(body, alg=ctx.client.id_token_alg)

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
        return refresh_rules.is_live(record, self.clock.now())

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
