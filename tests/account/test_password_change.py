"""Changing the password on /account/password: the current one first, the new one's rules, the
other sessions signed out or kept as chosen, the event and the mail."""

from __future__ import annotations

import re

import pytest

from idp.errors import ValidationError
from idp.federation import FEDERATION
from idp.federation.connections import ConnectionInput
from tests.account.conftest import NEW
from tests.account.conftest import mails
from tests.account.conftest import post
from tests.account.conftest import signed_in_without_password
from tests.conftest import AuthActions
from tests.conftest import events

PATH = "/account/password"


def _change(client, person, *, current=None, new=NEW, confirm=None, others=True):
    data = {"current_password": person.password if current is None else current, "new_password": new,
            "confirm": new if confirm is None else confirm}
    if others:
        data["sign_out_others"] = "y"
    return post(client, PATH, data)


def _signs_in(app, email, password) -> bool:
    return AuthActions(app.test_client()).sign_in(email, password).status_code == 302


@pytest.fixture
def ada(make_user, auth, services):
    person = make_user(display_name="Ada")
    services.users.set_timezone(person.id, "Asia/Tokyo", services.clock.now())
    auth.sign_in(person.email, person.password)
    return person


def test_the_account_home_and_the_security_page_lead_here(client, ada):
    assert f'href="{PATH}"' in client.get("/").get_data(as_text=True)
    security = client.get("/security/").get_data(as_text=True)
    assert f'href="{PATH}"' in security and '">Set</td>' in security
    page = client.get(PATH)
    assert page.status_code == 200
    assert re.search(r'<input [^>]*checked id="sign_out_others" name="sign_out_others" type="checkbox"', page.get_data(as_text=True))


def test_a_change_signs_out_the_other_sessions_and_keeps_this_one(app, client, services, ada):
    other = app.test_client()
    AuthActions(other).sign_in(ada.email, ada.password)
    assert other.get("/").status_code == 200
    response = _change(client, ada)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert "1 other session was signed out." in client.get("/").get_data(as_text=True)
    assert client.get("/").status_code == 200  # this browser stays signed in
    assert other.get("/").status_code == 302  # the other one is out
    assert _signs_in(app, ada.email, NEW) and not _signs_in(app, ada.email, ada.password)
    [changed] = events(services, "account:password:changed")
    assert changed["user_id"] == ada.id and changed["actor_id"] == ada.id
    assert changed["details"] == {"by": "owner", "how": "change", "other_sessions_ended": 1}
    [mail] = mails(services, ada.email, "password was changed")
    body = mail["body"]
    assert "Hello Ada," in body and "Your password was changed." in body
    assert "JST" in body  # the time in the account's zone
    assert "IP address: 127.0.0.1" in body and "Other sessions signed out: 1" in body
    assert "http://localhost:5000/security/compromised/" in body


def test_unticked_the_other_sessions_stay(app, client, services, ada):
    other = app.test_client()
    AuthActions(other).sign_in(ada.email, ada.password)
    response = _change(client, ada, others=False)
    assert response.status_code == 302
    assert other.get("/").status_code == 200 and client.get("/").status_code == 200
    assert events(services, "account:session:ended") == []
    [changed] = events(services, "account:password:changed")
    assert changed["details"]["other_sessions_ended"] == 0
    assert "Other sessions signed out" not in mails(services, ada.email, "password was changed")[0]["body"]


def test_a_wrong_current_password_counts_toward_the_lockout(app, client, services, ada):
    response = _change(client, ada, current="not my password")
    assert response.status_code == 400
    assert "Your current password is wrong." in response.get_data(as_text=True)
    assert services.lockout.failures(services.accounts.user(ada.id)) == 1
    [failed] = events(services, "account:password:change_failed")
    assert failed["user_id"] == ada.id and failed["details"] == {"reason": "current_password"}
    assert events(services, "account:password:changed") == [] and mails(services, ada.email) == []
    assert _signs_in(app, ada.email, ada.password)  # unchanged (and the success forgets the failure)


def test_wrong_current_passwords_lock_the_password_like_sign_in(client, services, ada):
    services.users.set_lockout_threshold(ada.id, 3, services.clock.now())
    for _ in range(3):
        assert _change(client, ada, current="guess").status_code == 400
    assert services.accounts.user(ada.id).locked_at is not None
    assert len(mails(services, ada.email, "locked")) == 1
    response = _change(client, ada)  # even the right one now: the password is locked
    assert response.status_code == 400 and "Your password is locked" in response.get_data(as_text=True)
    assert events(services, "account:password:changed") == []


@pytest.mark.parametrize("settings_overrides", [{"ratelimit": {"signin_per_account_ip": 2}}])
def test_wrong_current_passwords_are_rate_limited(client, services, ada):
    for _ in range(2):
        assert _change(client, ada, current="guess").status_code == 400
    response = _change(client, ada, current="guess")
    assert response.status_code == 429 and "Retry-After" in response.headers
    assert services.lockout.failures(services.accounts.user(ada.id)) == 2  # the refused one was not tried


