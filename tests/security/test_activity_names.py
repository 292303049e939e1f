"""The activity log names people and applications: the administrator who acted, by name (with the
e-mail in the organisation's log), the application by its registered name, each page's names read
by one query, and still a right answer once the administrator or the application is gone."""

from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import event

from idp.events import EventTag
from idp.model import RequestContext
from idp.model import Role
from idp.oidc import OIDC
from idp.security.center import SECURITY
from tests.conftest import AuthActions
from tests.standing import put_in

CTX = RequestContext(ip="203.0.113.7", user_agent="")


@pytest.fixture
def acme(services, make_user):
    """Ada administers Acme; she unlocked Bob, a member, who then allowed the Team Wiki."""
    org = services.accounts.create_org("acme", "Acme")
    ada = make_user("ada@acme.example", display_name="Ada Admin")
    bob = make_user("bob@acme.example", display_name="Bob Member")
    services.accounts.add_member(org, services.accounts.user(ada.id), Role.ADMIN)
    services.accounts.add_member(org, services.accounts.user(bob.id), Role.COLLABORATOR)
    services.users.lock(bob.id, services.clock.now())
    services.get(SECURITY).center.unlock_member(services.accounts.user(ada.id), org, bob.id, CTX)
    wiki, _secret = services.get(OIDC).clients.create("Team Wiki", redirect_uris=["http://127.0.0.1:9999/cb"])
    services.events.record_event(EventTag.OIDC_CONSENT_GIVEN, ctx=CTX, user_id=bob.id, product=wiki.client_id,
                                 details={"scopes": ["openid"]})
    return org, ada, bob, wiki.client_id


def _cells(html: str, tag: str) -> list[str]:
    """The cells of the first table row whose action cell says `tag`'s words."""
    rows = (re.findall(r"<td[^>]*>(.*?)</td>", row, re.S) for row in html.split("<tr>"))
    return next(cells for cells in rows if tag in cells)


def _cell(text: str) -> str:
    """A table cell holding exactly `text` (cells carry their column's name for small screens)."""
    return f'">{text}</td>'


def test_the_own_log_names_the_administrator_and_the_application(client, auth, acme):
    _org, _ada, bob, client_id = acme
    auth.sign_in(bob.email, bob.password)
    html = client.get("/security/activity/").get_data(as_text=True)
    assert _cells(html, "Account unlocked")[-1] == "Ada Admin"  # the By column
    assert _cells(html, "Application allowed")[2] == "Team Wiki"  # the Product column
    assert "administrator #" not in html and "ada@acme.example" not in html
    # The product filter offers the application by its name.
    assert f'<option value="{client_id}">Team Wiki</option>' in html
    french = client.get("/security/activity/?lang=fr").get_data(as_text=True)
    assert _cells(french, "Compte déverrouillé")[-1] == "Ada Admin"


def test_the_organisation_log_names_members_with_their_e_mails(client, auth, acme):
    _org, ada, _bob, _client_id = acme
    auth.sign_in(ada.email, ada.password)
    html = client.get("/orgs/acme/members/activity?action=account:lockout:unlocked").get_data(as_text=True)
    cells = _cells(html, "Account unlocked")
    assert cells[3] == "Bob Member (bob@acme.example)"  # Account
    assert cells[-1] == "Ada Admin (ada@acme.example)"  # By
    html = client.get("/orgs/acme/members/activity").get_data(as_text=True)
    assert _cells(html, "Application allowed")[2] == "Team Wiki"


