"""Changing the login e-mail: after re-authentication, a link mailed to the new address confirms it
(signed in, by a button, once, before it expires); the old address is told; nobody learns which
addresses have accounts; an address a directory manages is not changed here."""

from __future__ import annotations

import re
from typing import Any

import pytest

from idp.errors import ValidationError
from idp.model import RequestContext
from tests.conftest import AuthActions
from tests.conftest import csrf_of
from tests.conftest import events
from tests.conftest import outbox

NEW = "ada.lovelace@example.org"


@pytest.fixture
def person(client, auth, make_user):
    person = make_user(email="ada@example.com", display_name="Ada", locale="en")
    auth.sign_in(person.email, person.password)
    return person


def ask(client, email=NEW):
    token = csrf_of(client.get("/profile/email").get_data(as_text=True))
    return client.post("/profile/email", data={"csrf_token": token, "email": email})


def link_in(services, to=NEW) -> str:
    [mail] = [m for m in outbox(services) if m["to"] == to and "Confirm your new e-mail" in m["subject"]]
    match = re.search(r"https?://[^/\s]+(/profile/email/confirm/\S+)", mail["body"])
    assert match, mail["body"]
    return match.group(1)


def use(client, path):
    token = csrf_of(client.get(path).get_data(as_text=True))
    return client.post(path, data={"csrf_token": token})


class Directory:
    """An organisation that requires single sign-on for a domain (what idp.federation answers)."""

    name = "directory"

    def __init__(self, domain: str) -> None:
        self.domain = domain

    def check(self, login: str) -> dict[str, Any] | None:
        return {"org": 1} if login.lower().endswith("@" + self.domain) else None

    def refuse(self, login: str, note: dict[str, Any], ctx: RequestContext) -> ValidationError:
        return ValidationError("sign in with your organisation")


def test_the_page_needs_a_recent_sign_in(client, services, person, clock):
    token = csrf_of(client.get("/profile/email").get_data(as_text=True))
    clock.advance(seconds=services.settings.security.recent_auth_max_age + 1)
    for answer in (client.get("/profile/email"), client.post("/profile/email", data={"csrf_token": token,
                                                                                     "email": NEW})):
        assert answer.status_code == 302 and answer.headers["Location"].startswith("/reauth")
    assert not outbox(services)


def test_a_new_address_is_confirmed_by_its_link_and_the_old_one_is_told(client, services, person, auth):
    response = ask(client, "  Ada.Lovelace@Example.ORG ")
    assert response.status_code == 302 and response.headers["Location"] == "/profile"
    assert "We sent a link to Ada.Lovelace@example.org" in client.get("/profile").get_data(as_text=True)
    assert services.users.get(person.id).email == "ada@example.com"  # not before the link
    path = link_in(services, "Ada.Lovelace@example.org")

    page = client.get(path)
    assert page.status_code == 200
    assert "you will sign in with Ada.Lovelace@example.org instead of ada@example.com" in page.get_data(as_text=True)
    assert services.users.get(person.id).email == "ada@example.com"  # a GET changes nothing
    assert services.users.get(person.id).email_verified_at is None  # an operator set the first address
    done = use(client, path)
    assert done.status_code == 302 and done.headers["Location"] == "/profile"
    changed = services.users.get(person.id)
    assert changed.email == "Ada.Lovelace@example.org" and changed.email_verified_at == services.clock.now()
    [told] = [m for m in outbox(services) if m["to"] == "ada@example.com"]
    assert "login e-mail was changed" in told["subject"] and "Ada.Lovelace@example.org" in told["body"]
    assert "/security/compromised" in told["body"]
    assert len(events(services, "account:email:changed")) == 1
    # Once: the address changed, so the link (and any other sent before) is dead.
    again = client.get(path)
    assert again.status_code == 400 and "already used" in again.get_data(as_text=True)
    # Signing in takes the new address (any case), not the old one.
    auth.logout()
    assert auth.sign_in("ada.lovelace@EXAMPLE.org", person.password).headers["Location"] == "/"


def test_an_address_another_account_has_gets_the_same_page_and_no_link(client, services, person, make_user):
    make_user(email="Bob@Example.org", locale="fr")
    response = ask(client, "bob@example.org")
    assert response.status_code == 302
    assert "We sent a link to bob@example.org" in client.get("/profile").get_data(as_text=True)
    [mail] = [m for m in outbox(services) if m["to"] == "bob@example.org"]
    assert "Confirm" not in mail["subject"] and "/profile/email/confirm/" not in mail["body"]
    assert "Quelqu'un" in mail["body"]  # in its owner's language


