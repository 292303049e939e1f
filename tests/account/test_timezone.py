"""The account's time zone: chosen on the account page (POST, CSRF), then every moment on its
pages and in its mail is written in it; bad choices get a message and change nothing."""

from __future__ import annotations

import re

import pytest

from idp.model import RequestContext
from idp.security.credentials import CREDENTIALS
from tests.conftest import csrf_of
from tests.conftest import outbox


@pytest.fixture
def person(client, auth, make_user):
    person = make_user(locale="en")
    auth.sign_in(person.email, person.password)
    return person


def _choose(client, zone, **extra):
    token = csrf_of(client.get("/profile").get_data(as_text=True))
    return client.post("/profile/timezone", data={"csrf_token": token, **({"timezone": zone} if zone is not None else {}),
                                                   **extra})


def test_the_profile_offers_the_time_zones_with_utc_chosen(client, person):
    html = client.get("/profile").get_data(as_text=True)
    assert 'action="/profile/timezone"' in html
    assert re.search(r'<option selected value="UTC">UTC</option>', html)
    assert '<option value="Europe/Zurich">Europe/Zurich</option>' in html
    assert '<option value="America/New_York">America/New York</option>' in html


def test_choosing_a_time_zone_keeps_it_and_writes_pages_and_mail_in_it(client, services, person, clock):
    response = _choose(client, "Europe/Zurich")
    assert response.status_code == 302 and response.headers["Location"] == "/profile"
    assert services.accounts.user(person.id).timezone == "Europe/Zurich"
    home = client.get("/profile").get_data(as_text=True)
    assert "Dates and times are now shown in Europe/Zurich." in home
    assert re.search(r'<option selected value="Europe/Zurich">', home)
    # The clock of the tests stands at a known UTC moment: the sessions page says it in CET/CEST.
    now = clock.now()
    offset_hours = 1 if now.month in (1, 2, 3, 11, 12) else 2
    local = (now.hour + offset_hours) % 24
    sessions = client.get("/security/sessions").get_data(as_text=True)
    assert re.search(rf"\b{local % 12 or 12}:{now:%M}\u202f[AP]M CES?T\b", sessions), "times in the chosen zone"
    # And its mail.
    user = services.accounts.user(person.id)
    services.get(CREDENTIALS).create_app_password(user, "Mail", RequestContext(ip="127.0.0.1", user_agent="pytest"))
    mail = outbox(services)[-1]
    assert re.search(r"on \w{3} \d{1,2}, \d{4}, \d{1,2}:\d\d\u202f[AP]M CES?T, from", mail["body"]), mail["body"]


def test_back_to_utc(client, services, person):
    _choose(client, "Asia/Tokyo")
    assert _choose(client, "UTC").status_code == 302
    assert services.accounts.user(person.id).timezone is None


@pytest.mark.parametrize("zone", ["Mars/Olympus", "", "Europe/Zurich\x00", "Etc/GMT+5", "../../etc/passwd", "x" * 300])
def test_a_bad_choice_is_refused_with_a_message_and_changes_nothing(client, services, person, zone):
    before = services.accounts.user(person.id)
    response = _choose(client, zone)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Choose a time zone from the list." in page
    assert services.accounts.user(person.id).timezone is None
    assert services.accounts.user(person.id).updated_at == before.updated_at


def test_a_forged_form_changes_nothing(client, services, person):
    response = client.post("/profile/timezone", data={"csrf_token": "forged", "timezone": "Asia/Tokyo"})
    assert response.status_code == 400
    assert services.accounts.user(person.id).timezone is None


def test_a_get_changes_nothing(client, services, person):
    assert client.get("/profile/timezone?timezone=Asia/Tokyo").status_code == 405
    assert services.accounts.user(person.id).timezone is None
