"""Unlocking (the e-mailed link, with a new password, or an administrator) also lifts the sign-in
limit that failures from one address put on the account: its owner signs in at once."""

from __future__ import annotations

import re

from idp.model import Role
from tests.conftest import AuthActions
from tests.conftest import csrf_of
from tests.security.conftest import post_form

OFFICE = "203.0.113.10"
PER_ACCOUNT_IP = 20  # ratelimit.signin_per_account_ip
LINK = re.compile(r"http://localhost:5000(/unlock/\S+)")


def _browser(app) -> AuthActions:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = OFFICE
    return AuthActions(client)


def _blocked_at_the_office(app, person) -> AuthActions:
    office = _browser(app)
    office.identify(person.email)
    answers = [office.password("wrong password").status_code for _ in range(PER_ACCOUNT_IP)]
    assert answers == [401] * PER_ACCOUNT_IP  # locked on the way (threshold 10), answered the same
    assert office.password(person.password).status_code == 429
    return office


def test_the_unlock_link_with_a_new_password_lets_the_owner_sign_in_at_once(app, services, make_user, mailbox):
    person = make_user()
    _blocked_at_the_office(app, person)
    assert services.accounts.user(person.id).locked_at is not None
    [locked] = [m for m in mailbox.to(person.email) if "locked" in m["Subject"]]
    path = LINK.search(locked.get_content()).group(1)
    owner = _browser(app)
    page = owner.client.get(path)
    response = owner.client.post(path, data={"csrf_token": csrf_of(page.get_data(as_text=True)),
                                             "new_password": "a fresh long phrase", "confirm": "a fresh long phrase"})
    assert response.status_code == 200 and "Your account is unlocked" in response.get_data(as_text=True)
    assert _browser(app).sign_in(person.email, "a fresh long phrase").status_code == 302


def test_an_administrator_unlocking_a_member_lifts_it_too(app, client, auth, services, make_user):
    org = services.accounts.create_org("acme", "Acme")
    admin, member = make_user(), make_user()
    services.accounts.add_member(org, services.accounts.user(admin.id), Role.ADMIN)
    services.accounts.add_member(org, services.accounts.user(member.id), Role.COLLABORATOR)
    _blocked_at_the_office(app, member)
    auth.sign_in(admin.email, admin.password)
    response = post_form(client, f"/orgs/acme/members/{member.id}/unlock", form_page="/orgs/acme/members/locks")
    assert response.status_code == 302
    assert _browser(app).sign_in(member.email, member.password).status_code == 302
