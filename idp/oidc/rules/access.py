"""Presented access tokens: whether their claims are live, and what userinfo releases."""

from __future__ import annotations

from typing import Any

from idp.model import User
from idp.oidc import claims as claims_mod
from idp.oidc.rules import acting
from idp.standing import Act
from idp.standing import may


def claims_live(body: dict[str, Any], *, issuer: str, now: int) -> bool:
    """An access token's claims we rely on, once its signature and type are checked: our issuer,
    not expired, a `jti` (whose denial the caller checks)."""
    exp = body.get("exp")
    return body.get("iss") == issuer and isinstance(exp, int) and exp > now and isinstance(body.get("jti"), str)


def userinfo_allowed(body: dict[str, Any]) -> bool:
    """Userinfo answers only a token granted the openid scope (else 403 insufficient_scope)."""
    return "openid" in str(body.get("scope", "")).split()


def userinfo(body: dict[str, Any], user: User | None, *, base_url: str) -> dict[str, Any] | None:
    """Userinfo's answer for a live token granted openid: `sub`, the claims of the token's
    scopes and those the `claims` parameter named, and `act` / `acting_for` of a token issued
    while acting for a client; None when the account (None: deleted) may not act, which is the
    token's failure (401 invalid_token)."""
    if user is None or not may(user, Act.ACCESS_TOKEN):
        return None
    released = claims_mod.released(user, str(body.get("scope", "")), body.get("userinfo_claims"), base_url=base_url)
    # A token issued while acting for a client says so here too (its delegation the caller checks).
    return released | acting.released(body)
