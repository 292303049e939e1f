"""A linked directory account is shown by what its owner recognises (e-mail, user name, name),
the directory's subject id only when it gives none; old links labelled with the subject id take
a readable label at their next sign-in."""

from __future__ import annotations

from idp.federation import FEDERATION
from idp.model import Role
from tests.conftest import csrf_of
from tests.federation.conftest import CONTOSO
from tests.federation.conftest import FABRIKAM
from tests.federation.tenant_server import sign_in_at_tenant


def _cell(text: str) -> str:
    """A table cell holding exactly `text` (cells carry their column's name for small screens)."""
    return f'">{text}</td>'


def _links(services, user_id):
    return services.get(FEDERATION).sql.links_of(user_id)


def _fabrikam(sso, **kw):
    return sso.connect(slug="fabrikam", tenant_id=FABRIKAM, domains="fabrikam.com", **kw)


def test_a_link_is_labelled_with_the_directory_e_mail(client, services, sso):
    sso.connect(jit=True)
    sso.sign_in(client, "alice@contoso.com", "alice")
    user = services.users.by_email("alice@contoso.com")
    [link] = _links(services, user.id)
    # The tenant also gives preferred_username "alice" and name "Alice Contoso": the e-mail comes first.
    assert link.label == "alice@contoso.com"
    assert _cell("alice@contoso.com") in client.get("/sso/links").get_data(as_text=True)


def test_a_link_labelled_with_its_subject_takes_the_e_mail_at_the_next_sign_in(client, services, sso, make_user, clock):
    connection = _fabrikam(sso)
    person = make_user("dana@fabrikam.com")
    # Linked before userinfo was asked: the ID token gave no e-mail or name, so the label was the oid.
    old = services.get(FEDERATION).sql.add_link(
        user_id=person.id, connection_id=connection.id, namespace=f"entra:{FABRIKAM}", subject="oid-dana-0101",
        label="oid-dana-0101", now=clock.now(),
    )
    response = sso.sign_in(client, "dana@fabrikam.com", "dana")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    [link] = _links(services, person.id)
    assert link.id == old.id and link.label == "dana@fabrikam.com"
    page = client.get("/sso/links").get_data(as_text=True)
    assert _cell("dana@fabrikam.com") in page and "oid-dana-0101" not in page


def test_a_readable_label_is_kept(client, services, sso, make_user, clock):
    connection = sso.connect()
    person = make_user("alice@contoso.com")
    services.get(FEDERATION).sql.add_link(
        user_id=person.id, connection_id=connection.id, namespace=f"entra:{CONTOSO}", subject="oid-alice-0001",
        label="alice", now=clock.now(),
    )
    assert sso.sign_in(client, "alice@contoso.com", "alice").headers["Location"] == "/"
    [link] = _links(services, person.id)
    assert link.label == "alice"


def test_the_subject_id_is_the_label_only_when_the_directory_gives_nothing(client, services, sso, make_user, auth,
                                                                         tenant):
    connection = _fabrikam(sso)
    person = make_user("frank@fabrikam.com")
    services.accounts.add_member(sso.org("fabrikam"), services.users.get(person.id), Role.COLLABORATOR)
    auth.sign_in(person.email, person.password)
    token = csrf_of(client.get("/sso/links").get_data(as_text=True))
    start = client.post(f"/sso/links/add/{connection.id}", data={"csrf_token": token})
    # No e-mail, name or user name for this account, in the ID token or at userinfo.
    response = sso.deliver(client, sign_in_at_tenant(tenant, start.headers["Location"], "faceless"))
    assert response.status_code == 302 and response.headers["Location"] == "/sso/links"
    [link] = _links(services, person.id)
    assert link.label == "oid-faceless-0103"
    assert _cell("oid-faceless-0103") in client.get("/sso/links").get_data(as_text=True)
