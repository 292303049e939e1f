"""Signing up: a pending account and its activation link; the same page and the same work for an
address that has an account; nothing signs in before the link and the password activate it."""

from __future__ import annotations

import re

import pytest

from idp.federation import FEDERATION
from idp.federation.connections import ConnectionInput
from idp.model import RequestContext
from idp.model import UserStatus
from tests.account.conftest import mails
from tests.account.conftest import post
from tests.conftest import AuthActions
from tests.conftest import csrf_of
from tests.conftest import events
from tests.conftest import outbox
from tests.standing import put_in

SIGNUP = "/signup"
PASSWORD = "a long sign-up passphrase"
LINK = re.compile(r"http://localhost:5000(/signup/verify/\S+)")
CTX = RequestContext(ip="203.0.113.7", user_agent="")


def _sign_up(client, email="new@example.com", *, given="Grace", family="Hopper", password=PASSWORD,
             confirm=None, **extra):
    data = {"email": email, "given_name": given, "family_name": family, "new_password": password,
            "confirm": password if confirm is None else confirm, **extra}
    return post(client, SIGNUP, data)


def _link(services, email: str) -> str:
    found = mails(services, email, "Activate your")
    assert found, "no activation mail"
    match = LINK.search(found[-1]["body"])
    assert match, "the mail carries no link"
    return match.group(1)


def _activate(client, path: str, password: str = PASSWORD):
    return post(client, path, {"password": password})


def _signs_in(app, email: str, password: str = PASSWORD):
    return AuthActions(app.test_client()).sign_in(email, password)


def test_a_new_address_gets_a_pending_account_and_its_link(client, services):
    response = _sign_up(client)
    assert response.status_code == 302 and response.headers["Location"] == "/signup/sent"
    sent = client.get("/signup/sent").get_data(as_text=True)
    assert "Check your e-mail" in sent and "24 hours" in sent
    user = services.users.by_email("new@example.com")
    assert user is not None and user.status is UserStatus.PENDING
    assert (user.given_name, user.family_name, user.display_name) == ("Grace", "Hopper", "Grace Hopper")
    [mail] = mails(services, "new@example.com")
    assert "Activate your" in mail["subject"] and "Hello Grace Hopper," in mail["body"]
    assert "for 24 hours" in mail["body"] and "/signup/verify/" in mail["body"]
    [signed_up] = events(services, "account:user:signed_up")
    assert signed_up["user_id"] == user.id
    assert signed_up["details"] == {"how": "signup", "outcome": "pending"}


def test_a_pending_account_cannot_sign_in_and_gets_the_answer_of_a_wrong_password(app, client, services):
    _sign_up(client)
    refused = _signs_in(app, "new@example.com")
    assert refused.status_code == 401 and "Wrong e-mail or password." in refused.get_data(as_text=True)
    wrong = _signs_in(app, "new@example.com", "not the password at all")
    strip = re.compile(r'name="csrf_token"[^>]*>')
    assert wrong.status_code == 401
    assert strip.sub("", wrong.get_data(as_text=True)) == strip.sub("", refused.get_data(as_text=True))
    assert [e["details"]["reason"] for e in events(services, "account:signin:failed")] == ["pending", "password"]


def test_signing_in_unconfirmed_with_the_right_password_mails_the_link_again_at_most_once_per_window(
    app, client, services, clock,
):
    _sign_up(client)
    _signs_in(app, "new@example.com", "a wrong password here")  # a wrong password sends no link
    assert len(mails(services, "new@example.com", "Activate your")) == 1
    _signs_in(app, "new@example.com")
    _signs_in(app, "new@example.com")
    again = mails(services, "new@example.com", "Activate your")
    assert len(again) == 2 and "not confirmed yet" in again[1]["body"]
    clock.advance(seconds=services.signup.limits.resend_window + 1)
    _signs_in(app, "new@example.com")
    assert len(mails(services, "new@example.com", "Activate your")) == 3
    # Its own first tries are not reported to it as failed sign-ins (the default choice).
    assert not mails(services, "new@example.com", "Failed sign-in")
    assert _activate(client, _link(services, "new@example.com")).status_code == 302


def test_the_link_shows_a_button_and_only_its_post_activates_once(app, client, services):
    _sign_up(client)
    path = _link(services, "new@example.com")
    page = client.get(path)
    assert page.status_code == 200 and "new@example.com" in page.get_data(as_text=True)
    pending = services.users.by_email("new@example.com")
    assert pending.status is UserStatus.PENDING and pending.email_verified_at is None  # GET changed nothing
    response = _activate(client, path)
    assert response.status_code == 302 and response.headers["Location"] == "/login?login_hint=new@example.com"
    assert services.settings.session_cookie not in response.headers.get("Set-Cookie", "")  # nobody signed in
    user = services.users.by_email("new@example.com")
    assert user.status is UserStatus.ACTIVE and user.email_verified_at == services.clock.now()  # the link proved it
    [verified] = events(services, "account:user:verified")
    assert verified["user_id"] == user.id
    assert _signs_in(app, "new@example.com").status_code == 302
    replay = client.get(path)
    assert replay.status_code == 400 and "already used" in replay.get_data(as_text=True)
    again = client.post(path, data={"csrf_token": csrf_of(client.get(SIGNUP).get_data(as_text=True)),
                                    "password": PASSWORD})
    assert again.status_code == 400 and "already used" in again.get_data(as_text=True)
    assert len(events(services, "account:user:verified")) == 1


