"""A member's linked directory accounts: listed, linked while signed in, unlinked while another way in remains."""

from __future__ import annotations

from idp.federation import FEDERATION
from idp.model import Role
from tests.conftest import csrf_of
from tests.conftest import events
from tests.federation.tenant_server import sign_in_at_tenant


def _csrf(client) -> str:
    return csrf_of(client.get("/").get_data(as_text=True))


def test_a_signed_in_member_links_a_directory_account(client, services, sso, make_user, auth, tenant):
    connection = sso.connect()
    person = make_user("alice@contoso.com")
    services.accounts.add_member(sso.org(), services.users.get(person.id), Role.COLLABORATOR)
    auth.sign_in(person.email, person.password)
    start = client.post(f"/sso/links/add/{connection.id}", data={"csrf_token": _csrf(client)})
    assert start.status_code == 302
    response = sso.deliver(client, sign_in_at_tenant(tenant, start.headers["Location"], "alice"))
    assert response.status_code == 302 and response.headers["Location"] == "/sso/links"
    page = client.get("/sso/links").get_data(as_text=True)
    assert "Contoso directory" in page and "alice" in page
    assert events(services, "federation:link:created")[0]["details"]["via"] == "signed_in"
    # The link now signs this person in, with no code.
    other = client.application.test_client()
    assert sso.sign_in(other, "alice@contoso.com", "alice").headers["Location"] == "/"


def test_a_directory_account_linked_to_someone_else_is_refused(client, services, sso, make_user, auth, tenant):
    connection = sso.connect(jit=True)
    sso.sign_in(client.application.test_client(), "carol@contoso.com", "carol")  # carol's own account, linked
    person = make_user("bob@contoso.com")
    services.accounts.add_member(sso.org(), services.users.get(person.id), Role.COLLABORATOR)
    auth.sign_in(person.email, person.password)
    start = client.post(f"/sso/links/add/{connection.id}", data={"csrf_token": _csrf(client)})
    response = sso.deliver(client, sign_in_at_tenant(tenant, start.headers["Location"], "carol"))
    assert response.status_code == 400 and "already linked to another account" in response.get_data(as_text=True)
    assert services.get(FEDERATION).sql.links_of(person.id) == []


def test_linking_an_unknown_connection_is_a_404(client, services, make_user, auth):
    person = make_user()
    auth.sign_in(person.email, person.password)
    assert client.post("/sso/links/add/999", data={"csrf_token": _csrf(client)}).status_code == 404


def test_the_only_way_in_cannot_be_unlinked(client, services, sso):
    sso.connect(jit=True)
    sso.sign_in(client, "carol@contoso.com", "carol")
    user = services.users.by_email("carol@contoso.com")
    [link] = services.get(FEDERATION).sql.links_of(user.id)
    response = client.post(f"/sso/links/{link.id}/remove", data={"csrf_token": _csrf(client)}, follow_redirects=True)
    assert "This is your only way to sign in" in response.get_data(as_text=True)
    assert len(services.get(FEDERATION).sql.links_of(user.id)) == 1
    assert events(services, "federation:link:removed") == []


def test_with_a_password_the_link_can_be_removed(client, services, sso):
    sso.connect(jit=True)
    sso.sign_in(client, "carol@contoso.com", "carol")
    user = services.users.by_email("carol@contoso.com")
    services.accounts.set_password(user, "a long enough password")
    [link] = services.get(FEDERATION).sql.links_of(user.id)
    response = client.post(f"/sso/links/{link.id}/remove", data={"csrf_token": _csrf(client)}, follow_redirects=True)
    assert "no longer linked" in response.get_data(as_text=True)
    assert services.get(FEDERATION).sql.links_of(user.id) == []
    assert events(services, "federation:link:removed")[0]["user_id"] == user.id


def test_someone_elses_link_cannot_be_removed(client, services, sso, make_user, auth):
    sso.connect(jit=True)
    sso.sign_in(client.application.test_client(), "carol@contoso.com", "carol")
    carol = services.users.by_email("carol@contoso.com")
    [link] = services.get(FEDERATION).sql.links_of(carol.id)
    person = make_user()
    auth.sign_in(person.email, person.password)
    assert client.post(f"/sso/links/{link.id}/remove", data={"csrf_token": _csrf(client)}).status_code == 404
    assert len(services.get(FEDERATION).sql.links_of(carol.id)) == 1


def test_a_person_without_a_password_confirms_it_is_them_through_the_directory(client, services, sso, clock, tenant):
    sso.connect(jit=True)
    sso.sign_in(client, "carol@contoso.com", "carol")
    user = services.users.by_email("carol@contoso.com")
    clock.advance(minutes=20)  # older than security.recent_auth_max_age
    page = client.get("/reauth?next=/sso/links").get_data(as_text=True)
    assert "Confirm with your organisation&#39;s directory" in page or "Confirm with your organisation's directory" in page
    start = client.get("/sso/reauth?next=/sso/links")
    assert start.status_code == 302 and "prompt=login" in start.headers["Location"]
    response = sso.deliver(client, sign_in_at_tenant(tenant, start.headers["Location"], "carol"))
    assert response.status_code == 302 and response.headers["Location"] == "/sso/links"
    [session] = services.sessions.list(user.id)
    assert services.sessions.auth_age(session) == 0
    assert events(services, "account:reauth:succeeded")[0]["details"]["method"] == "fed"


def test_another_directory_account_does_not_confirm_it_is_you(client, services, sso, tenant):
    sso.connect(jit=True)
    sso.sign_in(client.application.test_client(), "bob@contoso.com", "bob")  # bob's account, linked
    sso.sign_in(client, "carol@contoso.com", "carol")
    start = client.get("/sso/reauth")
    response = sso.deliver(client, sign_in_at_tenant(tenant, start.headers["Location"], "bob"))
    assert response.status_code == 400
    assert events(services, "account:reauth:succeeded") == []
    assert events(services, "federation:callback:refused")[0]["details"]["reason"] == "wrong_person"


def test_directory_confirmation_needs_a_linked_account(client, make_user, auth):
    person = make_user()
    auth.sign_in(person.email, person.password)
    assert client.get("/sso/reauth").status_code == 404
    assert "Confirm with your organisation" not in client.get("/reauth").get_data(as_text=True)
