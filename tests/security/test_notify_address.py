"""The second notification address: added, confirmed by a signed single-use link (a GET that shows
a button, a POST that confirms), removable; notifications then go to both addresses."""

from __future__ import annotations

import re

import pytest

from idp.security.center import SECURITY
from idp.security.notify_address import LINK_TTL
from tests.conftest import AuthActions
from tests.conftest import csrf_of
from tests.conftest import events
from tests.conftest import outbox
from tests.security.conftest import post_form

BACKUP = "ada.backup@example.org"
LINK = re.compile(r"http://localhost:5000(/security/notifications/address/\S+)")


def _add(client, address: str = BACKUP):
    return post_form(client, "/security/notifications/address", {"address": address},
                     form_page="/security/notifications")


def _link(services, address: str = BACKUP) -> str:
    [*_, mail] = [m for m in outbox(services) if m["to"] == address]
    return LINK.search(mail["body"]).group(1)


def _confirm(client, path: str):
    page = client.get(path)
    if page.status_code != 200:
        return page
    return client.post(path, data={"csrf_token": csrf_of(page.get_data(as_text=True))})


@pytest.fixture
def person(client, auth, make_user):
    person = make_user(display_name="Ada")
    auth.sign_in(person.email, person.password)
    return person


def _state(services, person):
    return services.get(SECURITY).notify_address.state(services.users.get(person.id))


def test_adding_sends_a_link_to_the_address_and_nothing_goes_there_before_it_is_opened(
    app, client, person, services,
):
    response = _add(client)
    assert response.status_code == 302
    [mail] = [m for m in outbox(services) if m["to"] == BACKUP]
    assert mail["subject"] == "Confirm this address for your Identity notifications"
    assert "Hello Ada," in mail["body"] and "24 hours" in mail["body"]
    [added] = events(services, "account:notification_address:added")
    assert added["user_id"] == person.id and added["details"] == {"domain": "example.org"}
    html = client.get("/security/notifications").get_data(as_text=True)
    assert f"we sent a link to {BACKUP}" in html
    AuthActions(app.test_client()).sign_in(person.email, "not the password")
    assert [m["to"] for m in outbox(services) if m["subject"].startswith("Failed")] == [person.email]


def test_the_link_shows_a_button_and_only_the_post_confirms(app, client, person, services):
    _add(client)
    path = _link(services)
    page = client.get(path)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Confirm this address" in html and BACKUP in html and 'type="submit"' in html
    assert _state(services, person).confirmed is None  # the GET changed nothing
    response = client.post(path, data={"csrf_token": csrf_of(html)})
    assert response.status_code == 302 and response.headers["Location"] == "/security/notifications"
    assert _state(services, person).confirmed == BACKUP
    [confirmed] = events(services, "account:notification_address:confirmed")
    assert confirmed["user_id"] == person.id
    [told] = [m for m in outbox(services) if m["to"] == person.email]
    assert told["subject"] == "Your Identity notification addresses changed"
    assert f"From now on, {BACKUP} also receives" in told["body"]
    # Then every notification goes to both addresses, in the owner's language.
    AuthActions(app.test_client()).sign_in(person.email, "not the password")
    failed = [m for m in outbox(services) if m["subject"].startswith("Failed")]
    assert sorted(m["to"] for m in failed) == sorted([person.email, BACKUP])
    assert all("Hello Ada," in m["body"] for m in failed)


def test_the_link_works_once(client, person, services):
    _add(client)
    path = _link(services)
    assert _confirm(client, path).status_code == 302
    again = _confirm(client, path)
    assert again.status_code == 400 and "already been used" in again.get_data(as_text=True)
    assert len(events(services, "account:notification_address:confirmed")) == 1


def test_an_expired_link_is_refused(client, person, services, clock):
    _add(client)
    path = _link(services)
    clock.advance(seconds=LINK_TTL + 1)
    AuthActions(client).sign_in(person.email, person.password)  # the session's own lifetime is shorter
    response = client.get(path)
    assert response.status_code == 400 and "has expired" in response.get_data(as_text=True)
    assert _confirm(client, path).status_code == 400
    assert _state(services, person).confirmed is None


@pytest.mark.parametrize("mangle", [
    lambda p: p[:-3] + ("AAA" if not p.endswith("AAA") else "BBB"),  # the signature
    lambda p: p.rsplit("/", 1)[0] + "/not-a-token",
    lambda p: p + "x" * 400,
])
def test_a_wrong_token_is_refused(client, person, services, mangle):
    _add(client)
    response = _confirm(client, mangle(_link(services)))
    assert response.status_code in (400, 404)
    assert _state(services, person).confirmed is None