def test_activating_needs_the_password_chosen_at_sign_up(client, services):
    _sign_up(client)
    path = _link(services, "new@example.com")
    for password, message in (("someone else's guess", "not the password chosen"), ("", "Enter your password.")):
        response = _activate(client, path, password)
        assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert services.users.by_email("new@example.com").status is UserStatus.PENDING
    assert client.get(path).status_code == 200  # still usable by its owner


def test_an_expired_link_is_refused(client, services, clock):
    _sign_up(client)
    path = _link(services, "new@example.com")
    clock.advance(seconds=services.settings.signup.link_ttl + 1)
    response = client.get(path)
    assert response.status_code == 400 and "has expired" in response.get_data(as_text=True)
    assert _activate_refused(client, path)


def _activate_refused(client, path: str) -> bool:
    token = csrf_of(client.get(SIGNUP).get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, "password": PASSWORD}).status_code == 400


@pytest.mark.parametrize("alter", [
    lambda p: p[:-2] + ("AA" if not p.endswith("AA") else "BB"),
    lambda p: "/signup/verify/" + "9" + p.removeprefix("/signup/verify/"),
    lambda p: "/signup/verify/garbage",
    lambda p: "/signup/verify/1." + "A" * 400,
])
def test_an_altered_or_forged_link_is_not_valid(client, services, alter):
    _sign_up(client)
    response = client.get(alter(_link(services, "new@example.com")))
    assert response.status_code == 400 and "not valid" in response.get_data(as_text=True)
    assert services.users.by_email("new@example.com").status is UserStatus.PENDING


@pytest.mark.parametrize("typed", ["ada@example.com", "ADA@Example.COM"])
def test_an_existing_address_gets_the_same_page_and_a_mail_saying_so(client, services, make_user, typed):
    person = make_user("ada@example.com")
    fresh = _sign_up(client, "fresh@example.com")
    response = _sign_up(client, typed)
    assert (response.status_code, response.headers["Location"]) == (fresh.status_code, fresh.headers["Location"])
    [mail] = mails(services, person.email)
    assert "already have" in mail["subject"]
    assert "http://localhost:5000/login\n" in mail["body"] and "http://localhost:5000/login/forgot" in mail["body"]
    assert "/signup/verify/" not in mail["body"]
    assert services.users.count() == 2  # ada and fresh@: no second account
    assert services.accounts.user(person.id).status is UserStatus.ACTIVE
    assert _signs_in(client.application, person.email, person.password).status_code == 302
    [_fresh, tried] = events(services, "account:user:signed_up")
    assert tried["user_id"] is None and tried["details"]["outcome"] == "exists"
    assert "ada" not in str(tried["details"])


def test_a_disabled_address_gets_the_same_page_and_no_mail(client, services, make_user):
    person = make_user()
    put_in(services, person.id, "disabled")
    response = _sign_up(client, person.email)
    assert response.status_code == 302 and response.headers["Location"] == "/signup/sent"
    assert mails(services, person.email) == []
    assert services.accounts.user(person.id).status is UserStatus.DISABLED


def test_a_new_sign_up_for_a_pending_address_replaces_it_and_ends_the_earlier_link(app, client, services):
    _sign_up(client, password="the first person's passphrase")
    first = _link(services, "new@example.com")
    _sign_up(client, given="Ada", family="", password=PASSWORD)
    second = _link(services, "new@example.com")
    assert first != second and services.users.count() == 1
    assert client.get(first).status_code == 400
    user = services.users.by_email("new@example.com")
    assert (user.display_name, user.status) == ("Ada", UserStatus.PENDING)
    assert _activate(client, second).status_code == 302
    assert _signs_in(app, "new@example.com").status_code == 302
    assert [e["details"]["outcome"] for e in events(services, "account:user:signed_up")] == ["pending", "replaced"]


def _sso_only_domain(services, domain: str) -> None:
    org = services.accounts.create_org("acme", "Acme")
    services.get(FEDERATION).save_connection(org, ConnectionInput(
        kind="entra", name="Acme Entra ID", client_id="acme-app", domains=domain,
        tenant_id="7a3b2c1d-0e9f-4a8b-9c7d-6e5f4a3b2c1d", client_secret="acme-secret", password_allowed=False,
    ))


def test_an_address_whose_organisation_requires_sso_is_told_to_sign_in_there(client, services):
    _sso_only_domain(services, "acme.example")
    response = _sign_up(client, "carol@acme.example")
    assert response.status_code == 400
    assert "Sign in with your organisation instead." in response.get_data(as_text=True)
    assert services.users.by_email("carol@acme.example") is None and outbox(services) == []


