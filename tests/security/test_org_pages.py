"""Organisation security pages: admins and legal representatives see locked members, unlock them, read the log."""

from __future__ import annotations

import pytest

from idp.model import RequestContext
from idp.model import Role
from tests.conftest import events
from tests.security.conftest import post_form

CTX = RequestContext(ip="203.0.113.5")


@pytest.fixture
def org(services, make_user):
    org = services.accounts.create_org("acme", "Acme")
    people = {}
    for name, role in (("admin", Role.ADMIN), ("legal", Role.LEGAL_REPRESENTATIVE), ("member", Role.COLLABORATOR)):
        people[name] = make_user(display_name=name.title())
        services.accounts.add_member(org, services.accounts.user(people[name].id), role)
    people["outsider"] = make_user(display_name="Outsider")
    for who in ("member", "outsider"):
        services.users.lock(people[who].id, services.clock.now())
    return org, people


@pytest.mark.parametrize("who", ["admin", "legal"])
def test_admins_see_locked_members_and_unlock_them(client, auth, services, org, who):
    _org, people = org
    auth.sign_in(people[who].email, people[who].password)
    html = client.get("/orgs/acme/members/locks").get_data(as_text=True)
    assert "Unlock Member" in html and "Outsider" not in html
    member = people["member"]
    response = post_form(client, f"/orgs/acme/members/{member.id}/unlock", form_page="/orgs/acme/members/locks")
    assert response.status_code == 302
    assert "Member can sign in again." in client.get("/orgs/acme/members/locks").get_data(as_text=True)
    assert services.accounts.user(member.id).locked_at is None
    [unlocked] = events(services, "account:lockout:unlocked")
    assert unlocked["user_id"] == member.id and unlocked["actor_id"] == people[who].id
    assert unlocked["details"] == {"how": "admin"}


def test_an_admin_cannot_unlock_someone_outside_the_organisation(client, auth, services, org):
    _org, people = org
    auth.sign_in(people["admin"].email, people["admin"].password)
    outsider = people["outsider"]
    post_form(client, f"/orgs/acme/members/{outsider.id}/unlock", form_page="/orgs/acme/members/locks")
    assert "not a member" in client.get("/orgs/acme/members/locks").get_data(as_text=True)
    assert services.accounts.user(outsider.id).locked_at is not None
    assert events(services, "account:lockout:unlocked") == []


def test_collaborators_and_strangers_get_not_found(client, auth, services, org):
    _org, people = org
    collaborator = people["legal"]
    services.accounts.add_member(services.accounts.org("acme"), services.accounts.user(collaborator.id), Role.COLLABORATOR)
    auth.sign_in(collaborator.email, collaborator.password)
    assert client.get("/orgs/acme/members/locks").status_code == 404
    assert client.get("/orgs/acme/members/activity").status_code == 404
    assert client.get("/orgs/nope/members/locks").status_code == 404
    # The ordinary "Page not found", in the page's language, never the service's wording.
    french = client.get("/orgs/acme/members/activity?lang=fr").get_data(as_text=True)
    assert "Page introuvable" in french and "no such organisation" not in french
    assert client.get("/orgs/" + "x" * 500 + "/members/locks").status_code == 404
    page = client.get("/").get_data(as_text=True)
    from tests.conftest import csrf_of

    response = client.post(f"/orgs/acme/members/{people['member'].id}/unlock", data={"csrf_token": csrf_of(page)})
    assert response.status_code == 404
    assert services.accounts.user(people["member"].id).locked_at is not None