def test_replacing_the_address_kills_the_old_link(client, person, services):
    _add(client)
    first = _link(services)
    _add(client, "ada.other@example.net")
    response = _confirm(client, first)
    assert response.status_code == 400 and "a newer one replaced it" in response.get_data(as_text=True)
    assert _confirm(client, _link(services, "ada.other@example.net")).status_code == 302
    assert _state(services, person).confirmed == "ada.other@example.net"


def test_adding_the_same_address_again_kills_the_old_link(client, person, services):
    _add(client)
    first = _link(services)
    _add(client)
    assert first != _link(services)
    assert _confirm(client, first).status_code == 400
    assert _confirm(client, _link(services)).status_code == 302


def test_another_account_cannot_confirm_someones_link(app, client, person, services, make_user):
    _add(client)
    path = _link(services)
    intruder = make_user()
    other = app.test_client()
    AuthActions(other).sign_in(intruder.email, intruder.password)
    response = other.get(path)
    assert response.status_code == 400 and "for another account" in response.get_data(as_text=True)
    token = csrf_of(other.get("/security/notifications").get_data(as_text=True))
    assert other.post(path, data={"csrf_token": token}).status_code == 400
    assert _state(services, person).pending == BACKUP and _state(services, person).confirmed is None
    assert services.get(SECURITY).notify_address.state(services.users.get(intruder.id)).confirmed is None


def test_the_link_needs_a_sign_in(app, client, person, services):
    _add(client)
    response = app.test_client().get(_link(services))
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize(("address", "message"), [
    ("not-an-address", "Enter a valid e-mail address."),
    ("", "Enter an e-mail address."),
    ("a" * 5000 + "@example.com", "This address is too long."),
])
def test_bad_addresses_get_a_message(client, person, services, address, message):
    response = _add(client, address)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert events(services, "account:notification_address:added") == []


def test_the_login_address_is_refused_whatever_its_case(client, person, services):
    response = _add(client, person.email.upper())
    assert response.status_code == 400
    assert "This is the address you sign in with" in response.get_data(as_text=True)


def test_a_missing_csrf_token_is_refused(client, person, services):
    response = client.post("/security/notifications/address", data={"address": BACKUP})
    assert response.status_code == 400
    assert "This form has expired" in response.get_data(as_text=True)
    assert [m for m in outbox(services) if m["to"] == BACKUP] == []


def test_the_confirmed_address_cannot_be_added_again(client, person, services):
    _add(client)
    _confirm(client, _link(services))
    response = _add(client, BACKUP.upper())
    assert response.status_code == 400
    assert "This address already receives your notifications." in response.get_data(as_text=True)


def test_adding_needs_a_recent_sign_in(client, person, services, clock):
    clock.advance(minutes=11)
    token = csrf_of(client.get("/").get_data(as_text=True))
    response = client.post("/security/notifications/address", data={"csrf_token": token, "address": BACKUP})
    assert response.status_code == 302 and response.headers["Location"].startswith("/reauth")
    assert events(services, "account:notification_address:added") == []


def test_removing_stops_the_mail_and_tells_the_login_address(app, client, person, services):
    _add(client)
    _confirm(client, _link(services))
    response = post_form(client, "/security/notifications/address/remove", form_page="/security/notifications")
    assert response.status_code == 302
    assert _state(services, person).confirmed is None
    [removed] = events(services, "account:notification_address:removed")
    assert removed["user_id"] == person.id
    told = [m for m in outbox(services) if m["to"] == person.email]
    assert f"{BACKUP} no longer receives" in told[-1]["body"]
    AuthActions(app.test_client()).sign_in(person.email, "not the password")
    assert [m["to"] for m in outbox(services) if m["subject"].startswith("Failed")] == [person.email]


def test_a_lock_is_told_to_the_second_address_without_the_unlock_link(app, client, person, services):
    _add(client)
    _confirm(client, _link(services))
    services.users.set_lockout_threshold(person.id, 3, services.clock.now())
    for _ in range(3):
        AuthActions(app.test_client()).sign_in(person.email, "not the password")
    [notice] = [m for m in outbox(services) if m["to"] == BACKUP and "locked" in m["subject"]]
    assert "After 3 failed sign-in attempts" in notice["body"] and "/unlock/" not in notice["body"]
    [lock] = [m for m in outbox(services) if m["to"] == person.email and "locked" in m["subject"]]
    assert "/unlock/" in lock["body"]
