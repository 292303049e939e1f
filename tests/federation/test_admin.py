"""Organisation pages and the `idp sso` command: configuring, testing and turning off a connection."""

from __future__ import annotations

import pytest

from idp.federation import FEDERATION
from idp.model import Role
from idp.stores.tables_federation import FedConnectionRow
from tests.conftest import csrf_of
from tests.conftest import events
from tests.federation.conftest import CONTOSO
from tests.federation.conftest import SECRET


@pytest.fixture
def admin(services, make_user, auth, sso):
    person = make_user("admin@contoso.com")
    org = sso.org()
    services.accounts.add_member(org, services.users.get(person.id), Role.ADMIN)
    auth.sign_in(person.email, person.password)
    return person


def _form(client, url: str, **values):
    page = client.get(url)
    assert page.status_code == 200, page.status_code
    data = {"csrf_token": csrf_of(page.get_data(as_text=True)), "kind": "entra", "name": "Contoso Entra",
            "tenant_id": CONTOSO, "issuer": "", "client_id": "entra-app", "client_secret": SECRET,
            "domains": "contoso.com, Contoso.org", "jit_role": "collaborator", "password_allowed": "y"}
    data.update(values)
    return client.post(url, data={k: v for k, v in data.items() if v is not None})


def test_an_admin_configures_and_tests_a_connection(client, services, admin):
    response = _form(client, "/orgs/contoso/sso/new", jit_enabled="y")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    [connection] = services.get(FEDERATION).sql.all()
    assert connection.domains == ("contoso.com", "contoso.org")
    assert connection.jit_enabled and connection.password_allowed
    with services.db.transaction() as s:
        stored = s.get(FedConnectionRow, connection.id).secret_enc
    assert SECRET not in stored and services.secrets.decrypt_str(stored) == SECRET
    saved = events(services, "federation:connection:saved")[0]
    assert saved["actor_id"] == admin.id and SECRET not in str(saved["details"])

    page = client.get(f"/orgs/contoso/sso/{connection.id}")
    assert "Contoso Entra" in page.get_data(as_text=True) and SECRET not in page.get_data(as_text=True)
    report = client.post(f"/orgs/contoso/sso/{connection.id}/test", data={"csrf_token": csrf_of(page.get_data(as_text=True))})
    text = report.get_data(as_text=True)
    assert report.status_code == 200 and "Everything looks right" in text
    assert "signing key(s)" in text
    assert events(services, "federation:connection:tested")[0]["details"]["ok"] is True

    # Editing without a secret keeps the stored one; turning off is said on the list.
    assert _form(client, f"/orgs/contoso/sso/{connection.id}", client_secret="", name="Renamed").status_code == 302
    assert services.get(FEDERATION).sql.get(connection.id).secret_enc == stored
    listing = client.get("/orgs/contoso/sso")
    client.post(f"/orgs/contoso/sso/{connection.id}/disable", data={"csrf_token": csrf_of(listing.get_data(as_text=True))})
    assert not services.get(FEDERATION).sql.get(connection.id).enabled
    assert len(events(services, "federation:connection:disabled")) == 1


def test_test_connection_says_what_is_wrong(client, services, admin, sso):
    connection = sso.connect(tenant_id="00000000-0000-4000-8000-000000000000")
    page = client.get(f"/orgs/contoso/sso/{connection.id}")
    report = client.post(f"/orgs/contoso/sso/{connection.id}/test", data={"csrf_token": csrf_of(page.get_data(as_text=True))})
    text = report.get_data(as_text=True)
    assert "Something is wrong" in text and "no discovery document" in text
    assert events(services, "federation:connection:tested")[0]["details"]["ok"] is False


@pytest.mark.parametrize(("values", "message"), [
    ({"tenant_id": "contoso"}, "The tenant id is a GUID"),
    ({"domains": "not a domain!"}, "is not a domain name"),
    ({"domains": ""}, "Enter at least one domain."),
    ({"client_id": ""}, "Enter the client id."),
    ({"client_secret": ""}, "Enter the client secret"),
    ({"kind": "oidc", "issuer": "http://insecure.example.com"}, "The issuer is an https:// address."),
    ({"kind": "saml"}, "Not a valid choice"),
    ({"jit_role": "legal_representative"}, "Not a valid choice"),
    ({"cert_key": "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----", "cert_thumbprint": "xyz"},
     "40 hexadecimal characters"),
    ({"cert_key": "not a key"}, "PEM form"),
])
def test_bad_connection_input_gets_a_clear_message(client, services, admin, values, message):
    response = _form(client, "/orgs/contoso/sso/new", **values)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert services.get(FEDERATION).sql.all() == []


def test_a_domain_of_another_connection_is_refused(client, services, admin, sso):
    sso.connect(slug="other", domains="contoso.com")
    response = _form(client, "/orgs/contoso/sso/new")
    assert response.status_code == 400 and "already belongs to another connection" in response.get_data(as_text=True)


def test_only_admins_and_legal_representatives_see_the_pages(client, services, make_user, auth, sso):
    connection = sso.connect()
    person = make_user("member@contoso.com")
    services.accounts.add_member(sso.org(), services.users.get(person.id), Role.COLLABORATOR)
    auth.sign_in(person.email, person.password)
    assert client.get("/orgs/contoso/sso").status_code == 404
    assert client.get(f"/orgs/contoso/sso/{connection.id}").status_code == 404
    assert client.get("/orgs/nope/sso").status_code == 404
    page = client.get("/sso/links")
    assert client.post(f"/orgs/contoso/sso/{connection.id}/disable",
                       data={"csrf_token": csrf_of(page.get_data(as_text=True))}).status_code == 404
    assert services.get(FEDERATION).sql.get(connection.id).enabled


def test_a_legal_representative_may_configure(client, services, make_user, auth, sso):
    person = make_user("legal@contoso.com")
    services.accounts.add_member(sso.org(), services.users.get(person.id), Role.LEGAL_REPRESENTATIVE)
    auth.sign_in(person.email, person.password)
    assert client.get("/orgs/contoso/sso").status_code == 200
    assert "Single sign-on of Contoso" in client.get("/sso/links").get_data(as_text=True)


def test_the_pages_need_a_signed_in_person(client, sso):
    assert client.get("/orgs/contoso/sso").status_code == 302
    assert client.get("/sso/links").status_code == 302
