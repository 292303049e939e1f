"""Which e-mail goes where: the SSO button, identifier-first routing, and passwords for SSO-only domains."""

from __future__ import annotations

from typing import Any

import pytest

from idp.federation import FEDERATION
from tests.conftest import csrf_of
from tests.conftest import events


def _post_sso(client, login: str):
    page = client.get("/sso")
    return client.post("/sso", data={"csrf_token": csrf_of(page.get_data(as_text=True)), "login": login})


def test_the_sign_in_page_offers_sso(client):
    page = client.get("/login").get_data(as_text=True)
    assert 'href="/sso"' in page and "Sign in with SSO" in page
    assert "Se connecter avec le SSO" in client.get("/login?lang=fr").get_data(as_text=True)


@pytest.mark.parametrize(("login", "message"), [
    ("", "Enter your e-mail address."),
    ("not-an-email", "Enter a valid e-mail address."),
    ("a@b@c", "Enter a valid e-mail address."),
    ("x" * 400 + "@contoso.com", "This e-mail address is too long."),
    ("someone@nowhere-sso.com", "No organisation uses single sign-on for this e-mail domain."),
])
def test_bad_input_on_the_sso_page_gets_a_clear_message(client, sso, login, message):
    sso.connect()
    response = _post_sso(client, login)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_a_disabled_connection_is_said_so(client, services, sso):
    services.get(FEDERATION).set_enabled(sso.connect(), False)
    response = _post_sso(client, "carol@contoso.com")
    assert response.status_code == 400 and "turned off" in response.get_data(as_text=True)


def test_the_sso_form_needs_its_csrf_token(client, sso):
    sso.connect()
    response = client.post("/sso", data={"login": "carol@contoso.com"})
    assert response.status_code == 400 and "This form has expired" in response.get_data(as_text=True)


def test_identifier_first_sends_an_sso_only_domain_to_its_tenant_and_keeps_next(client, services, sso, auth, tenant):
    sso.connect(jit=True, password_allowed=False)
    response = auth.identify("carol@contoso.com", next_url="/sso/links")
    assert response.status_code == 302 and response.headers["Location"].startswith(tenant.issuer(sso_tenant()))
    from tests.federation.tenant_server import sign_in_at_tenant

    answer = sign_in_at_tenant(tenant, response.headers["Location"], "carol")
    final = sso.deliver(client, answer)
    assert final.status_code == 302 and final.headers["Location"] == "/sso/links"


def sso_tenant() -> str:
    from tests.federation.conftest import CONTOSO

    return CONTOSO


def test_identifier_first_leaves_other_domains_on_the_password_page(client, sso, auth):
    sso.connect(password_allowed=True)
    assert auth.identify("carol@contoso.com").headers["Location"] == "/login/password"
    assert auth.identify("someone@example.com").headers["Location"] == "/login/password"


def test_a_password_is_refused_for_an_sso_only_domain(client, services, sso, auth, make_user):
    person = make_user("bob@contoso.com")
    sso.connect(password_allowed=False)
    auth.identify("bob@contoso.com")
    response = auth.password(person.password)
    assert response.status_code == 401
    assert "requires single sign-on" in response.get_data(as_text=True)
    assert events(services, "account:signin:succeeded") == []
    assert len(events(services, "federation:password:refused")) == 1
    assert services.sessions.list(person.id) == []


def test_the_sso_requirement_is_decided_at_the_email_step_and_applies_to_sign_ins_started_after(
    client, services, sso, auth, make_user,
):
    # The e-mail step decides (and routes); the flow keeps the decision, so the password step
    # asks the database nothing. A sign-in already past its e-mail step keeps its decision.
    person = make_user("bob@contoso.com")
    connection = sso.connect(password_allowed=True)
    assert auth.identify(person.email).headers["Location"] == "/login/password"
    services.get(FEDERATION).save_connection(
        sso.org("contoso"), sso_input(connection, password_allowed=False), connection_id=connection.id
    )
    assert auth.password(person.password).headers["Location"] == "/"
    auth.logout()
    assert auth.identify(person.email).status_code == 302  # now sent to the directory
    response = auth.password(person.password)
    assert response.status_code == 401 and "requires single sign-on" in response.get_data(as_text=True)
    assert len(events(services, "federation:password:refused")) == 1


def sso_input(connection: Any, **changes: Any) -> Any:
    from idp.federation.connections import ConnectionInput
    from tests.federation.conftest import CONTOSO
    from tests.federation.conftest import SECRET

    values = dict(
        kind="entra", name=connection.name, client_id="entra-app", domains="contoso.com", tenant_id=CONTOSO,
        issuer="", client_secret=SECRET, jit_enabled=False, jit_role="collaborator", password_allowed=True,
    )
    return ConnectionInput(**(values | changes))


def test_a_password_still_works_where_the_connection_allows_it(client, services, sso, auth, make_user):
    person = make_user("bob@contoso.com")
    sso.connect(password_allowed=True)
    response = auth.sign_in(person.email, person.password)
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_unknown_error_reasons_are_not_pages(client):
    assert client.get("/sso/error/bogus").status_code == 404
    assert client.get("/sso/error/unreachable").status_code == 503


def test_the_code_page_without_a_pending_link_sends_back_to_the_start(client):
    response = client.get("/sso/verify")
    assert response.status_code == 302 and response.headers["Location"] == "/sso"
