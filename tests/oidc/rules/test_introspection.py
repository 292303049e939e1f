"""rules.introspection: who may see which token, activity, and the answers' fields."""

from __future__ import annotations

from idp.model import UserStatus
from idp.oidc.rules import introspection
from tests.oidc.rules.records import EPOCH
from tests.oidc.rules.records import NOW
from tests.oidc.rules.records import client
from tests.oidc.rules.records import person
from tests.oidc.rules.records import refresh_row
from tests.oidc.rules.records import service

PERSONS = {"iss": "https://id", "sub": "sub-7", "aud": "rp", "client_id": "rp", "iat": EPOCH, "exp": EPOCH + 60,
           "jti": "j", "scope": "openid", "auth_time": EPOCH, "amr": ["pwd"]}


def test_a_client_sees_its_own_tokens_a_service_any_access_token() -> None:
    assert introspection.may_introspect("access_token", "rp", client())
    assert introspection.may_introspect("refresh_token", "rp", client())
    assert not introspection.may_introspect("access_token", "rp", client(client_id="other"))
    assert introspection.may_introspect("access_token", "rp", service())
    assert not introspection.may_introspect("refresh_token", "rp", service())


def test_a_persons_access_token_is_active_while_the_account_may_act() -> None:
    assert introspection.speaks_for_a_person(PERSONS)
    assert introspection.access_token_active(PERSONS, person(locked_at=NOW))
    assert not introspection.access_token_active(PERSONS, person(status=UserStatus.DISABLED))
    assert not introspection.access_token_active(PERSONS, None)
    services = {k: v for k, v in PERSONS.items() if k != "auth_time"}
    assert not introspection.speaks_for_a_person(services)
    assert introspection.access_token_active(services, None)


def test_a_refresh_token_is_active_while_live_and_its_account_may_act() -> None:
    assert introspection.refresh_token_active(refresh_row(), person(), NOW)
    assert not introspection.refresh_token_active(refresh_row(used_at=NOW), person(), NOW)
    assert not introspection.refresh_token_active(refresh_row(), person(status=UserStatus.DISABLED), NOW)


def test_the_answers() -> None:
    assert introspection.access_token_answer(PERSONS) == {
        "active": True, "token_type": "Bearer", "scope": "openid", "client_id": "rp", "sub": "sub-7", "aud": "rp",
        "iss": "https://id", "exp": EPOCH + 60, "iat": EPOCH, "jti": "j"}
    row = refresh_row()
    assert introspection.refresh_token_answer(row, person(), "https://id") == {
        "active": True, "scope": row.scope, "client_id": "rp", "sub": "sub-7",
        "exp": int(row.expires_at.timestamp()), "iat": int(row.created_at.timestamp()), "iss": "https://id",
        "token_type": "refresh_token"}
    assert introspection.inactive() == {"active": False}