def test_an_address_taken_between_the_link_and_its_use_is_refused(client, services, person, make_user):
    ask(client)
    path = link_in(services)
    make_user(email=NEW.upper())
    answer = use(client, path)
    assert answer.status_code == 400 and "Another account uses this address now" in answer.get_data(as_text=True)
    assert services.users.get(person.id).email == "ada@example.com"


@pytest.mark.parametrize(("email", "message"), [
    ("", "Enter"),
    ("not an address", "e-mail"),
    ("ada@example.com", "This is already your e-mail address."),
    ("ADA@example.COM", "This is already your e-mail address."),
    ("a" * 400 + "@example.org", "e-mail"),
])
def test_bad_addresses_get_a_message_and_send_nothing(client, services, person, email, message):
    response = ask(client, email)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert not [m for m in outbox(services) if "/profile/email/confirm/" in m["body"]]


def test_the_forms_refuse_a_missing_or_wrong_csrf_token(client, services, person):
    for token in ({}, {"csrf_token": "forged"}):
        assert client.post("/profile/email", data={"email": NEW, **token}).status_code == 400
    ask(client)
    path = link_in(services)
    for token in ({}, {"csrf_token": "forged"}):
        assert client.post(path, data=token).status_code == 400
    assert services.users.get(person.id).email == "ada@example.com"


@pytest.mark.parametrize("settings_overrides", [{"security": {"email_change_link_ttl": 300}}])
def test_a_link_expires(client, services, person, clock):
    ask(client)
    path = link_in(services)
    clock.advance(seconds=services.settings.security.email_change_link_ttl + 1)
    answer = client.get(path)
    assert answer.status_code == 400 and "has expired" in answer.get_data(as_text=True)
    token = csrf_of(client.get("/profile").get_data(as_text=True))
    assert client.post(path, data={"csrf_token": token}).status_code == 400
    assert services.users.get(person.id).email == "ada@example.com"


@pytest.mark.parametrize("mangle", [lambda p: p[:-3] + "abc", lambda p: p + "x" * 700,
                                    lambda p: "/profile/email/confirm/not-a-token"])
def test_an_altered_link_is_not_valid(client, services, person, mangle):
    ask(client)
    answer = client.get(mangle(link_in(services)))
    assert answer.status_code in (400, 404)
    assert services.users.get(person.id).email == "ada@example.com"


def test_a_link_works_only_for_its_own_account(client, app, services, person, make_user):
    ask(client)
    path = link_in(services)
    eve = make_user(email="eve@example.com")
    other = app.test_client()
    AuthActions(other).sign_in(eve.email, eve.password)
    answer = other.get(path)
    assert answer.status_code == 400 and "not valid" in answer.get_data(as_text=True)
    token = csrf_of(other.get("/profile").get_data(as_text=True))
    assert other.post(path, data={"csrf_token": token}).status_code == 400
    assert services.users.get(eve.id).email == "eve@example.com"
    assert services.users.get(person.id).email == "ada@example.com"
    # Signed out, the link asks for a sign-in first.
    signed_out = app.test_client().get(path)
    assert signed_out.status_code == 302 and signed_out.headers["Location"].startswith("/login")


def test_an_address_a_directory_manages_is_changed_there(client, services, make_user, auth):
    services.signin.password_policies.append(Directory("acme.example"))
    carol = make_user(email="carol@acme.example")
    services.signin.password_policies.pop()
    auth.sign_in(carol.email, carol.password)
    services.signin.password_policies.append(Directory("acme.example"))
    page = client.get("/profile/email").get_data(as_text=True)
    assert "directory manages your e-mail address" in page and 'name="email"' not in page
    refused = client.post("/profile/email", data={"csrf_token": csrf_of(client.get("/profile").get_data(as_text=True)),
                                                   "email": NEW})
    assert refused.status_code == 400
    assert services.users.get(carol.id).email == "carol@acme.example"


def test_an_address_at_a_directorys_domain_cannot_be_taken_here(client, services, person):
    services.signin.password_policies.append(Directory("acme.example"))
    response = ask(client, "ada@acme.example")
    assert response.status_code == 400 and "belong to an organisation" in response.get_data(as_text=True)
