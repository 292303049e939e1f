"""The compromised-password wizard: new password, revoke access, review; each step recorded, owner e-mailed."""

from __future__ import annotations

import pytest

from idp.security.center import SECURITY
from idp.security.credentials import CREDENTIALS
from tests.conftest import AuthActions
from tests.conftest import events
from tests.security.conftest import post_form


class Recorder:
    """Stands in for the credentials and OpenID Provider features: records what it was asked."""

    def __init__(self, answer: int) -> None:
        self.answer, self.calls = answer, []

    def revoke_all(self, user, ctx):
        self.calls.append(user.id)
        return self.answer

    revoke_all_grants = revoke_all


@pytest.fixture
def features(services):
    credentials, oidc = Recorder(3), Recorder(2)
    wizard = services.get(SECURITY).wizard
    wizard.credentials, wizard.grants = credentials.revoke_all, oidc.revoke_all_grants
    return credentials, oidc


NEW = "a brand new passphrase"


def _step1(client, person, new=NEW, confirm=None, current=None):
    return post_form(client, "/security/compromised/", {
        "current_password": person.password if current is None else current, "new_password": new,
        "confirm": new if confirm is None else confirm,
    })


def test_the_whole_wizard(app, client, auth, make_user, services, features, mailbox):
    credentials, oidc = features
    person = make_user(display_name="Ada")
    other = app.test_client()
    AuthActions(other).sign_in(person.email, person.password)
    auth.sign_in(person.email, person.password)

    response = _step1(client, person)
    assert response.status_code == 302 and response.headers["Location"].endswith("/security/compromised/revoke")
    assert AuthActions(app.test_client()).sign_in(person.email, NEW).status_code == 302
    assert len(events(services, "account:wizard:password_replaced")) == 1
    assert len(events(services, "account:password:changed")) == 1

    page = client.get("/security/compromised/revoke").get_data(as_text=True)
    assert "Every app password and every API token will be revoked" in page
    response = post_form(client, "/security/compromised/revoke", {"end_sessions": "y", "revoke_grants": "y"})
    assert response.headers["Location"].endswith("/security/compromised/review")
    assert credentials.calls == [person.id] and oidc.calls == [person.id]
    assert other.get("/").status_code == 302  # the other browser is signed out
    assert client.get("/").status_code == 200  # this one stays
    [revoked] = events(services, "account:wizard:credentials_revoked")
    assert revoked["details"]["credentials"] == 3 and revoked["details"]["grants"] == 2
    assert revoked["details"]["sessions"] >= 1

    review = client.get("/security/compromised/review").get_data(as_text=True)
    for label in ("Sign-in notifications", "Failed attempts before the account locks", "Active sessions"):
        assert label in review
    assert "Revoked: 3 app passwords and API tokens" in review
    response = post_form(client, "/security/compromised/review")
    assert response.status_code == 302
    [done] = events(services, "account:wizard:completed")
    assert done["user_id"] == person.id and done["details"]["credentials"] == 3
    [mail] = [m for m in mailbox.to(person.email) if "secured" in m["Subject"]]
    body = mail.get_content()
    assert "Hello Ada," in body and "the password was changed" in body
    assert "3 app passwords and API tokens were revoked" in body and "2 application accesses" in body
    # Finished: the later steps are closed again until step 1 is done anew.
    assert client.get("/security/compromised/review").headers["Location"].endswith("/security/compromised/")


def test_step_two_can_keep_sessions_and_grants(app, client, auth, make_user, services, features):
    credentials, oidc = features
    person = make_user()
    other = app.test_client()
    AuthActions(other).sign_in(person.email, person.password)
    auth.sign_in(person.email, person.password)
    _step1(client, person)
    post_form(client, "/security/compromised/revoke", {})
    assert credentials.calls == [person.id] and oidc.calls == []  # credentials always go
    assert other.get("/").status_code == 200


def test_without_the_other_features_the_wizard_still_works(client, auth, make_user, services):
    wizard = services.get(SECURITY).wizard
    wizard.credentials = wizard.grants = None
    person = make_user()
    auth.sign_in(person.email, person.password)
    _step1(client, person)
    page = client.get("/security/compromised/revoke").get_data(as_text=True)
    assert "Withdraw applications" not in page
    assert post_form(client, "/security/compromised/revoke", {"end_sessions": "y"}).status_code == 302
    [revoked] = events(services, "account:wizard:credentials_revoked")
    assert revoked["details"]["credentials"] == 0


