"""Claims: which profile fields each scope releases, the `claims` request parameter, acr from amr."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from idp.errors import ValidationError
from idp.model import User

# The one table of what a person's profile can answer: each claim, the scope that releases it,
# and how it is read. Discovery (`scopes_supported`, `claims_supported`) and `released` are
# derived from it, so the provider never advertises a claim it cannot return.
PROFILE_CLAIMS: dict[str, tuple[str, Callable[[User, str], Any]]] = {
    "name": ("profile", lambda user, base: user.display_name or user.email),
    "given_name": ("profile", lambda user, base: user.given_name),
    "family_name": ("profile", lambda user, base: user.family_name),
    "preferred_username": ("profile", lambda user, base: user.email),
    # Absolute: applications fetch it from their own pages (idp.account.profile_views).
    "picture": ("profile", lambda user, base: picture_url(user, base)),
    "locale": ("profile", lambda user, base: user.locale or None),
    "zoneinfo": ("profile", lambda user, base: user.timezone or None),
    "updated_at": ("profile", lambda user, base: int(user.updated_at.timestamp())),
    "email": ("email", lambda user, base: user.email),
    # True once a link sent to the address was opened (sign-up, invitation, e-mail change);
    # false for an address an operator or a directory set.
    "email_verified": ("email", lambda user, base: user.email_verified_at is not None),
    # Only a number confirmed by a texted code is released (idp.account.phones).
    "phone_number": ("phone", lambda user, base: user.phone_number),
    "phone_number_verified": ("phone", lambda user, base: True if user.phone_number else None),
}
SCOPE_CLAIMS: dict[str, tuple[str, ...]] = {
    scope: tuple(name for name, (owner, _read) in PROFILE_CLAIMS.items() if owner == scope)
    for scope in dict.fromkeys(owner for owner, _read in PROFILE_CLAIMS.values())
}
# Identity scopes: openid, the scopes of the table, and offline_access (refresh tokens).
SCOPES = ("openid", *SCOPE_CLAIMS, "offline_access")
# What the ID token carries besides profile claims (`nonce` only when one was sent, `at_hash`
# when an access token goes with it).
PROTOCOL_CLAIMS = ("sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "azp", "sid", "at_hash")
# What the tokens (and userinfo) of a partner person acting for a client organisation carry
# besides (idp.oidc.rules.acting, decision 0812); never a profile claim.
DELEGATION_CLAIMS = ("act", "acting_for")
# Discovery's `claims_supported`: exactly what the ID token and userinfo can return.
SUPPORTED_CLAIMS = sorted({*PROTOCOL_CLAIMS, *DELEGATION_CLAIMS, *PROFILE_CLAIMS})

# Authentication context classes: a password alone, an organisation's directory (SSO) alone,
# or two factors (here, or reported by the directory).
ACR_PASSWORD = "urn:idp:acr:pwd"  # noqa: S105 - an acr value
ACR_FEDERATED = "urn:idp:acr:fed"
ACR_MFA = "urn:idp:acr:mfa"
ACR_VALUES = (ACR_PASSWORD, ACR_FEDERATED, ACR_MFA)


def acr_for(amr: list[str]) -> str:
    """The acr that honestly describes how the session was authenticated."""
    if "mfa" in amr:
        return ACR_MFA
    return ACR_FEDERATED if "fed" in amr else ACR_PASSWORD


def picture_url(user: User, base: str) -> str | None:
    """The picture's public address under the service's base URL, or None without a picture."""
    if user.avatar_version is None:
        return None
    return f"{base.rstrip('/')}/avatars/{user.subject}/{user.avatar_version}/large.jpg"


def profile_claims(user: User, base_url: str) -> dict[str, Any]:
    """Every claim of the table the person has a value for (no locale chosen: no `locale`)."""
    values = {name: read(user, base_url) for name, (_scope, read) in PROFILE_CLAIMS.items()}
    return {name: value for name, value in values.items() if value is not None}


def parse_claims_request(raw: str | None) -> dict[str, list[str]]:
    """The `claims` parameter reduced to the claim names asked for in the ID token and at userinfo.

    Raises ValidationError for anything that is not a JSON object of objects; unknown claims are
    ignored (the OP returns what it has, essential or not).
    """
    if not raw:
        return {}
    if len(raw) > 4096:
        raise ValidationError("claims parameter too long")
    try:
        data = json.loads(raw)
    except ValueError:
        raise ValidationError("claims parameter is not valid JSON") from None
    if not isinstance(data, dict):
        raise ValidationError("claims parameter must be a JSON object")
    out: dict[str, list[str]] = {}
    for target in ("id_token", "userinfo"):
        section = data.get(target)
        if section is None:
            continue
        if not isinstance(section, dict):
            raise ValidationError(f"claims.{target} must be a JSON object")
        names = [n for n in section if isinstance(n, str) and n in SUPPORTED_CLAIMS]
        if names:
            out[target] = sorted(names)
    return out


def released(user: User, scope: str, extra: list[str] | None = None, *, base_url: str) -> dict[str, Any]:
    """`sub` plus the claims of the granted scopes, plus claims named in `extra`; `base_url` is
    where the service serves what a claim links to (the picture)."""
    scopes = set(scope.split())
    wanted = {c for s in scopes for c in SCOPE_CLAIMS.get(s, ())} | set(extra or [])
    available = profile_claims(user, base_url)
    out: dict[str, Any] = {"sub": user.subject}
    for name in sorted(wanted):
        if name in available:
            out[name] = available[name]
    return out