@pytest.mark.parametrize(("values", "field", "message"), [
    ({"current": ""}, "current_password", "Enter your current password."),
    ({"new": ""}, "new_password", "Choose a new password."),
    ({"confirm": ""}, "confirm", "Type the new password a second time."),
    ({"new": "short", "confirm": "short"}, "new_password", "The password needs at least 8 characters."),
    ({"new": "correct horse battery"}, "new_password", "The new password must differ from the current one."),
    ({"new": "password123"}, "new_password", "This password is too common"),
    ({"new": "Sunshine2024!"}, "new_password", "This password is too common"),
    ({"confirm": "a fresh long passphrasf"}, "confirm", "The two new passwords differ."),
    ({"new": "x" * 2000}, "new_password", "This password is too long."),
    ({"current": "y" * 5000}, "current_password", "This password is too long."),
])
def test_each_rule_refuses_with_its_reason_and_costs_no_attempt(app, client, services, ada, values, field, message):
    response = _change(client, ada, **values)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html and f'id="{field}-error"' in html
    assert services.lockout.failures(services.accounts.user(ada.id)) == 0
    assert events(services, "account:password:changed") == [] and mails(services, ada.email) == []
    assert _signs_in(app, ada.email, ada.password)


def test_the_reasons_are_in_french(client, ada):
    page = client.get(PATH + "?lang=fr")
    assert "Changer votre mot de passe" in page.get_data(as_text=True)
    response = post(client, PATH, {"current_password": ada.password, "new_password": "password123",
                                   "confirm": "password123"}, page=PATH + "?lang=fr")
    assert "Ce mot de passe est trop courant" in response.get_data(as_text=True)


@pytest.mark.parametrize("token", [None, "not-the-token"])
def test_the_form_needs_its_csrf_token(app, client, services, ada, token):
    data = {"current_password": ada.password, "new_password": NEW, "confirm": NEW, "sign_out_others": "y"}
    if token:
        data["csrf_token"] = token
    response = client.post(PATH, data=data)
    assert response.status_code == 400
    assert "This form has expired" in response.get_data(as_text=True)
    assert events(services, "account:password:changed") == []
    assert _signs_in(app, ada.email, ada.password)


def test_signed_out_the_page_asks_to_sign_in(client, auth):
    response = client.get(PATH)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    token = auth.start()  # a valid form token, but nobody signed in
    assert client.post(PATH, data={"csrf_token": token}).status_code == 302


# -- accounts without a password ------------------------------------------------------------


def _directory(services, domain: str, *, password_allowed: bool) -> None:
    org = services.accounts.create_org("acme", "Acme")
    services.get(FEDERATION).save_connection(org, ConnectionInput(
        kind="entra", name="Acme Entra ID", client_id="acme-app", domains=domain,
        tenant_id="7a3b2c1d-0e9f-4a8b-9c7d-6e5f4a3b2c1d", client_secret="acme-secret",
        password_allowed=password_allowed,
    ))


def test_an_sso_only_account_of_an_sso_only_domain_is_told_why_it_has_no_password(client, services):
    _directory(services, "acme.example", password_allowed=False)
    user = services.accounts.create_user("carol@acme.example", None)
    signed_in_without_password(services, client, user.id)
    page = client.get(PATH)
    assert page.status_code == 200
    assert "Your organisation requires single sign-on for your address" in page.get_data(as_text=True)
    assert "requiert" in client.get(PATH + "?lang=fr").get_data(as_text=True)
    with pytest.raises(ValidationError, match="single sign-on"):
        services.account_passwords.set_first(user, new=NEW, confirm=NEW, ctx=None)
    assert services.accounts.user(user.id).password_hash is None


def test_an_account_without_a_password_may_set_one_after_a_recent_sign_in(app, client, services, clock):
    _directory(services, "acme.example", password_allowed=True)
    user = services.accounts.create_user("dan@acme.example", None, display_name="Dan")
    signed_in_without_password(services, client, user.id)
    clock.advance(seconds=services.settings.security.recent_auth_max_age + 1)
    stale = client.get(PATH)
    assert stale.status_code == 302 and stale.headers["Location"].startswith("/reauth")
    clock.advance(seconds=-(services.settings.security.recent_auth_max_age + 1))
    page = client.get(PATH).get_data(as_text=True)
    assert "Set a password" in page and 'name="current_password"' not in page
    refused = post(client, PATH, {"new_password": "password123", "confirm": "password123"})
    assert refused.status_code == 400 and "This password is too common" in refused.get_data(as_text=True)
    response = post(client, PATH, {"new_password": NEW, "confirm": NEW})
    assert response.status_code == 302
    assert _signs_in(app, user.email, NEW)
    [changed] = events(services, "account:password:changed")
    assert changed["details"] == {"by": "owner", "how": "set", "other_sessions_ended": 0}
    [mail] = mails(services, user.email, "A password was set")
    assert "A password was set on your account." in mail["body"]