def test_a_deleted_administrator_and_a_deleted_application(client, auth, services, acme):
    _org, ada, bob, client_id = acme
    put_in(services, ada.id, "deleted")
    services.get(OIDC).clients.delete(client_id)
    auth.sign_in(bob.email, bob.password)
    html = client.get("/security/activity/").get_data(as_text=True)
    assert _cells(html, "Account unlocked")[-1] == "Deleted account"
    assert _cells(html, "Application allowed")[2] == client_id
    assert "Ada Admin" not in html and "Team Wiki" not in html
    assert _cell("Compte supprimé") in client.get("/security/activity/?lang=fr").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(client.get("/security/activity/export.csv").get_data(as_text=True))))
    unlocked = next(r for r in rows if r["action"] == "account:lockout:unlocked")
    assert unlocked["actor_id"] == str(ada.id) and unlocked["actor"] == "deleted account"
    allowed = next(r for r in rows if r["action"] == "oidc:consent:given")
    assert allowed["application"] == client_id


def test_the_csv_exports_name_the_actor_and_the_application(client, auth, services, acme, app):
    _org, ada, bob, client_id = acme
    auth.sign_in(bob.email, bob.password)
    rows = list(csv.DictReader(io.StringIO(client.get("/security/activity/export.csv").get_data(as_text=True))))
    unlocked = next(r for r in rows if r["action"] == "account:lockout:unlocked")
    assert (unlocked["actor_id"], unlocked["actor"], unlocked["application"]) == (str(ada.id), "Ada Admin", "")
    allowed = next(r for r in rows if r["action"] == "oidc:consent:given")
    assert (allowed["product"], allowed["application"]) == (client_id, "Team Wiki")
    admin = app.test_client()
    AuthActions(admin).sign_in(ada.email, ada.password)
    rows = list(csv.DictReader(io.StringIO(admin.get("/orgs/acme/members/activity/export.csv").get_data(as_text=True))))
    unlocked = next(r for r in rows if r["action"] == "account:lockout:unlocked")
    assert unlocked["actor"] == "Ada Admin (ada@acme.example)"


def test_an_administrator_of_another_organisation_is_named_without_e_mail(client, auth, services, acme, make_user):
    _org, ada, bob, _client_id = acme
    # Bob also belongs to Globex, whose administrator unlocks him: Acme's log shows who, not her address.
    globex = services.accounts.create_org("globex", "Globex")
    gina = make_user("gina@globex.example", display_name="Gina Globex")
    services.accounts.add_member(globex, services.accounts.user(gina.id), Role.ADMIN)
    services.accounts.add_member(globex, services.accounts.user(bob.id), Role.COLLABORATOR)
    services.users.lock(bob.id, services.clock.now())
    services.get(SECURITY).center.unlock_member(services.accounts.user(gina.id), globex, bob.id, CTX)
    auth.sign_in(ada.email, ada.password)
    html = client.get("/orgs/acme/members/activity?action=account:lockout:unlocked").get_data(as_text=True)
    assert _cell("Gina Globex") in html and "gina@globex.example" not in html
    assert _cell("Ada Admin (ada@acme.example)") in html


@pytest.fixture
def statements(services):
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(services.db.engine, "before_cursor_execute", record)
    yield seen
    event.remove(services.db.engine, "before_cursor_execute", record)


@pytest.mark.parametrize("count", [1, 8])
def test_a_page_reads_its_names_once(client, auth, services, make_user, statements, count):
    person = make_user(display_name="Pat")
    for i in range(count):
        admin = make_user(display_name=f"Admin {i}")
        app, _secret = services.get(OIDC).clients.create(f"App {i}", redirect_uris=["http://127.0.0.1:9999/cb"])
        services.events.record_event(EventTag.SESSION_ENDED, ctx=CTX, user_id=person.id, actor_id=admin.id)
        services.events.record_event(EventTag.OIDC_TOKEN_ISSUED, ctx=CTX, user_id=person.id, product=app.client_id)
    auth.sign_in(person.email, person.password)
    statements.clear()
    html = client.get("/security/activity/").get_data(as_text=True)
    assert all(_cell(f"Admin {i}") in html and _cell(f"App {i}") in html for i in range(count))
    # One statement names the people and the applications of the page (and of the product filter).
    assert len([s for s in statements if "oidc_clients" in s]) == 1
    assert len([s for s in statements if "display_name" in s and "events" not in s]) <= 2  # + the signed-in person
