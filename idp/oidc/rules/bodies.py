"""What the issued tokens say: the claims of an access token (RFC 9068) and of an ID token, the
token response body, and when a refresh token or an ID token goes with an access token."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from idp.oidc import claims as claims_mod
from idp.oidc.records import ClientRecord
from idp.oidc.rules import acting as acting_rules
from idp.oidc.rules.grant import GrantContext


def wants_refresh(client: ClientRecord, scope: str) -> bool:
    """Whether a grant gets a refresh token: `offline_access` asked for, or the client always
    gets one; either way only when the client may use the refresh grant."""
    return "refresh_token" in client.grant_types and ("offline_access" in scope.split() or client.always_refresh)


def wants_id_token(ctx: GrantContext) -> bool:
    """Whether an ID token goes with the access token: a person's grant with the openid scope
    (for a refresh, the scope asked for: a refresh without openid gets no ID token)."""
    return ctx.user is not None and "openid" in ctx.scope.split()


def half_hash(value: str) -> str:
    """at_hash: the left half of the SHA-256 of the value (both signing algorithms, RS256 and
    ES256, hash with SHA-256), base64url without padding."""
    raw = hashlib.sha256(value.encode("ascii")).digest()
    return base64.urlsafe_b64encode(raw[: len(raw) // 2]).rstrip(b"=").decode()


def access_token_claims(ctx: GrantContext, *, issuer: str, now: int, lifetime: int, jti: str) -> dict[str, Any]:
    """An RFC 9068 access token's claims. `sub` is the person's subject, or the client for a
    service; a person's token carries how they signed in, and the userinfo claims the `claims`
    parameter asked for by name (userinfo has no other way to know them)."""
    body: dict[str, Any] = {
        "iss": issuer,
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
            body["userinfo_claims"] = ctx.claims["userinfo"]
        if ctx.acting is not None:
            body.update(acting_rules.claims(ctx.acting, ctx.user.subject))
    return body


def id_token_profile(ctx: GrantContext, *, with_access_token: bool, base_url: str) -> dict[str, Any]:
    """The profile claims of an ID token: those asked for by name in `claims.id_token`, and the
    scopes' claims only when no access token goes with it (userinfo serves them then)."""
    assert ctx.user is not None  # noqa: S101 - only a person's grant has an ID token
    return claims_mod.released(ctx.user, "" if with_access_token else ctx.scope, ctx.claims.get("id_token"),
                               base_url=base_url)


def id_token_claims(ctx: GrantContext, *, issuer: str, now: int, lifetime: int,
                    access_token: str | None, base_url: str | None = None) -> dict[str, Any]:
    """An ID token's claims: identity and authentication facts (`nonce` only when one was sent,
    so never on refresh), `at_hash` of the access token it goes with, then profile claims that
    do not override any of those."""
    assert ctx.user is not None  # noqa: S101 - only a person's grant has an ID token
    body: dict[str, Any] = {
        "iss": issuer, "sub": ctx.user.subject, "aud": ctx.client.client_id, "azp": ctx.client.client_id,
        "iat": now, "exp": now + lifetime, "auth_time": ctx.auth_time,
    }
    optional = {"nonce": ctx.nonce, "acr": ctx.acr, "amr": ctx.amr, "sid": ctx.sid}
    body.update({k: v for k, v in optional.items() if v})
    if ctx.acting is not None:
        body.update(acting_rules.claims(ctx.acting, ctx.user.subject))
    if access_token:
        body["at_hash"] = half_hash(access_token)
    profile = id_token_profile(ctx, with_access_token=bool(access_token), base_url=base_url or issuer)
    body.update({k: v for k, v in profile.items() if k not in body})
    return body


def token_response(ctx: GrantContext, *, access_token: str, expires_in: int, refresh_token: str | None,
                   id_token: str | None) -> dict[str, Any]:
    """The token endpoint's answer (RFC 6749 §5.1, OpenID Connect Core 3.1.3.3): the scope is
    the access token's (narrowed on refresh, RFC 6749 §5.1 lets it be sent always)."""
    response: dict[str, Any] = {
        "access_token": access_token, "token_type": "Bearer", "expires_in": expires_in, "scope": ctx.scope,
    }
    if refresh_token is not None:
        response["refresh_token"] = refresh_token
    if id_token is not None:
        response["id_token"] = id_token
    return response
