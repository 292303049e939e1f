"""Forgot your password: the same answer for every address, a single-use expiring link bound to
the password it replaces, every session ended and the lock lifted, the second factor still asked."""

from __future__ import annotations

import pytest

from idp.account.reset import ResetLinkError
from idp.federation import FEDERATION
from idp.federation.connections import ConnectionInput
from idp.model import RequestContext
from tests.account.conftest import NEW
from tests.account.conftest import mails
from tests.account.conftest import post
from tests.account.conftest import reset_path
from tests.conftest import AuthActions
from tests.conftest import events
from tests.conftest import outbox
from tests.mfa.conftest import Enrol
from tests.standing import put_in

FORGOT = "/login/forgot"
CTX = RequestContext(ip="203.0.113.9", user_agent="")


def _ask(client, login: str):
    return post(client, FORGOT, {"login": login})


def _reset(client, path: str, new: str = NEW, confirm: str | None = None):
    return post(client, path, {"new_password": new, "confirm": new if confirm is None else confirm})


def _signs_in(app, email, password) -> bool:
    return AuthActions(app.test_client()).sign_in(email, password).status_code == 302


def test_both_sign_in_steps_link_to_it(client, auth):
    assert f'href="{FORGOT}"' in client.get("/login").get_data(as_text=True)
    auth.identify("ada@example.com")
    assert f'href="{FORGOT}?login=ada@example.com"' in client.get("/login/password").get_data(as_text=True)
    assert 'value="ada@example.com"' in client.get(FORGOT + "?login=ada%40example.com").get_data(as_text=True)


def test_a_reset_sets_the_password_ends_every_session_and_signs_nobody_in(app, client, services, make_user):
    person = make_user(display_name="Ada")
    browser = app.test_client()
    AuthActions(browser).sign_in(person.email, person.password)
    response = _ask(client, person.email)
    assert response.status_code == 302 and response.headers["Location"] == "/login/forgot/sent"
    sent = client.get("/login/forgot/sent").get_data(as_text=True)
    assert "If an account uses this address" in sent and "60 minutes" in sent
    [mail] = mails(services, person.email, "Reset your")
    assert "It works once, for 60 minutes" in mail["body"]
    [asked] = events(services, "account:password:reset_requested")
    assert asked["user_id"] == person.id and asked["details"] == {"sent": "link"}

    path = reset_path(services, person.email)
    page = client.get(path)
    assert page.status_code == 200 and person.email in page.get_data(as_text=True)
    assert _signs_in(app, person.email, person.password)  # opening the link changed nothing
    response = _reset(client, path)
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?login_hint=" + person.email
    assert services.settings.session_cookie not in response.headers.get("Set-Cookie", "")  # nobody signed in
    assert browser.get("/").status_code == 302  # every session ended
    assert _signs_in(app, person.email, NEW) and not _signs_in(app, person.email, person.password)
    [done] = events(services, "account:password:reset")
    assert done["user_id"] == person.id and done["details"]["sessions_ended"] >= 1
    assert done["details"]["unlocked"] is False
    [confirmation] = mails(services, person.email, "password was reset")
    assert "Hello Ada," in confirmation["body"] and "http://localhost:5000/login/forgot" in confirmation["body"]


def test_an_unknown_address_gets_the_same_page_and_no_mail(client, services, make_user):
    person = make_user()
    known = _ask(client, person.email)
    before = len(outbox(services))
    unknown = _ask(client, "nobody-here@example.com")
    assert (unknown.status_code, unknown.headers["Location"]) == (known.status_code, known.headers["Location"])
    assert len(outbox(services)) == before
    [_known, asked] = events(services, "account:password:reset_requested")
    assert asked["user_id"] is None and asked["details"]["sent"] == "none"
    assert "nobody-here" not in str(asked["details"])  # only a digest of the address is kept


@pytest.mark.parametrize("standing", ["disabled", "deleted"])
def test_a_disabled_or_deleted_account_gets_the_same_page_and_no_mail(client, services, make_user, standing):
    person = make_user()
    put_in(services, person.id, standing)
    response = _ask(client, person.email)
    assert response.status_code == 302 and response.headers["Location"] == "/login/forgot/sent"
    assert mails(services, person.email) == []


def test_a_disabled_accounts_earlier_link_stops_working(client, services, make_user):
    person = make_user()
    _ask(client, person.email)
    path = reset_path(services, person.email)
    put_in(services, person.id, "disabled")
    response = client.get(path)
    assert response.status_code == 400 and "not valid" in response.get_data(as_text=True)
    assert len(events(services, "account:password:reset_link_refused")) == 0  # opening records nothing
    assert services.accounts.user(person.id).password_hash is not None