def test_steps_cannot_be_skipped(client, auth, make_user, features):
    person = make_user()
    auth.sign_in(person.email, person.password)
    assert client.get("/security/compromised/revoke").headers["Location"].endswith("/security/compromised/")
    assert client.get("/security/compromised/review").headers["Location"].endswith("/security/compromised/")
    response = post_form(client, "/security/compromised/revoke", {"end_sessions": "y"}, form_page="/")
    assert response.status_code == 302 and features[0].calls == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"current": "wrong password"}, "Your current password is wrong."),
        ({"current": ""}, "Enter your current password."),
        ({"new": "password1"}, "too common"),
        ({"new": "Dragon2024!"}, "too common"),
        ({"new": "short"}, "at least 8 characters"),
        ({"new": "correct horse battery"}, "must differ from the current one"),
        ({"new": NEW, "confirm": "something else"}, "The two new passwords differ."),
        ({"new": ""}, "Choose a new password."),
    ],
)
def test_step_one_refuses_bad_passwords(client, auth, make_user, services, kwargs, message):
    person = make_user()
    auth.sign_in(person.email, person.password)
    response = _step1(client, person, **kwargs)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert events(services, "account:wizard:password_replaced") == []
    assert services.passwords.verify(services.accounts.user(person.id).password_hash, person.password).ok


def test_the_wizard_needs_a_recent_sign_in(client, auth, make_user, clock):
    person = make_user()
    auth.sign_in(person.email, person.password)
    clock.advance(minutes=11)
    for path in ("/security/compromised/", "/security/compromised/revoke", "/security/compromised/review"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith("/reauth")


def test_the_wizard_speaks_french(client, auth, make_user):
    person = make_user()
    auth.sign_in(person.email, person.password)
    html = client.get("/security/compromised/?lang=fr").get_data(as_text=True)
    assert "Étape 1\u00a0: choisissez un nouveau mot de passe" in html  # no line break before the colon
    html = _step1(client, person, new="password1").get_data(as_text=True)
    assert "Ce mot de passe est trop courant" in html


def test_step_two_revokes_real_app_passwords(client, auth, make_user, services):
    """With the credentials feature installed, its app passwords stop working after step 2."""
    from idp.model import RequestContext

    credentials = services.get(CREDENTIALS)
    person = make_user()
    user = services.accounts.user(person.id)
    credentials.create_app_password(user, "mail client", RequestContext(ip="192.0.2.1"))
    assert credentials.count_app_passwords(user) == 1
    auth.sign_in(person.email, person.password)
    _step1(client, person)
    post_form(client, "/security/compromised/revoke", {})
    assert credentials.count_app_passwords(user) == 0
    [revoked] = events(services, "account:wizard:credentials_revoked")
    assert revoked["details"]["credentials"] == 1


def test_steps_two_and_three_refuse_forged_forms(client, auth, make_user, services, features):
    person = make_user()
    auth.sign_in(person.email, person.password)
    _step1(client, person)
    assert client.post("/security/compromised/revoke", data={"end_sessions": "y"}).status_code == 400
    assert features[0].calls == []
    post_form(client, "/security/compromised/revoke", {})
    assert client.post("/security/compromised/review", data={"csrf_token": "forged"}).status_code == 400
    assert events(services, "account:wizard:completed") == []


def test_a_review_line_that_fails_says_so_and_is_logged(client, auth, make_user, services, caplog):
    from idp.errors import StoreUnavailableError
    from idp.foundation.review import ReviewItem

    def broken(user):
        raise RuntimeError("boom")

    services.review.append(ReviewItem("Broken line", "security.index", broken))
    person = make_user()
    auth.sign_in(person.email, person.password)
    with caplog.at_level("ERROR", logger="idp.security.wizard"):
        page = client.get("/security/")
    assert page.status_code == 200
    assert 'Broken line</td><td data-label="Now">Could not be checked</td>' in page.get_data(as_text=True)
    assert [r.message for r in caplog.records] == ["a review item failed"]
    # A store that does not answer is the page's 503, not a line.

    def unavailable(user):
        raise StoreUnavailableError("the database does not answer")

    services.review[-1] = ReviewItem("Broken line", "security.index", unavailable)
    assert client.get("/security/").status_code == 503
