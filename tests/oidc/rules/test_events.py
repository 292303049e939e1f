"""rules.events: the event of each token request."""

from __future__ import annotations

from idp.events import EventTag
from idp.oidc.rules import events
from idp.oidc.rules.grant import GrantContext
from tests.oidc.rules.records import client
from tests.oidc.rules.records import person
from tests.oidc.rules.records import service


def test_token_events_by_grant_type() -> None:
    ctx = GrantContext(client=client(), user=person(), scope="openid")
    refreshed = events.token_event("refresh_token", ctx, refresh_token=True)
    assert refreshed.tag is EventTag.OIDC_TOKEN_REFRESHED
    assert refreshed.fields() == {"user_id": 7, "product": "rp",
                                  "details": {"grant_type": "refresh_token", "scope": "openid", "refresh_token": True}}
    assert events.token_event("authorization_code", ctx, refresh_token=False).tag is EventTag.OIDC_TOKEN_ISSUED
    issued = events.token_event("client_credentials", GrantContext(client=service(), user=None, scope="reports"),
                                refresh_token=False)
    assert (issued.tag, issued.user_id, issued.product) == (EventTag.OIDC_TOKEN_ISSUED, None, "rs")


def test_a_revocation_names_what_was_revoked() -> None:
    event = events.revoked_event("refresh_token", "rp", 7)
    assert event.tag is EventTag.OIDC_TOKEN_REVOKED
    assert event.fields() == {"user_id": 7, "product": "rp", "details": {"what": "refresh_token"}}
