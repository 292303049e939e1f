"""Introspection (RFC 7662): who may introspect which token, whether it is active, and the
answer's fields. Anything that is not active, or not the caller's to see, is `INACTIVE`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from idp.model import User
from idp.oidc.records import ClientRecord
from idp.oidc.records import RefreshRecord
from idp.oidc.rules.refresh import is_live
from idp.standing import Act
from idp.standing import may

TOKEN_TYPE_HINTS = ("access_token", "refresh_token")  # any other hint: unsupported_token_type
ACCESS_TOKEN_FIELDS = ("scope", "client_id", "sub", "aud", "iss", "exp", "iat", "jti")


def inactive() -> dict[str, Any]:
    return {"active": False}


def may_introspect(kind: str, token_client_id: str, client: ClientRecord) -> bool:
    """A client sees its own tokens; a service client (a resource server) any access token."""
    return token_client_id == client.client_id or (kind == "access_token" and client.kind == "service")


def speaks_for_a_person(claims: dict[str, Any]) -> bool:
    """Whether a live access token's activity depends on an account: a person's token carries
    `auth_time`; a service's speaks for no account (so its account is never read)."""
    return "auth_time" in claims


def access_token_active(claims: dict[str, Any], user: User | None) -> bool:
    """A live access token is active while the account it speaks for may act (`user`: the
    account of its `sub`, read only when `speaks_for_a_person`; None: deleted)."""
    return not speaks_for_a_person(claims) or may(user, Act.ACCESS_TOKEN)


def refresh_token_active(record: RefreshRecord, user: User | None, now: dt.datetime) -> bool:
    return is_live(record, now) and may(user, Act.REFRESH_TOKEN)


def access_token_answer(claims: dict[str, Any]) -> dict[str, Any]:
    """The answer for an active access token: its own claims, as the token has them."""
    out = {k: claims[k] for k in ACCESS_TOKEN_FIELDS if k in claims}
    return out | {"active": True, "token_type": "Bearer"}


def refresh_token_answer(record: RefreshRecord, user: User | None, issuer: str) -> dict[str, Any]:
    """The answer for an active refresh token: the grant's scope, its client and person, its
    lifetime (`exp`, `iat` as the row has them)."""
    return {
        "active": True, "scope": record.scope, "client_id": record.client_id,
        "sub": user.subject if user else None, "exp": int(record.expires_at.timestamp()),
        "iat": int(record.created_at.timestamp()), "iss": issuer, "token_type": "refresh_token",
    }
