"""Consent: a client that is not first-party gets a scope only once the person allowed it
(remembered per person and client), or again whenever it sends prompt=consent."""

from __future__ import annotations

from idp.oidc.authorize.context import AuthorizationContext
from idp.oidc.authorize.decisions import PROCEED
from idp.oidc.authorize.decisions import AskConsent
from idp.oidc.authorize.decisions import ConsentReason
from idp.oidc.authorize.decisions import Decision
from idp.oidc.authorize.decisions import SignIn
from idp.oidc.authorize.decisions import SignInReason


def given(ctx: AuthorizationContext) -> Decision:
    if ctx.person is None:
        # Consent is a person's: nobody can give it before signing in.
        return SignIn(SignInReason.NO_SESSION)
    if "consent" in ctx.prompts:
        return AskConsent(ConsentReason.PROMPT_CONSENT)
    if ctx.rules.needs_consent(ctx.person.user, ctx.client, ctx.scope):
        return AskConsent(ConsentReason.NOT_GIVEN)
    return PROCEED
