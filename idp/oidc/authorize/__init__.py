"""The rules of the authorization endpoint, as a chain of small steps, one module per concern
(after node-oidc-provider's `lib/actions/authorization/`). Each step reads an
`AuthorizationContext` and answers a `Decision`; `decide` runs them in order and returns the first
that is not PROCEED, after the prompt=none rule. No Flask here: the view parses the request,
calls `decide`, and renders or redirects from the decision."""

from __future__ import annotations

from collections.abc import Callable

from idp.oidc.authorize import claims_request
from idp.oidc.authorize import consent
from idp.oidc.authorize import id_token_hint
from idp.oidc.authorize import max_age
from idp.oidc.authorize import prompt
from idp.oidc.authorize import session
from idp.oidc.authorize.context import AuthorizationContext
from idp.oidc.authorize.context import AuthorizeRules
from idp.oidc.authorize.decisions import PROCEED
from idp.oidc.authorize.decisions import AskConsent
from idp.oidc.authorize.decisions import ConsentReason
from idp.oidc.authorize.decisions import Decision
from idp.oidc.authorize.decisions import Proceed
from idp.oidc.authorize.decisions import Refuse
from idp.oidc.authorize.decisions import SignIn
from idp.oidc.authorize.decisions import SignInReason

Step = Callable[[AuthorizationContext], Decision]

# The order is part of the behaviour: the parameters are checked before the session is, and the
# sign-in before consent (`request_object` runs earlier still, inside Authlib's validation).
STEPS: tuple[Step, ...] = (
    max_age.well_formed,  # invalid_request
    claims_request.well_formed,  # invalid_request
    id_token_hint.check,  # invalid_request; login_required for another person
    session.signed_in,  # sign in
    prompt.login,  # sign in again
    max_age.honoured,  # sign in again
    consent.given,  # ask for consent
)


def decide(ctx: AuthorizationContext, steps: tuple[Step, ...] = STEPS) -> Decision:
    """The first decision of the steps that is not PROCEED (with prompt=none, a page it would
    need becomes an error for the client), or PROCEED: issue the code."""
    for step in steps:
        decision = step(ctx)
        if not isinstance(decision, Proceed):
            return prompt.without_pages(ctx, decision)
    return PROCEED


__all__ = [
    "PROCEED", "STEPS", "AskConsent", "AuthorizationContext", "AuthorizeRules", "ConsentReason", "Decision",
    "Proceed", "Refuse", "SignIn", "SignInReason", "Step", "decide",
]