def test_the_link_works_once(app, client, services, make_user):
    person = make_user()
    _ask(client, person.email)
    path = reset_path(services, person.email)
    assert _reset(client, path).status_code == 302
    again = client.get(path)
    assert again.status_code == 400 and "already been used" in again.get_data(as_text=True)
    with pytest.raises(ResetLinkError, match="already been used"):
        services.password_reset.reset(path.rsplit("/", 1)[1], new="another long phrase", confirm="another long phrase",
                                      ctx=CTX)
    assert len(events(services, "account:password:reset_link_refused")) == 1
    assert _signs_in(app, person.email, NEW)


def test_the_link_expires(client, services, make_user, clock):
    person = make_user()
    _ask(client, person.email)
    path = reset_path(services, person.email)
    clock.advance(seconds=services.settings.security.password_reset_link_ttl + 1)
    response = client.get(path)
    assert response.status_code == 400 and "has expired" in response.get_data(as_text=True)


@pytest.mark.parametrize("settings_overrides", [{"security": {"password_reset_link_ttl": 600}}])
def test_the_lifetime_is_a_setting(client, services, make_user, clock):
    person = make_user()
    _ask(client, person.email)
    assert "for 10 minutes" in mails(services, person.email, "Reset your")[0]["body"]
    path = reset_path(services, person.email)
    clock.advance(seconds=599)
    assert client.get(path).status_code == 200
    clock.advance(seconds=2)
    assert client.get(path).status_code == 400


def test_a_change_of_password_another_way_kills_the_link(client, services, make_user):
    person = make_user()
    _ask(client, person.email)
    path = reset_path(services, person.email)
    services.accounts.set_password(services.accounts.user(person.id), "changed by the owner", actor_id=person.id)
    response = client.get(path)
    assert response.status_code == 400 and "your password was changed since" in response.get_data(as_text=True)


def test_a_newer_link_does_not_revive_after_its_sibling_was_used(client, services, make_user, clock):
    person = make_user()
    _ask(client, person.email)
    first = reset_path(services, person.email)
    clock.advance(seconds=60)
    _ask(client, person.email)
    second = reset_path(services, person.email)
    assert first != second
    assert _reset(client, second).status_code == 302
    assert client.get(first).status_code == 400  # every link sent before the change dies with it


@pytest.mark.parametrize("forged", [
    "garbage", "1", "1.", "1.abc.def", "99999.abc.def", "1." + "A" * 400, "x.y.z",
])
def test_a_forged_link_is_not_valid(client, services, make_user, forged):
    make_user()
    response = client.get("/login/reset/" + forged)
    assert response.status_code == 400 and "not valid" in response.get_data(as_text=True)
    assert events(services, "account:password:reset_link_refused") == []


def test_a_link_for_one_account_does_not_work_for_another(client, services, make_user):
    ada, bob = make_user(), make_user()
    _ask(client, ada.email)
    path = reset_path(services, ada.email)
    _uid, signed = path.removeprefix("/login/reset/").split(".", 1)
    response = client.get(f"/login/reset/{bob.id}.{signed}")
    assert response.status_code == 400 and "not valid" in response.get_data(as_text=True)


@pytest.mark.parametrize(("values", "message"), [
    ({"new": ""}, "Choose a new password."),
    ({"new": "short", "confirm": "short"}, "The password needs at least 8 characters."),
    ({"new": "password123"}, "This password is too common"),
    ({"confirm": "something else entirely"}, "The two new passwords differ."),
    ({"confirm": ""}, "Type the new password a second time."),
    ({"new": "z" * 3000}, "This password is too long."),
])
def test_the_new_password_follows_the_same_rules(app, client, services, make_user, values, message):
    person = make_user()
    _ask(client, person.email)
    path = reset_path(services, person.email)
    response = _reset(client, path, **values)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert _signs_in(app, person.email, person.password)
    assert client.get(path).status_code == 200  # still usable: nothing was changed


@pytest.mark.parametrize("token", [None, "forged-token"])
def test_the_forms_need_their_csrf_token(app, client, services, make_user, token):
    person = make_user()
    extra = {"csrf_token": token} if token else {}
    response = client.post(FORGOT, data={"login": person.email, **extra})
    assert response.status_code == 400 and mails(services, person.email) == []
    _ask(client, person.email)
    path = reset_path(services, person.email)
    response = client.post(path, data={"new_password": NEW, "confirm": NEW, **extra})
    assert response.status_code == 400
    assert _signs_in(app, person.email, person.password)


@pytest.mark.parametrize(("login", "message"), [
    ("", "Enter your e-mail address."),
    ("not-an-email", "Enter a valid e-mail address."),
    ("x" * 400 + "@example.com", "This e-mail address is too long."),
])
def test_bad_addresses_are_refused_with_a_reason(client, services, login, message):
    response = _ask(client, login)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert outbox(services) == []