def test_the_organisation_log_shows_members_only(client, auth, services, org):
    _org, people = org
    for who in ("member", "outsider"):
        services.events.record_event("account:password:changed", ctx=RequestContext(ip=f"198.51.100.{people[who].id % 200}"), user_id=people[who].id)
    auth.sign_in(people["admin"].email, people["admin"].password)
    html = client.get("/orgs/acme/members/activity?action=account:password:changed").get_data(as_text=True)
    assert f"198.51.100.{people['member'].id % 200}<" in html
    assert f"198.51.100.{people['outsider'].id % 200}<" not in html
    assert people["member"].email in html  # members are named, not numbered
    csv = client.get("/orgs/acme/members/activity/export.csv")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    assert str(people["member"].id) in csv.get_data(as_text=True)
    assert client.get("/orgs/acme/members/activity?page=0").status_code == 400


def test_the_organisation_page_links_its_security_pages_to_the_roles_that_may(client, auth, services, org):
    _org, people = org
    auth.sign_in(people["admin"].email, people["admin"].password)
    html = client.get("/orgs/acme").get_data(as_text=True)
    for path in ("/orgs/acme/members/locks", "/orgs/acme/members/activity", "/orgs/acme/sso"):
        assert f'href="{path}"' in html
    assert 'href="/orgs/acme"' in client.get("/orgs/acme/members/locks").get_data(as_text=True)
    assert "Retour à Acme" in client.get("/orgs/acme/members/activity?lang=fr").get_data(as_text=True)
    # The security overview no longer lists organisations: their page is the one place.
    assert "/members/locks" not in client.get("/security/").get_data(as_text=True)
    auth.logout()
    auth.sign_in(people["member"].email, people["member"].password)
    html = client.get("/orgs/acme").get_data(as_text=True)
    assert "/members/locks" not in html and "/members/activity" not in html and "/orgs/acme/sso" not in html


@pytest.mark.parametrize(("old", "new"), [
    ("/org/", "/orgs/"),
    ("/org/acme/security", "/orgs/acme/members/locks"),
    ("/org/acme/activity", "/orgs/acme/members/activity"),
    ("/org/acme/activity?action=account:password:changed&page=2",
     "/orgs/acme/members/activity?action=account:password:changed&page=2"),
    ("/org/acme/activity/export.csv", "/orgs/acme/members/activity/export.csv"),
    ("/org/nope/security", "/orgs/nope/members/locks"),
])
def test_the_first_addresses_answer_a_permanent_redirect(client, old, new):
    # Signed out too: the redirect says nothing about the organisation; the new page decides.
    response = client.get(old)
    assert response.status_code == 308 and response.headers["Location"] == new


def test_an_unlock_posted_to_the_first_address_is_redirected_with_its_method(client, auth, services, org):
    _org, people = org
    auth.sign_in(people["admin"].email, people["admin"].password)
    member = people["member"]
    from tests.conftest import csrf_of

    token = csrf_of(client.get("/orgs/acme/members/locks").get_data(as_text=True))
    response = client.post(f"/org/acme/members/{member.id}/unlock", data={"csrf_token": token})
    assert response.status_code == 308
    assert response.headers["Location"] == f"/orgs/acme/members/{member.id}/unlock"
    assert services.accounts.user(member.id).locked_at is not None  # the redirect alone unlocks nobody
    # A browser sends the same form to the new address (the test client does not resend a body).
    followed = client.post(response.headers["Location"], data={"csrf_token": token}, follow_redirects=True)
    assert followed.status_code == 200 and "Member can sign in again." in followed.get_data(as_text=True)
    assert services.accounts.user(member.id).locked_at is None
    # Without its token the old address refuses like the new one, and GET is not an unlock.
    assert client.post(f"/org/acme/members/{member.id}/unlock").status_code == 400
    assert client.get(f"/org/acme/members/{member.id}/unlock").status_code == 405


def test_forged_or_odd_unlock_requests_are_refused(client, auth, services, org):
    _org, people = org
    auth.sign_in(people["admin"].email, people["admin"].password)
    member = people["member"]
    assert client.post(f"/orgs/acme/members/{member.id}/unlock").status_code == 400
    assert client.post("/orgs/acme/members/not-a-number/unlock").status_code in (400, 404)
    assert services.accounts.user(member.id).locked_at is not None
