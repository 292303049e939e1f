"""A code is issued only to a signed-in person."""

from __future__ import annotations

from idp.oidc.authorize.context import AuthorizationContext
from idp.oidc.authorize.decisions import PROCEED
from idp.oidc.authorize.decisions import Decision
from idp.oidc.authorize.decisions import SignIn
from idp.oidc.authorize.decisions import SignInReason


def signed_in(ctx: AuthorizationContext) -> Decision:
    return SignIn(SignInReason.NO_SESSION) if ctx.person is None else PROCEED
