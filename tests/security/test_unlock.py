"""The unlock link: e-mailed with the lock, signed, single use, expiring, bound to its account."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import hmac
import json
import re

import pytest
from itsdangerous.encoding import base64_decode
from itsdangerous.encoding import base64_encode

from idp.model import RequestContext
from idp.security.center import SECURITY
from idp.security.unlock import UnlockLinkError
from tests.conftest import AuthActions
from tests.conftest import csrf_of
from tests.conftest import events

LINK = re.compile(r"http://localhost:5000(/unlock/\S+)")
CTX = RequestContext(ip="203.0.113.5", user_agent="")


def _lock(services, person) -> None:
    services.users.set_lockout_threshold(person.id, 3, services.clock.now())
    user = services.accounts.user(person.id)
    for _ in range(3):
        services.lockout.register_failure(user, user.email, CTX)
    assert services.accounts.user(person.id).locked_at is not None


def _link_from_mail(mailbox, person) -> str:
    [locked] = [m for m in mailbox.to(person.email) if "locked" in m["Subject"]]
    match = LINK.search(locked.get_content())
    assert match, "the lock mail carries no unlock link"
    return match.group(1)


def _submit(client, path: str, **data: str):
    page = client.get(path)
    assert page.status_code == 200, page.get_data(as_text=True)
    return client.post(path, data={"csrf_token": csrf_of(page.get_data(as_text=True)), **data})


def test_the_link_in_the_lock_mail_unlocks_once_with_a_new_password(app, client, services, make_user, mailbox):
    person = make_user()
    _lock(services, person)
    path = _link_from_mail(mailbox, person)
    assert services.accounts.user(person.id).locked_at is not None  # opening the link changes nothing
    response = _submit(client, path, new_password="a fresh long phrase", confirm="a fresh long phrase")
    assert response.status_code == 200 and "Your account is unlocked" in response.get_data(as_text=True)
    assert services.accounts.user(person.id).locked_at is None
    [unlocked] = events(services, "account:lockout:unlocked")
    assert unlocked["user_id"] == person.id and unlocked["actor_id"] == person.id
    assert unlocked["details"] == {"how": "link"}
    assert len(events(services, "account:password:changed")) == 1
    assert AuthActions(app.test_client()).sign_in(person.email, "a fresh long phrase").status_code == 302
    # The same link again: refused.
    again = client.get(path)
    assert again.status_code == 400 and "already been used" in again.get_data(as_text=True)


def test_confirming_the_current_password_also_unlocks(client, services, make_user, mailbox):
    person = make_user()
    _lock(services, person)
    path = _link_from_mail(mailbox, person)
    wrong = _submit(client, path, current_password="not it")
    assert wrong.status_code == 400 and "Wrong password." in wrong.get_data(as_text=True)
    assert services.accounts.user(person.id).locked_at is not None
    response = _submit(client, path, current_password=person.password)
    assert "Your account is unlocked" in response.get_data(as_text=True)
    assert services.accounts.user(person.id).locked_at is None


def test_the_link_expires(client, services, make_user, mailbox, clock):
    person = make_user()
    _lock(services, person)
    path = _link_from_mail(mailbox, person)
    clock.advance(seconds=services.settings.security.unlock_link_ttl + 1)
    response = client.get(path)
    assert response.status_code == 400 and "expired" in response.get_data(as_text=True)
    assert services.accounts.user(person.id).locked_at is not None


def _reencoded(signed: str, change) -> str:
    """The signed part with its payload changed and the signature kept."""
    body, signature = signed.split(".")
    payload = json.loads(base64_decode(body))
    return f"{base64_encode(json.dumps(change(payload))).decode()}.{signature}"


def test_a_tampered_link_is_refused(client, services, make_user, mailbox):
    person = make_user()
    _lock(services, person)
    path = _link_from_mail(mailbox, person)
    uid, signed = path.removeprefix("/unlock/").split(".", 1)
    body, signature = signed.split(".")
    longer = f"{uid}.{_reencoded(signed, lambda p: [p[0], p[1] + 86400])}"
    other_lock = f"{uid}.{_reencoded(signed, lambda p: [p[0] + 1, p[1]])}"
    for forged in (
        longer,
        other_lock,
        f"{uid}.{body}.{signature[:-2]}AA",  # another signature
        f"{uid}.{body}",
        f"{uid}.{body}.",
        f"{uid}",
        "garbage",
        f"{uid}.{'A' * 400}",
    ):
        response = client.get(f"/unlock/{forged}")
        assert response.status_code == 400 and "not valid" in response.get_data(as_text=True)
    assert services.accounts.user(person.id).locked_at is not None
    for forged in (longer, other_lock):  # a forgery names an account it must not write to
        with pytest.raises(UnlockLinkError, match="not valid"):
            services.get(SECURITY).unlock.redeem(forged, CTX, current_password=person.password)
    assert events(services, "account:lockout:unlock_link_refused") == []


def test_a_link_written_to_an_earlier_address_is_refused(services, make_user):
    person = make_user()
    _lock(services, person)
    user = services.accounts.user(person.id)
    unlock = services.get(SECURITY).unlock
    earlier = unlock.token_for(dataclasses.replace(user, email="earlier@example.org"), user.locked_at)
    with pytest.raises(UnlockLinkError, match="not valid"):
        unlock.check(earlier)
    assert unlock.check(unlock.token_for(user, user.locked_at)).id == person.id


def test_a_link_in_the_format_before_the_upgrade_is_refused_not_an_error(client, services, make_user):
    """Links mailed before decision 0610 stop working (they expire within a day anyway)."""
    person = make_user()
    _lock(services, person)
    user = services.accounts.user(person.id)
    key = hashlib.sha256(f"idp-unlock-link-v1\x00{services.settings.secret_key.get_secret_value()}".encode()).digest()
    locked = (user.locked_at - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(microseconds=1)
    payload = f"{user.id}.{locked}.{int(services.clock.now().timestamp()) + 600}"
    mac = hmac.new(key, f"{payload}\x00{user.email}".encode(), hashlib.sha256).digest()
    response = client.get(f"/unlock/{payload}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}")
    assert response.status_code == 400 and "not valid" in response.get_data(as_text=True)


def test_a_link_does_not_unlock_another_account(client, services, make_user, mailbox):
    victim, other = make_user(), make_user()
    _lock(services, victim)
    _lock(services, other)
    _uid, rest = _link_from_mail(mailbox, victim).removeprefix("/unlock/").split(".", 1)
    response = client.get(f"/unlock/{other.id}.{rest}")
    assert response.status_code == 400 and "not valid" in response.get_data(as_text=True)
    assert services.accounts.user(other.id).locked_at is not None


def test_a_link_from_an_earlier_lock_is_dead(client, services, make_user, mailbox, clock):
    person = make_user()
    _lock(services, person)
    old = _link_from_mail(mailbox, person)
    services.lockout.unlock(services.accounts.user(person.id), CTX, actor_id=None, how="cli")
    clock.advance(seconds=5)
    _lock(services, person)
    assert client.get(old).status_code == 400


def test_a_refused_genuine_link_is_recorded(client, services, make_user, mailbox):
    person = make_user()
    _lock(services, person)
    path = _link_from_mail(mailbox, person)
    _submit(client, path, current_password=person.password)
    with pytest.raises(Exception, match="already been used"):
        services.get(SECURITY).unlock.redeem(path.removeprefix("/unlock/"), CTX, current_password=person.password)
    [refused] = events(services, "account:lockout:unlock_link_refused")
    assert refused["user_id"] == person.id


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"new_password": "short", "confirm": "short"}, "at least 8 characters"),
        ({"new_password": "password123", "confirm": "password123"}, "too common"),
        ({"new_password": "a fresh long phrase", "confirm": "another phrase"}, "The two new passwords differ."),
        ({}, "Enter your current password, or choose a new one."),
        ({"new_password": "x" * 2000, "confirm": "x" * 2000}, "too long"),
    ],
)
def test_bad_input_on_the_unlock_form(client, services, make_user, mailbox, data, message):
    person = make_user()
    _lock(services, person)
    response = _submit(client, _link_from_mail(mailbox, person), **data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert services.accounts.user(person.id).locked_at is not None


def test_the_unlock_page_speaks_french(client, services, make_user, mailbox):
    person = make_user(locale="fr")
    _lock(services, person)
    [locked] = mailbox.to(person.email)
    assert "Pour le déverrouiller vous-même" in locked.get_content()
    path = LINK.search(locked.get_content()).group(1)
    assert "Déverrouiller votre compte" in client.get(path + "?lang=fr").get_data(as_text=True)
