"""The `claims` request parameter (OpenID Connect Core 5.5) must be a JSON object of objects."""

from __future__ import annotations

from idp.errors import ValidationError
from idp.oidc import claims as claims_mod
from idp.oidc.authorize.context import AuthorizationContext
from idp.oidc.authorize.decisions import PROCEED
from idp.oidc.authorize.decisions import Decision
from idp.oidc.authorize.decisions import Refuse


def well_formed(ctx: AuthorizationContext) -> Decision:
    try:
        claims_mod.parse_claims_request(ctx.params.get("claims"))
    except ValidationError as exc:
        return Refuse("invalid_request", str(exc))
    return PROCEED
