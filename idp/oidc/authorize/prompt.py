"""`prompt` (OpenID Connect Core 3.1.2.1): `login` asks for a fresh sign-in, `none` for an answer
without any page. `consent` is read by the consent step; `select_account` is accepted and ignored;
`none` with another value was refused by Authlib before any step."""

from __future__ import annotations

from idp.oidc.authorize.context import AuthorizationContext
from idp.oidc.authorize.decisions import PROCEED
from idp.oidc.authorize.decisions import AskConsent
from idp.oidc.authorize.decisions import Decision
from idp.oidc.authorize.decisions import Refuse
from idp.oidc.authorize.decisions import SignIn
from idp.oidc.authorize.decisions import SignInReason


def login(ctx: AuthorizationContext) -> Decision:
    """prompt=login: sign in again, unless the session was proven after the request first
    arrived (the request resumed after that very sign-in: no loop)."""
    if "login" in ctx.prompts and not ctx.signed_in_since_seen:
        return SignIn(SignInReason.PROMPT_LOGIN)
    return PROCEED


def without_pages(ctx: AuthorizationContext, decision: Decision) -> Decision:
    """prompt=none: a page the request would need becomes its error for the client, sign-in
    login_required and consent consent_required. Any other decision stands."""
    if "none" not in ctx.prompts:
        return decision
    if isinstance(decision, SignIn):
        return Refuse("login_required")
    if isinstance(decision, AskConsent):
        return Refuse("consent_required")
    return decision
