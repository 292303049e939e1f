"""Signing in through an Entra-like tenant: links by (tid, oid), never by e-mail; sessions record `fed`."""

from __future__ import annotations

from idp.federation import FEDERATION
from tests.conftest import csrf_of
from tests.conftest import events
from tests.conftest import outbox
from tests.federation.conftest import CONTOSO


def _signed_in(client) -> bool:
    return client.get("/").status_code == 200


def test_first_sign_in_creates_the_member_just_in_time(client, services, sso):
    connection = sso.connect(jit=True)
    response = sso.sign_in(client, "carol@contoso.com", "carol")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert _signed_in(client)
    user = services.users.by_email("carol@contoso.com")
    assert user is not None and user.password_hash is None and user.display_name == "Carol Contoso"
    assert [m.org_slug for m in services.accounts.memberships(user)] == ["contoso"]
    [link] = services.get(FEDERATION).sql.links_of(user.id)
    assert (link.namespace, link.subject) == (f"entra:{CONTOSO}", "oid-carol-0003")
    [session] = services.sessions.list(user.id)
    assert "fed" in session.amr
    assert session.extra["connection"] == connection.id
    assert events(services, "federation:user:created")[0]["user_id"] == user.id
    assert events(services, "federation:link:created")[0]["details"]["via"] == "jit"
    assert events(services, "federation:signin:succeeded")[0]["user_id"] == user.id
    assert events(services, "account:signin:succeeded")[0]["details"]["amr"] == session.amr


def test_the_upstream_amr_is_kept_and_the_link_is_used_next_time(client, services, sso, app):
    sso.connect(jit=True)
    sso.sign_in(client, "alice@contoso.com", "alice")
    user = services.users.by_email("alice@contoso.com")
    other = app.test_client()
    response = sso.sign_in(other, "alice@contoso.com", "alice")
    assert response.status_code == 302
    sessions = services.sessions.list(user.id)
    assert len(sessions) == 2
    assert all({"fed", "pwd", "mfa"} <= set(s.amr) for s in sessions)
    assert len(events(services, "federation:user:created")) == 1
    assert len(services.get(FEDERATION).sql.links_of(user.id)) == 1


def test_an_existing_account_is_linked_only_after_the_mailbox_code(client, services, sso, make_user):
    sso.connect(jit=True)
    person = make_user("alice@contoso.com")
    response = sso.sign_in(client, "alice@contoso.com", "alice")
    assert response.status_code == 302 and response.headers["Location"] == "/sso/verify"
    assert not _signed_in(client)
    assert services.get(FEDERATION).sql.links_of(person.id) == []
    [mail] = outbox(services)
    assert mail["to"] == "alice@contoso.com"
    code = next(line.strip() for line in mail["body"].splitlines() if line.strip().isdigit())
    page = client.get("/sso/verify")
    token = csrf_of(page.get_data(as_text=True))
    wrong = client.post("/sso/verify", data={"csrf_token": token, "code": "00000000" if code != "00000000" else "11111111"})
    assert wrong.status_code == 400 and "This code is not right" in wrong.get_data(as_text=True)
    bad = client.post("/sso/verify", data={"csrf_token": token, "code": "abc"})
    assert bad.status_code == 400
    right = client.post("/sso/verify", data={"csrf_token": token, "code": code})
    assert right.status_code == 302 and right.headers["Location"] == "/"
    assert _signed_in(client)
    [link] = services.get(FEDERATION).sql.links_of(person.id)
    assert link.subject == "oid-alice-0001"
    assert events(services, "federation:link:created")[0]["details"]["via"] == "mailbox_code"
    assert events(services, "federation:link:code_sent")[0]["user_id"] == person.id


