"""`id_token_hint` (OpenID Connect Core 3.1.2.1): an ID token signed here (an expired one too, as
the spec allows), naming the person signed in when someone is."""

from __future__ import annotations

from idp.oidc.authorize.context import AuthorizationContext
from idp.oidc.authorize.decisions import PROCEED
from idp.oidc.authorize.decisions import Decision
from idp.oidc.authorize.decisions import Refuse

NOT_OURS = "id_token_hint is not an ID token issued here"
ANOTHER_PERSON = "another person is signed in"


def check(ctx: AuthorizationContext) -> Decision:
    """A hint that is not ours is invalid_request; one for another person than the one signed in
    is login_required at once (not a sign-in page: the client asked about someone else). With
    nobody signed in the hint asks nothing more: the sign-in comes next."""
    raw = ctx.params.get("id_token_hint")
    if not raw:
        return PROCEED
    hint = ctx.rules.check_id_token_hint(raw)
    if hint is None:
        return Refuse("invalid_request", NOT_OURS)
    if ctx.person is not None and hint["sub"] != ctx.person.user.subject:
        return Refuse("login_required", ANOTHER_PERSON)
    return PROCEED
