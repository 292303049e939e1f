"""The event each token request records: the tag, the person, the client as the product, and
what the activity log keeps (never a token)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from idp.events import EventTag
from idp.oidc.rules.grant import GrantContext


@dataclass(frozen=True)
class TokenEvent:
    tag: EventTag
    user_id: int | None
    product: str
    details: dict[str, Any]

    def fields(self) -> dict[str, Any]:
        """The keyword arguments of `record_event` and `EventRecorder.values` besides tag and ctx."""
        return {"user_id": self.user_id, "product": self.product, "details": self.details}


def token_event(grant_type: str, ctx: GrantContext, *, refresh_token: bool) -> TokenEvent:
    """A token issued (authorization code, client credentials) or refreshed; `refresh_token`:
    whether a refresh token went with it."""
    tag = EventTag.OIDC_TOKEN_REFRESHED if grant_type == "refresh_token" else EventTag.OIDC_TOKEN_ISSUED
    return TokenEvent(
        tag=tag, user_id=ctx.user.id if ctx.user else None, product=ctx.client.client_id,
        details={"grant_type": grant_type, "scope": ctx.scope, "refresh_token": refresh_token},
    )


def revoked_event(kind: str, client_id: str, user_id: int | None) -> TokenEvent:
    """A token revoked (RFC 7009): an access token (no person named), or a refresh token's family."""
    return TokenEvent(tag=EventTag.OIDC_TOKEN_REVOKED, user_id=user_id, product=client_id, details={"what": kind})
