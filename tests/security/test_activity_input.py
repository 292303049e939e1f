"""The activity log's filters: input the database cannot take is refused on the form, on every view of the log."""

from __future__ import annotations

import datetime as dt

import pytest

from idp.errors import ValidationError
from idp.model import Role
from idp.security.center import SECURITY
from tests.conftest import events

VIEWS = ["/security/activity/", "/security/activity/export.csv", "/orgs/acme/members/activity", "/orgs/acme/members/activity/export.csv"]
MESSAGE = "The search text cannot contain control characters."


@pytest.fixture
def admin(client, auth, services, make_user):
    person = make_user()
    org = services.accounts.create_org("acme", "Acme")
    services.accounts.add_member(org, services.users.get(person.id), Role.ADMIN)
    auth.sign_in(person.email, person.password)
    return person


@pytest.mark.parametrize("path", VIEWS)
@pytest.mark.parametrize("text", ["a\x00b", "\x00", "tab\there", "del\x7f"])
def test_a_search_text_with_a_control_character_is_refused_with_a_message(client, services, admin, path, text):
    response = client.get(path, query_string={"q": text})
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert MESSAGE in response.get_data(as_text=True)
    assert events(services, "account:activity:exported") == []


@pytest.mark.parametrize("path", VIEWS)
def test_the_last_day_there_is_can_end_the_range(client, admin, path):
    response = client.get(path, query_string={"date_from": "2030-01-01", "date_to": "9999-12-31"})
    assert response.status_code == 200


@pytest.mark.parametrize("path", VIEWS)
def test_ordinary_text_still_searches(client, admin, path):
    assert client.get(path, query_string={"q": "é 100% _x_ \\"}).status_code == 200


def test_the_service_refuses_a_nul_byte_for_every_caller(services, admin):
    with pytest.raises(ValidationError) as refused:
        services.get(SECURITY).activity.search(user_id=admin.id, text="a\x00b")
    assert refused.value.field == "q"
    found, _total = services.get(SECURITY).activity.search(user_id=admin.id, date_to=dt.date.max)
    assert {"account:user:created", "account:signin:succeeded"} <= {e.tag for e in found}