def test_an_attacker_tenant_claiming_a_local_e_mail_does_not_take_the_account(client, services, sso, make_user):
    victim = make_user("victim@contoso.com")
    sso.connect(jit=True)
    # The attacker runs an organisation of their own, with a connection to a tenant they control.
    sso.connect(slug="attacker", tenant_id="0badc0de-0000-4000-8000-00000000dead", client_id="attacker-app",
                domains="attacker.com", jit=True)
    page = client.get("/sso")
    response = client.post("/sso", data={"csrf_token": csrf_of(page.get_data(as_text=True)), "login": "mallory@attacker.com"})
    result = sso.deliver(client, sso.at_tenant(response, "mallory"))
    assert result.status_code == 302 and result.headers["Location"] == "/sso/verify"
    assert not _signed_in(client)
    assert services.get(FEDERATION).sql.links_of(victim.id) == []
    assert services.sessions.list(victim.id) == []
    # The code goes to the real owner's mailbox, never to the attacker.
    assert [m["to"] for m in outbox(services)] == ["victim@contoso.com"]
    page = client.get("/sso/verify")
    token = csrf_of(page.get_data(as_text=True))
    for guess in ("12345678", "87654321", "00000000", "11111111", "22222222"):
        client.post("/sso/verify", data={"csrf_token": token, "code": guess})
    assert services.get(FEDERATION).sql.links_of(victim.id) == []
    assert services.sessions.list(victim.id) == []
    assert len(events(services, "federation:callback:refused")) >= 5


def test_without_just_in_time_an_unknown_member_is_refused(client, services, sso):
    sso.connect(jit=False)
    response = sso.sign_in(client, "carol@contoso.com", "carol")
    assert response.status_code == 400
    assert "does not create accounts on first sign-in" in response.get_data(as_text=True)
    assert services.users.by_email("carol@contoso.com") is None
    assert events(services, "federation:callback:refused")[0]["details"]["reason"] == "no_account"


def test_just_in_time_never_creates_an_address_outside_the_domains(client, services, sso):
    sso.connect(jit=True)
    response = sso.sign_in(client, "carol@contoso.com", "outsider")
    assert response.status_code == 400
    assert services.users.by_email("someone@elsewhere.com") is None
    assert events(services, "federation:callback:refused")[0]["details"]["reason"] == "jit_domain"


def test_sign_in_returns_to_next(client, services, sso):
    sso.connect(jit=True)
    response = sso.sign_in(client, "carol@contoso.com", "carol", next_url="/sso/links")
    assert response.status_code == 302 and response.headers["Location"] == "/sso/links"


def test_generic_oidc_connection_through_authlib(client, services, sso, tenant):
    issuer = tenant.issuer(CONTOSO)
    sso.connect(kind="oidc", tenant_id="", issuer=issuer, client_id="generic-app", jit=True)
    answer = sso.at_tenant(sso.start(client, "bob@contoso.com"), "bob")
    assert answer["method"] == "GET"  # query response mode
    response = sso.deliver(client, answer)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    user = services.users.by_email("bob@contoso.com")
    [link] = services.get(FEDERATION).sql.links_of(user.id)
    assert (link.namespace, link.subject) == (issuer, "bob")


def test_an_entra_connection_with_a_certificate_instead_of_a_secret(client, services, sso, certificate):
    from idp.federation.service import ConnectionInput

    connection = services.get(FEDERATION).save_connection(sso.org(), ConnectionInput(
        kind="entra", name="Contoso (certificate)", client_id="cert-app", domains="contoso.com", tenant_id=CONTOSO,
        cert_key=certificate["pem"], cert_thumbprint=certificate["thumbprint"], jit_enabled=True,
    ))
    assert connection.secret_enc is None and certificate["pem"] not in (connection.cert_key_enc or "")
    response = sso.sign_in(client, "carol@contoso.com", "carol")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert services.users.by_email("carol@contoso.com") is not None


def test_the_ca_bundle_setting_decides_not_the_environment(client, services, sso, monkeypatch):
    # requests would let these variables replace the configured `verify` without a word.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/nonexistent/ca.pem")
    monkeypatch.setenv("CURL_CA_BUNDLE", "/nonexistent/ca.pem")
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    sso.connect(jit=True)
    response = sso.sign_in(client, "carol@contoso.com", "carol")
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_a_tenant_whose_certificate_is_not_trusted_is_refused_clearly(client, services, sso, settings_overrides):
    services.get(FEDERATION).http.verify = True  # the system's CAs only: the tenant's cert is self-signed
    sso.connect(jit=True)
    page = client.get("/sso")
    response = client.post("/sso", data={"csrf_token": csrf_of(page.get_data(as_text=True)), "login": "carol@contoso.com"})
    assert response.status_code == 503
    assert "cannot be reached" in response.get_data(as_text=True)