@pytest.mark.parametrize(("values", "message"), [
    ({"email": ""}, "Enter your e-mail address."),
    ({"email": "not-an-email"}, "Enter a valid e-mail address."),
    ({"email": "x" * 400 + "@example.com"}, "This e-mail address is too long."),
    ({"given": ""}, "Enter your first name."),
    ({"given": "G" * 101}, "The name is too long (100 characters at most)."),
    ({"given": "x" * 2000}, "This name is too long."),
    ({"family": "Hop\u202eper"}, "The name contains characters that cannot be shown."),
    ({"password": ""}, "Choose a new password."),
    ({"password": "short"}, "The password needs at least 8 characters."),
    ({"password": "password123"}, "This password is too common"),
    ({"password": "new@example.com"}, "The password must not be your e-mail address."),
    ({"confirm": "something else entirely"}, "The two new passwords differ."),
    ({"confirm": ""}, "Type the new password a second time."),
    ({"password": "z" * 3000}, "This password is too long."),
])
def test_bad_input_is_refused_with_its_reason(client, services, values, message):
    response = _sign_up(client, **values)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert services.users.count() == 0 and outbox(services) == []


@pytest.mark.parametrize("token", [None, "forged-token"])
def test_the_forms_need_their_csrf_token(client, services, token):
    extra = {"csrf_token": token} if token else {}
    response = client.post(SIGNUP, data={"email": "new@example.com", "given_name": "G", "new_password": PASSWORD,
                                         "confirm": PASSWORD, **extra})
    assert response.status_code == 400 and services.users.count() == 0
    _sign_up(client)
    response = client.post(_link(services, "new@example.com"), data={"password": PASSWORD, **extra})
    assert response.status_code == 400
    assert services.users.by_email("new@example.com").status is UserStatus.PENDING


def test_sign_ups_are_limited_per_address_whether_or_not_it_has_an_account(client, services, make_user):
    person = make_user()
    limit = services.signup.limits.per_address
    for email in (person.email, "nobody@example.com"):
        for _ in range(limit):
            assert _sign_up(client, email).status_code == 302
        refused = _sign_up(client, email)
        assert refused.status_code == 429 and "Retry-After" in refused.headers


@pytest.mark.parametrize("settings_overrides", [{"signup": {"per_ip": 3}}])
def test_sign_ups_are_limited_per_ip(client, services):
    for n in range(3):
        assert _sign_up(client, f"someone-{n}@example.com").status_code == 302
    assert _sign_up(client, "one-more@example.com").status_code == 429
    assert services.users.count() == 3


@pytest.mark.parametrize("settings_overrides", [{"signup": {"enabled": False}}])
def test_turned_off_the_pages_are_not_found_and_not_linked(client, services):
    assert client.get(SIGNUP).status_code == 404
    token = csrf_of(client.get("/login").get_data(as_text=True))
    assert client.post(SIGNUP, data={"csrf_token": token, "email": "new@example.com"}).status_code == 404
    assert client.get("/signup/sent").status_code == 404
    assert 'href="/signup"' not in client.get("/login").get_data(as_text=True)


def test_the_sign_in_page_links_to_it(client):
    assert 'href="/signup"' in client.get("/login").get_data(as_text=True)


def test_every_sign_up_waits_for_the_floor_whatever_the_address(client, services, make_user):
    taken, disabled = make_user(), make_user()
    put_in(services, disabled.id, "disabled")
    slept: list[float] = []
    services.signup._sleep = slept.append
    floor = services.signup.limits.floor
    for email in ("new@example.com", taken.email, disabled.email, "new@example.com", "not-an-email"):
        _sign_up(client, email)
    assert len(slept) == 5
    assert all(0 < seconds <= floor for seconds in slept)  # each waited out what was left of the floor


def test_unconfirmed_accounts_are_deleted_after_seven_link_lifetimes(client, services, make_user, clock):
    person = make_user()
    _sign_up(client)
    clock.advance(seconds=services.settings.signup.link_ttl * 7 - 60)
    _sign_up(client, "later@example.com")
    assert services.signup.prune_pending() == 0
    clock.advance(seconds=120)
    assert services.signup.prune_pending() == 1
    assert services.users.by_email("new@example.com") is None
    assert services.users.by_email("later@example.com") is not None
    assert services.accounts.user(person.id).status is UserStatus.ACTIVE


def test_the_pages_and_mails_are_in_french(client, services):
    assert "Créer un compte" in client.get(SIGNUP + "?lang=fr").get_data(as_text=True)
    assert "Créer un compte" in client.get("/login?lang=fr").get_data(as_text=True)
    _sign_up(client)
    [mail] = mails(services, "new@example.com", "Activez")
    assert "Activez" in mail["subject"] and "heures" in mail["body"]
    assert "Activer" in client.get(LINK.search(mail["body"]).group(1)).get_data(as_text=True)
