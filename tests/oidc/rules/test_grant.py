"""rules.grant: the context of a refresh and of a service token, and the scopes a client may have."""

from __future__ import annotations

from idp.oidc.rules import grant
from tests.oidc.rules.records import client
from tests.oidc.rules.records import person
from tests.oidc.rules.records import refresh_row
from tests.oidc.rules.records import service


def test_a_refresh_keeps_the_sign_in_facts_and_the_grant() -> None:
    row, ada = refresh_row(), person()
    ctx = grant.refreshed(client(), ada, row, "openid")
    assert (ctx.user, ctx.scope, ctx.grant_scope) == (ada, "openid", "openid profile offline_access")
    assert (ctx.auth_time, ctx.acr, ctx.amr, ctx.sid, ctx.claims, ctx.family) == (
        row.auth_time, row.acr, row.amr, row.sid, row.claims, row.family)
    assert ctx.nonce is None


def test_a_service_token_has_no_person_and_no_identity_scope() -> None:
    ctx = grant.for_service(service(), "openid reports admin reports")
    assert ctx.user is None and ctx.scope == "reports"
    assert grant.for_service(service(), None).scope == ""


def test_the_allowed_scope_keeps_the_order_asked_each_once() -> None:
    assert grant.allowed_scope(client(), "email openid email phone") == "email openid"
    assert grant.allowed_scope(client(), "") == ""


def test_a_client_uses_the_grants_it_is_registered_for() -> None:
    assert grant.client_may_use(client(), "refresh_token")
    assert not grant.client_may_use(client(grant_types=["authorization_code"]), "refresh_token")
    assert not grant.client_may_use(client(), "client_credentials")
