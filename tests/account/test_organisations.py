"""Organisation pages: create, members, roles, remove, leave, hand over, delete, bad input."""

from __future__ import annotations

import pytest

from idp.model import RequestContext
from idp.model import Role
from tests.account.conftest import post
from tests.conftest import csrf_of
from tests.conftest import events

CTX = RequestContext(ip="203.0.113.9")
LR, ADMIN, COLLAB = Role.LEGAL_REPRESENTATIVE, Role.ADMIN, Role.COLLABORATOR


@pytest.fixture
def acme(services, make_user):
    people = {name: make_user(display_name=name.title()) for name in ("legal", "admin", "member", "outsider")}
    org = services.organisations.create(services.accounts.user(people["legal"].id), "acme", "Acme", CTX)
    for name, role in (("admin", ADMIN), ("member", COLLAB)):
        services.accounts.add_member(org, services.accounts.user(people[name].id), role)
    return people


def act(client, path, data=None):
    return post(client, path, data, page="/orgs/acme")


def test_creating_an_organisation_makes_its_creator_legal_representative(client, auth, services, make_user):
    person = make_user()
    auth.sign_in(person.email, person.password)
    response = post(client, "/orgs/", {"name": "  Beta   Corp ", "slug": "beta"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/orgs/beta")
    html = client.get("/orgs/beta").get_data(as_text=True)
    assert ">Legal representative</td>" in html and "Beta Corp" in html
    [created] = events(services, "account:organisation:created")
    assert created["actor_id"] == person.id and created["details"] == {"slug": "beta"}
    assert ">Beta Corp</a></td>" in client.get("/orgs/").get_data(as_text=True)


@pytest.mark.parametrize(("data", "message"), [
    ({"name": "", "slug": "beta"}, "Enter the organisation"),
    ({"name": "X" * 2000, "slug": "beta"}, "too long"),
    ({"name": "Beta", "slug": ""}, "lower-case letters"),
    ({"name": "Beta", "slug": "Not A Slug!"}, "lower-case letters"),
    ({"name": "Beta", "slug": "invitations"}, "lower-case letters"),
    ({"name": "Beta", "slug": "acme"}, "is taken"),
])
def test_bad_input_to_create_is_said(client, auth, acme, data, message):
    auth.sign_in(acme["outsider"].email, acme["outsider"].password)
    response = post(client, "/orgs/", data)
    assert response.status_code == 400 and message in response.get_data(as_text=True).replace("&#39;", "'")


def test_a_wrong_csrf_token_changes_nothing(client, auth, acme, services):
    auth.sign_in(acme["legal"].email, acme["legal"].password)
    client.get("/orgs/acme")
    response = client.post(f"/orgs/acme/members/{acme['member'].id}/remove", data={"csrf_token": "forged"})
    assert response.status_code == 400
    assert len(services.organisations.view(services.accounts.user(acme["legal"].id), "acme").members) == 3


def test_members_see_each_other_admins_also_see_second_factors(client, auth, acme):
    auth.sign_in(acme["member"].email, acme["member"].password)
    html = client.get("/orgs/acme").get_data(as_text=True)
    assert ">Admin</td>" in html and ">Legal</td>" in html and "Second factor" not in html
    assert "Invite someone" not in html and "/remove" not in html
    auth.logout()
    auth.sign_in(acme["admin"].email, acme["admin"].password)
    html = client.get("/orgs/acme").get_data(as_text=True)
    assert '<td data-label="Second factor">None</td>' in html and "Invite someone" in html
    assert "/orgs/acme/members/locks" in html and "/orgs/acme/members/activity" in html and "/orgs/acme/sso" in html


def test_strangers_get_not_found(client, auth, acme):
    auth.sign_in(acme["outsider"].email, acme["outsider"].password)
    assert client.get("/orgs/acme").status_code == 404
    assert client.get("/orgs/nope").status_code == 404
    token = csrf_of(client.get("/orgs/").get_data(as_text=True))
    assert client.post(f"/orgs/acme/members/{acme['member'].id}/remove", data={"csrf_token": token}).status_code == 404


def test_a_collaborator_is_refused_with_a_403(client, auth, acme, services):
    auth.sign_in(acme["member"].email, acme["member"].password)
    response = act(client, f"/orgs/acme/members/{acme['admin'].id}/remove")
    assert response.status_code == 403 and "does not allow" in response.get_data(as_text=True)
    response = act(client, "/orgs/acme/invite", {"email": "new@example.com", "role": "collaborator"})
    assert response.status_code == 403
    assert events(services, "account:organisation:member_removed") == []


def test_change_role_and_remove(client, auth, acme, services):
    auth.sign_in(acme["admin"].email, acme["admin"].password)
    member = acme["member"]
    assert act(client, f"/orgs/acme/members/{member.id}/role", {"role": "admin"}).status_code == 302
    [changed] = events(services, "account:organisation:role_changed")
    assert changed["user_id"] == member.id and changed["details"] == {"from": "collaborator", "to": "admin"}
    assert act(client, f"/orgs/acme/members/{member.id}/role", {"role": "owner"}).status_code == 400
    assert act(client, f"/orgs/acme/members/{member.id}/remove").status_code == 302
    assert [m.user_id for m in services.organisations.mine(services.accounts.user(member.id))] == []
    [removed] = events(services, "account:organisation:member_removed")
    assert removed["actor_id"] == acme["admin"].id and removed["user_id"] == member.id


def test_an_admin_cannot_touch_the_legal_representative(client, auth, acme):
    auth.sign_in(acme["admin"].email, acme["admin"].password)
    assert act(client, f"/orgs/acme/members/{acme['legal'].id}/remove").status_code == 403
    assert act(client, f"/orgs/acme/members/{acme['legal'].id}/role", {"role": "collaborator"}).status_code == 403
    assert act(client, f"/orgs/acme/members/{acme['member'].id}/role", {"role": "legal_representative"}).status_code == 403


def test_another_organisations_member_is_not_found(client, auth, acme, services, make_user):
    other = make_user()
    services.organisations.create(services.accounts.user(other.id), "other", "Other", CTX)
    auth.sign_in(acme["legal"].email, acme["legal"].password)
    assert act(client, f"/orgs/acme/members/{other.id}/remove").status_code == 404
    assert act(client, "/orgs/acme/members/999999/role", {"role": "admin"}).status_code == 404


def test_the_last_legal_representative_cannot_leave_but_hands_over(client, auth, acme, services):
    auth.sign_in(acme["legal"].email, acme["legal"].password)
    assert "only legal representative" in client.get("/orgs/acme").get_data(as_text=True)
    assert act(client, "/orgs/acme/leave").status_code == 403
    assert act(client, f"/orgs/acme/members/{acme['member'].id}/hand-over").status_code == 302
    roles = {u.id: r for u, r in services.organisations.orgs.members(services.accounts.org("acme").id)}
    assert roles[acme["member"].id] is LR and roles[acme["legal"].id] is ADMIN
    [handed] = events(services, "account:organisation:handed_over")
    assert handed["actor_id"] == acme["legal"].id and handed["user_id"] == acme["member"].id
    response = act(client, "/orgs/acme/leave")
    assert response.status_code == 302 and response.headers["Location"].endswith("/orgs/")
    assert client.get("/orgs/acme").status_code == 404
    assert len(events(services, "account:organisation:left")) == 1


def test_an_admin_cannot_hand_over(client, auth, acme):
    auth.sign_in(acme["admin"].email, acme["admin"].password)
    assert act(client, f"/orgs/acme/members/{acme['member'].id}/hand-over").status_code == 403


def test_deleting_asks_a_recent_sign_in_and_the_box(client, auth, acme, services, clock):
    auth.sign_in(acme["legal"].email, acme["legal"].password)
    clock.advance(seconds=services.settings.security.recent_auth_max_age + 5)
    assert client.get("/orgs/acme/delete").status_code == 302
    clock.advance(seconds=-services.settings.security.recent_auth_max_age - 5)
    response = post(client, "/orgs/acme/delete", {})
    assert response.status_code == 400 and "Tick the box" in response.get_data(as_text=True)
    response = post(client, "/orgs/acme/delete", {"confirm": "y"})
    assert response.status_code == 302
    assert client.get("/orgs/acme").status_code == 404
    assert services.accounts.user(acme["member"].id) is not None
    [deleted] = events(services, "account:organisation:deleted")
    assert deleted["details"] == {"slug": "acme", "members": 3}


def test_an_admin_cannot_delete(client, auth, acme):
    auth.sign_in(acme["admin"].email, acme["admin"].password)
    assert client.get("/orgs/acme/delete").status_code == 403


def test_the_organisation_activity_lists_its_changes(client, auth, acme):
    auth.sign_in(acme["legal"].email, acme["legal"].password)
    act(client, f"/orgs/acme/members/{acme['member'].id}/role", {"role": "admin"})
    html = client.get("/orgs/acme/members/activity").get_data(as_text=True)
    assert "Role in the organisation changed" in html


def _row(html, person):
    """The members table's row of `person` (their e-mail is in it)."""
    members = html.split('class="members"', 1)[1].split("</table>", 1)[0]
    return next(row for row in members.split("<tr>") if f">{person.email}</td>" in row)


def test_an_administrator_sees_no_action_the_service_would_refuse(client, auth, acme, services):
    auth.sign_in(acme["admin"].email, acme["admin"].password)
    html = client.get("/orgs/acme").get_data(as_text=True)
    legal, own, member = _row(html, acme["legal"]), _row(html, acme["admin"]), _row(html, acme["member"])
    assert "<form" not in legal and "<form" not in own
    assert f"/members/{acme['member'].id}/remove" in member and f"/members/{acme['member'].id}/role" in member
    # The roles offered are the ones the service gives: not legal representative, nor hand over.
    assert 'value="admin"' in member and 'value="legal_representative"' not in member and "hand-over" not in member
    invite_form = html.split('action="/orgs/acme/invite"', 1)[1].split("</form>", 1)[0]
    assert 'value="collaborator"' in invite_form and 'value="legal_representative"' not in invite_form
    # And the service still refuses what the page does not offer.
    assert act(client, f"/orgs/acme/members/{acme['legal'].id}/remove").status_code == 403
    assert act(client, f"/orgs/acme/members/{acme['legal'].id}/role", {"role": "admin"}).status_code == 403
    assert act(client, f"/orgs/acme/members/{acme['admin'].id}/remove").status_code == 403
    assert events(services, "account:organisation:member_removed") == []
    assert events(services, "account:organisation:role_changed") == []


def test_the_legal_representative_sees_what_they_may_do_on_each_row(client, auth, acme, services):
    auth.sign_in(acme["legal"].email, acme["legal"].password)
    html = client.get("/orgs/acme").get_data(as_text=True)
    assert "<form" not in _row(html, acme["legal"])  # oneself: leave instead
    member = _row(html, acme["member"])
    assert "hand-over" in member and 'value="legal_representative"' in member and "/remove" in member
    invite_form = html.split('action="/orgs/acme/invite"', 1)[1].split("</form>", 1)[0]
    assert 'value="legal_representative"' in invite_form
    # A second legal representative: the first may now demote or remove them, and hand over to
    # them no longer (they have the role).
    services.accounts.add_member(services.accounts.org("acme"), services.accounts.user(acme["admin"].id), LR)
    second = _row(client.get("/orgs/acme").get_data(as_text=True), acme["admin"])
    assert "/remove" in second and 'value="collaborator"' in second and "hand-over" not in second
    assert act(client, f"/orgs/acme/members/{acme['admin'].id}/hand-over").status_code == 403


def test_a_collaborator_sees_no_action_column(client, auth, acme):
    auth.sign_in(acme["member"].email, acme["member"].password)
    html = client.get("/orgs/acme").get_data(as_text=True)
    members = html.split('class="members"', 1)[1].split("</table>", 1)[0]
    assert "<form" not in members and "Action" not in members
