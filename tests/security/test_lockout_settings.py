"""The person's own lockout threshold (3 to 100), behind re-authentication."""

from __future__ import annotations

import pytest

from idp.model import RequestContext
from idp.security.center import SECURITY
from tests.conftest import events
from tests.security.conftest import post_form


def test_the_threshold_is_saved_recorded_and_applied(client, auth, make_user, services):
    person = make_user()
    auth.sign_in(person.email, person.password)
    assert 'value="10"' in client.get("/security/lockout").get_data(as_text=True)
    response = post_form(client, "/security/lockout", {"threshold": "4"})
    assert response.status_code == 302
    assert "locks after 4 failed attempts" in client.get("/security/lockout").get_data(as_text=True)
    [changed] = events(services, "account:lockout:threshold_changed")
    assert changed["user_id"] == person.id and changed["details"] == {"from": 10, "to": 4}
    user = services.accounts.user(person.id)
    ctx = RequestContext(ip="203.0.113.1")
    for _ in range(4):
        services.lockout.register_failure(services.accounts.user(person.id), user.email, ctx)
    assert services.accounts.user(person.id).locked_at is not None


@pytest.mark.parametrize(
    ("value", "message"),
    [("2", "Choose a number from 3 to 100."), ("101", "Choose a number from 3 to 100."),
     ("ten", "Not a valid integer value."), ("", "Enter a number."), ("-5", "Choose a number from 3 to 100.")],
)
def test_out_of_range_thresholds_are_refused(client, auth, make_user, services, value, message):
    person = make_user()
    auth.sign_in(person.email, person.password)
    response = post_form(client, "/security/lockout", {"threshold": value})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert services.accounts.user(person.id).lockout_threshold == 10
    assert events(services, "account:lockout:threshold_changed") == []


def test_the_service_refuses_out_of_range_values_too(services, make_user):
    from idp.errors import ValidationError

    person = make_user()
    with pytest.raises(ValidationError):
        services.get(SECURITY).center.set_threshold(services.accounts.user(person.id), 1000, RequestContext())


def test_the_threshold_needs_a_recent_sign_in(client, auth, make_user, clock):
    person = make_user()
    auth.sign_in(person.email, person.password)
    clock.advance(minutes=11)
    response = client.get("/security/lockout")
    assert response.status_code == 302 and response.headers["Location"].startswith("/reauth")


def test_the_page_speaks_french(client, auth, make_user):
    person = make_user()
    auth.sign_in(person.email, person.password)
    html = client.get("/security/lockout?lang=fr").get_data(as_text=True)
    assert "Tentatives échouées avant le verrouillage du compte" in html
    html = post_form(client, "/security/lockout", {"threshold": "1"}).get_data(as_text=True)
    assert "Choisissez un nombre de 3 à 100." in html
