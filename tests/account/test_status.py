"""Disabling an account, enabling it again, and an administrator's new password, through the
account service itself: every caller (the `idp` command, an administrator's page) gets the same
rule, that a disable or a reset signs the account out everywhere."""

from __future__ import annotations

from idp.model import RequestContext
from idp.model import UserStatus
from tests.conftest import AuthActions
from tests.conftest import events

ADMIN_DESK = RequestContext(ip="198.51.100.7", user_agent="Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0")


def _signed_in_twice(app, auth, services, person):
    """The person signed in in this browser and in another one."""
    assert auth.sign_in(person.email, person.password).status_code == 302
    other = app.test_client()
    assert AuthActions(other).sign_in(person.email, person.password).status_code == 302
    assert len(services.sessions.list(person.id)) == 2
    return other


def test_disabling_ends_every_session_and_records_both_events(app, auth, client, make_user, services):
    person, admin = make_user(), make_user()
    other = _signed_in_twice(app, auth, services, person)

    ended = services.accounts.disable(services.accounts.user(person.id), ctx=ADMIN_DESK, actor_id=admin.id)

    assert ended == 2
    assert services.accounts.user(person.id).status is UserStatus.DISABLED
    assert services.sessions.list(person.id) == []
    for browser in (client, other):
        assert browser.get("/").headers["Location"].startswith("/login")
    [disabled] = events(services, "account:user:disabled")
    assert (disabled["user_id"], disabled["actor_id"], disabled["ip"]) == (person.id, admin.id, "198.51.100.7")
    [gone] = events(services, "account:session:ended")
    assert gone["user_id"] == person.id and gone["actor_id"] == admin.id
    assert gone["details"] == {"count": 2, "reason": "disabled"}


def test_disabling_an_account_without_sessions_ends_none(make_user, services):
    person = make_user()
    assert services.accounts.disable(services.accounts.user(person.id)) == 0
    assert [e["user_id"] for e in events(services, "account:user:disabled")] == [person.id]
    assert events(services, "account:session:ended") == []


def test_enabling_again_lets_the_person_sign_in_but_revives_no_session(auth, make_user, services):
    person = make_user()
    assert auth.sign_in(person.email, person.password).status_code == 302
    services.accounts.disable(services.accounts.user(person.id))

    services.accounts.enable(services.accounts.user(person.id))

    assert services.accounts.user(person.id).status is UserStatus.ACTIVE
    assert services.sessions.list(person.id) == []
    assert [e["user_id"] for e in events(services, "account:user:enabled")] == [person.id]
    assert auth.sign_in(person.email, person.password).headers["Location"] == "/"


def test_an_administrators_new_password_signs_the_account_out_everywhere(app, auth, client, make_user, services):
    person = make_user()
    other = _signed_in_twice(app, auth, services, person)

    ended = services.accounts.reset_password(services.accounts.user(person.id), "a brand new passphrase")

    assert ended == 2
    assert services.sessions.list(person.id) == []
    for browser in (client, other):
        assert browser.get("/").headers["Location"].startswith("/login")
    [gone] = events(services, "account:session:ended")
    assert gone["details"] == {"count": 2, "reason": "password_set"}
    assert events(services, "account:password:changed")[0]["details"] == {"by": "admin"}
    assert auth.sign_in(person.email, "a brand new passphrase").headers["Location"] == "/"
