"""Sign-in notifications: the person's choice in SQL, mail by a real SMTP server, failed-sign-in mail throttled."""

from __future__ import annotations

import pytest

from tests.conftest import AuthActions
from tests.conftest import csrf_of
from tests.conftest import events
from tests.security.conftest import UA_FIREFOX
from tests.security.conftest import post_form


def _fail(app, email: str, times: int = 1, ip: str = "203.0.113.9") -> None:
    intruder = app.test_client()
    intruder.environ_base.update(REMOTE_ADDR=ip, HTTP_USER_AGENT=UA_FIREFOX)
    for _ in range(times):
        AuthActions(intruder).sign_in(email, "not the password")


def test_failed_sign_in_mail_is_on_by_default_and_says_when_where_and_what(app, make_user, mailbox):
    person = make_user(display_name="Ada")
    _fail(app, person.email)
    [message] = mailbox.to(person.email)
    assert message["Subject"] == "Failed sign-in to your Identity account"
    body = message.get_content()
    assert "Hello Ada," in body and "203.0.113.9" in body and "Firefox 120 on Linux" in body
    assert "UTC" in body
    assert "http://localhost:5000/security/sessions" in body
    assert "http://localhost:5000/security/compromised" in body


def test_no_mail_on_success_by_default(client, auth, make_user, mailbox):
    person = make_user()
    auth.sign_in(person.email, person.password)
    assert mailbox.to(person.email) == []


def test_failed_mail_is_throttled_and_the_next_one_counts_what_it_summarises(app, make_user, mailbox, clock, services):
    person = make_user()
    services.users.set_lockout_threshold(person.id, 100, clock.now())
    _fail(app, person.email, times=5)
    assert len(mailbox.to(person.email)) == 1  # one mail, not five
    clock.advance(seconds=services.settings.security.failed_signin_mail_window + 1)
    _fail(app, person.email)
    first, second = mailbox.to(person.email)
    assert "Someone tried to sign in" in first.get_content()
    assert "There were 5 failed attempts" in second.get_content()  # the 4 held back and this one


def test_the_throttle_is_per_account(app, make_user, mailbox):
    a, b = make_user(), make_user()
    _fail(app, a.email, times=2)
    _fail(app, b.email)
    assert len(mailbox.to(a.email)) == 1 and len(mailbox.to(b.email)) == 1


def test_choosing_both_mails_a_successful_sign_in_in_the_persons_language(app, client, auth, make_user, services, mailbox):
    person = make_user(locale="fr")
    auth.sign_in(person.email, person.password)
    response = post_form(client, "/security/notifications", {"choice": "both"})
    assert response.status_code == 302
    [changed] = events(services, "account:notifications:changed")
    assert changed["user_id"] == person.id and changed["details"] == {"choice": "both"}
    other = app.test_client()
    other.environ_base["HTTP_USER_AGENT"] = UA_FIREFOX
    AuthActions(other).sign_in(person.email, person.password)
    [message] = mailbox.to(person.email)
    assert message["Subject"] == "Nouvelle connexion à votre compte Identity"
    assert "Firefox 120 sous Linux" in message.get_content()  # the device in French too


def test_choosing_neither_sends_nothing(app, client, auth, make_user, mailbox):
    person = make_user()
    auth.sign_in(person.email, person.password)
    post_form(client, "/security/notifications", {"choice": "none"})
    _fail(app, person.email)
    assert mailbox.to(person.email) == []
    assert 'checked id="choice-4"' in client.get("/security/notifications").get_data(as_text=True)


@pytest.mark.parametrize("data", [{"choice": "always"}, {}, {"choice": "x" * 5000}])
def test_bad_choices_are_refused_with_a_message(client, auth, make_user, data):
    person = make_user()
    auth.sign_in(person.email, person.password)
    response = post_form(client, "/security/notifications", data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Please correct the following" in html


def test_changing_notifications_needs_a_recent_sign_in(client, auth, make_user, clock, services):
    person = make_user()
    auth.sign_in(person.email, person.password)
    clock.advance(minutes=11)
    response = client.get("/security/notifications")
    assert response.status_code == 302 and response.headers["Location"].startswith("/reauth")
    token = csrf_of(client.get("/").get_data(as_text=True))
    response = client.post("/security/notifications", data={"csrf_token": token, "choice": "none"})
    assert response.status_code == 302 and response.headers["Location"].startswith("/reauth")
    assert events(services, "account:notifications:changed") == []


def test_the_page_speaks_french(client, auth, make_user):
    person = make_user()
    auth.sign_in(person.email, person.password)
    html = client.get("/security/notifications?lang=fr").get_data(as_text=True)
    assert "Quand une connexion échoue (recommandé)" in html


def test_a_failure_on_an_unknown_login_does_the_work_of_a_known_accounts(app, make_user, services, monkeypatch):
    """The subscriber reads a choice and counts a failure for an unknown login too (for a
    stand-in account), so a wrong password's time does not tell that the address has an account."""
    from idp.security.center import SECURITY

    notifications = services.get(SECURITY).notifications
    calls: list[tuple[str, int]] = []
    real_get, real_failed = notifications.prefs.get, notifications.throttle.failed
    monkeypatch.setattr(notifications.prefs, "get", lambda user_id: calls.append(("choice", user_id)) or real_get(user_id))
    monkeypatch.setattr(notifications.throttle, "failed",
                        lambda user_id, **kw: calls.append(("count", user_id)) or real_failed(user_id, **kw))
    person = make_user()
    _fail(app, person.email)
    known = [kind for kind, _id in calls]
    calls.clear()
    _fail(app, "nobody-here@example.com")
    assert [kind for kind, _id in calls] == known == ["choice", "count"]
    assert {user_id for _kind, user_id in calls} == {0}