def test_requests_are_limited_per_address_whether_or_not_it_has_an_account(client, services, make_user):
    person = make_user()
    limit = services.password_reset.limits.per_address
    for login in (person.email, "nobody@example.com"):
        for _ in range(limit):
            assert _ask(client, login).status_code == 302
        refused = _ask(client, login)
        assert refused.status_code == 429 and "Retry-After" in refused.headers
    assert len(mails(services, person.email, "Reset your")) == limit


def test_requests_are_limited_per_ip(client, services):
    limit = services.password_reset.limits.per_ip
    for n in range(limit):
        assert _ask(client, f"someone-{n}@example.com").status_code == 302
    assert _ask(client, "one-more@example.com").status_code == 429


def test_a_reset_lifts_the_lock(app, client, services, make_user):
    person = make_user()
    services.users.set_lockout_threshold(person.id, 3, services.clock.now())
    user = services.accounts.user(person.id)
    for _ in range(3):
        services.lockout.register_failure(user, user.email, CTX)
    assert services.accounts.user(person.id).locked_at is not None
    _ask(client, person.email)  # a locked account gets the link
    assert _reset(client, reset_path(services, person.email)).status_code == 302
    assert services.accounts.user(person.id).locked_at is None
    assert services.lockout.failures(services.accounts.user(person.id)) == 0
    [unlocked] = events(services, "account:lockout:unlocked")
    assert unlocked["details"] == {"how": "reset"}
    assert events(services, "account:password:reset")[0]["details"]["unlocked"] is True
    assert _signs_in(app, person.email, NEW)


def test_the_second_factor_is_still_asked_after_a_reset(app, client, services, make_user, clock):
    person = make_user()
    Enrol(services, clock).totp(person)
    _ask(client, person.email)
    assert _reset(client, reset_path(services, person.email)).status_code == 302
    response = AuthActions(app.test_client()).sign_in(person.email, NEW)
    assert response.status_code == 302 and response.headers["Location"] == "/login/totp"


def _sso_only_domain(services, domain: str) -> None:
    org = services.accounts.create_org("acme", "Acme")
    services.get(FEDERATION).save_connection(org, ConnectionInput(
        kind="entra", name="Acme Entra ID", client_id="acme-app", domains=domain,
        tenant_id="7a3b2c1d-0e9f-4a8b-9c7d-6e5f4a3b2c1d", client_secret="acme-secret", password_allowed=False,
    ))


def test_an_address_whose_organisation_requires_sso_is_told_to_sign_in_there(client, services):
    _sso_only_domain(services, "acme.example")
    user = services.accounts.create_user("carol@acme.example", None)
    response = _ask(client, user.email)
    assert response.status_code == 302 and response.headers["Location"] == "/login/forgot/sent"
    [mail] = mails(services, user.email)
    assert "Reset" not in mail["subject"] and "/login/reset/" not in mail["body"]
    assert "Your organisation requires single sign-on for your address" in mail["body"]
    assert "http://localhost:5000/login" in mail["body"]
    assert events(services, "account:password:reset_requested")[0]["details"] == {"sent": "sso"}
    # A link made anyway is refused: the organisation's directory is the only way in.
    token = services.password_reset.token_for(services.accounts.user(user.id))
    assert client.get("/login/reset/" + token).status_code == 400


def test_an_account_without_a_password_of_an_open_domain_may_set_one(app, client, services):
    user = services.accounts.create_user("dan@elsewhere.example", None)
    _ask(client, user.email)
    assert _reset(client, reset_path(services, user.email)).status_code == 302
    assert _signs_in(app, user.email, NEW)
    assert events(services, "account:password:reset")[0]["details"]["first"] is True


def test_the_pages_and_mails_are_in_french(client, services, make_user):
    person = make_user(locale="fr")
    assert "Mot de passe oublié" in client.get(FORGOT + "?lang=fr").get_data(as_text=True)
    _ask(client, person.email)
    [mail] = mails(services, person.email)
    assert "Réinitialiser" in mail["subject"] and "minutes" in mail["body"]
    page = client.get(reset_path_fr(services, person.email) + "?lang=fr").get_data(as_text=True)
    assert "Choisir un nouveau mot de passe" in page


def reset_path_fr(services, email: str) -> str:
    import re

    [mail] = mails(services, email)
    match = re.search(r"http://localhost:5000(/login/reset/\S+)", mail["body"])
    assert match
    return match.group(1)


def test_every_request_takes_at_least_the_floor_whether_or_not_the_address_has_an_account(client, services, make_user):
    import time

    person = make_user()
    floor = services.password_reset.limits.floor
    for login in (person.email, "nobody@example.com", "not-an-email"):
        started = time.monotonic()
        _ask(client, login)
        assert time.monotonic() - started >= floor
