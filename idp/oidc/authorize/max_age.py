"""`max_age` (OpenID Connect Core 3.1.2.1): a number of seconds; a session older than that must
prove itself again, unless it did so after the request first arrived."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from idp.oidc.authorize.context import AuthorizationContext
from idp.oidc.authorize.decisions import PROCEED
from idp.oidc.authorize.decisions import Decision
from idp.oidc.authorize.decisions import Refuse
from idp.oidc.authorize.decisions import SignIn
from idp.oidc.authorize.decisions import SignInReason

NOT_SECONDS = Refuse("invalid_request", "max_age must be a number of seconds")


def requested(params: Mapping[str, Any]) -> int | Refuse | None:
    """The max_age asked for (None when absent or empty), or invalid_request unless it is a
    whole number of seconds, zero or more."""
    raw = params.get("max_age")
    if raw in (None, ""):
        return None
    try:
        value = int(raw)
    except ValueError:
        return NOT_SECONDS
    return NOT_SECONDS if value < 0 else value


def well_formed(ctx: AuthorizationContext) -> Decision:
    limit = requested(ctx.params)
    return limit if isinstance(limit, Refuse) else PROCEED


def honoured(ctx: AuthorizationContext) -> Decision:
    """Sign in again when the session is older than max_age seconds (max_age=0: any session
    older than this second), unless it was proven after the request first arrived."""
    limit = requested(ctx.params)
    if isinstance(limit, Refuse):
        return limit
    if limit is None or ctx.signed_in_since_seen:
        return PROCEED
    if ctx.person is None or ctx.now - ctx.person.auth_time > limit:
        return SignIn(SignInReason.MAX_AGE)
    return PROCEED
