"""The activity log: the framework-free search other features use, the page, its filters and CSV export."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from idp.errors import ValidationError
from idp.model import RequestContext
from idp.security.center import SECURITY
from tests.conftest import events


def _record(services, clock, user_id, tag, *, days_ago=0, product="account", ip="192.0.2.1", ua="", details=None):
    clock.set(BASE - dt.timedelta(days=days_ago))
    services.events.record_event(tag, ctx=RequestContext(ip=ip, user_agent=ua), user_id=user_id, product=product,
                                 details=details)


BASE = dt.datetime(2030, 6, 15, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def history(services, clock, make_user):
    person, other = make_user(), make_user()
    _record(services, clock, person.id, "account:signin:succeeded", days_ago=10, product="signin", ip="198.51.100.1")
    _record(services, clock, person.id, "account:signin:failed", days_ago=5, product="signin", ip="198.51.100.2")
    _record(services, clock, person.id, "account:password:changed", days_ago=2, ip="198.51.100.3")
    _record(services, clock, person.id, "oidc:token:issued", days_ago=1, product="client-abc", details={"client": "Wiki"})
    _record(services, clock, other.id, "account:signin:failed", days_ago=1, product="signin", ip="198.51.100.99")
    clock.set(BASE)
    return person, other


def _mine(services, person, **filters):
    activity = services.get(SECURITY).activity
    found, total = activity.search(user_id=person.id, **filters)
    return [e.tag for e in found], total


def test_search_is_scoped_newest_first_and_filtered(services, history):
    person, _other = history
    person_events = _mine(services, person)
    # user creation is recorded too, at the real start time of the test (before BASE).
    assert person_events[0][:4] == ["oidc:token:issued", "account:password:changed", "account:signin:failed", "account:signin:succeeded"]
    assert _mine(services, person, product="signin")[1] == 2
    assert _mine(services, person, action="account:signin:failed") == (["account:signin:failed"], 1)
    assert _mine(services, person, text="198.51.100.3") == (["account:password:changed"], 1)
    assert _mine(services, person, text="wiki") == (["oidc:token:issued"], 1)  # inside details
    assert _mine(services, person, text="100%") == ([], 0)  # wildcards are literal
    day = (BASE - dt.timedelta(days=5)).date()
    assert _mine(services, person, date_from=day, date_to=day) == (["account:signin:failed"], 1)
    assert _mine(services, person, date_from=(BASE - dt.timedelta(days=3)).date(), product="account")[1] >= 1


def test_search_pages(services, history):
    person, _ = history
    activity = services.get(SECURITY).activity
    first, total = activity.search(user_id=person.id, page=1, per_page=2)
    second, _ = activity.search(user_id=person.id, page=2, per_page=2)
    assert len(first) == 2 and total == 5
    assert {e.id for e in first}.isdisjoint({e.id for e in second})


@pytest.mark.parametrize(
    "bad",
    [{"page": 0}, {"per_page": 0}, {"per_page": 501}, {"text": "x" * 201},
     {"date_from": dt.date(2030, 6, 10), "date_to": dt.date(2030, 6, 1)}],
)
def test_search_refuses_bad_arguments(services, history, bad):
    with pytest.raises(ValidationError):
        services.get(SECURITY).activity.search(user_id=history[0].id, **bad)


def test_the_page_shows_filters_and_pages(client, auth, services, history):
    person, _ = history
    auth.sign_in(person.email, person.password)
    html = client.get("/security/activity/").get_data(as_text=True)
    assert "Failed sign-in" in html and "Password changed" in html and "198.51.100.99" not in html
    html = client.get("/security/activity/?product=signin&action=account:signin:failed").get_data(as_text=True)
    assert "198.51.100.2" in html and "198.51.100.1<" not in html
    assert "Events found: 1" in html
    html = client.get("/security/activity/?q=198.51.100.3").get_data(as_text=True)
    assert "Events found: 1" in html


@pytest.fixture
def settings_overrides():
    return {"security": {"activity_page_size": 10}}


def test_pagination_links_keep_the_filters(client, auth, services, clock, make_user):
    person = make_user()
    for i in range(12):
        _record(services, clock, person.id, "account:signin:failed", product="signin", ip=f"203.0.113.{i}")
    clock.set(BASE)
    auth.sign_in(person.email, person.password)
    html = client.get("/security/activity/?product=signin").get_data(as_text=True)
    assert "Page 1 of 2" in html and "page=2" in html and "product=signin" in html
    html = client.get("/security/activity/?product=signin&page=2").get_data(as_text=True)
    assert "Page 2 of 2" in html and "Newer" in html


@pytest.mark.parametrize(
    ("query", "message"),
    [("date_from=yesterday", "Not a valid date value."), ("page=0", "The page number must be 1 or more."),
     ("page=abc", "Not a valid integer value."), ("product=nope", "Not a valid choice."),
     ("action=account:nothing", "Not a valid choice."), ("q=" + "x" * 300, "200 characters at most"),
     ("date_from=2030-06-10&date_to=2030-06-01", "The end date must not be before the start date.")],
)
def test_bad_filters_get_a_clear_message(client, auth, history, query, message):
    person, _ = history
    auth.sign_in(person.email, person.password)
    response = client.get(f"/security/activity/?{query}")
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert client.get(f"/security/activity/export.csv?{query}").status_code == 400


def test_csv_export_is_filtered_recorded_and_safe_for_spreadsheets(client, auth, services, clock, history):
    person, _ = history
    _record(services, clock, person.id, "account:signin:failed", product="signin", ip="192.0.2.8",
            ua="=HYPERLINK(\"http://evil\")")
    clock.set(BASE)
    auth.sign_in(person.email, person.password)
    response = client.get("/security/activity/export.csv?product=signin")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][:3] == ["time_utc", "action", "product"]
    assert {r[2] for r in rows[1:]} == {"signin"}
    assert all(not cell.startswith("=") for r in rows for cell in r)
    [exported] = events(services, "account:activity:exported")
    assert exported["user_id"] == person.id and exported["actor_id"] == person.id


def test_the_activity_page_speaks_french(client, auth, history):
    person, _ = history
    auth.sign_in(person.email, person.password)
    html = client.get("/security/activity/?lang=fr").get_data(as_text=True)
    assert "Connexion échouée" in html and "Télécharger en CSV" in html


def test_the_activity_service_is_offered_to_other_features(services):
    from idp.security.activity import ActivityService

    assert isinstance(services.get(SECURITY).activity, ActivityService)
