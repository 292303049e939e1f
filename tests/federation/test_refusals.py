"""Every refused callback ends on a page that says what happened, records why, and signs nobody in."""

from __future__ import annotations

import time

import pytest

from idp.federation import FEDERATION
from tests.conftest import csrf_of
from tests.conftest import events
from tests.federation.conftest import ATTACKER
from tests.federation.conftest import CONTOSO


def _refusal(services) -> str:
    [event] = events(services, "federation:callback:refused")
    return event["details"]["reason"]


def _nobody_signed_in(services) -> bool:
    return events(services, "account:signin:succeeded") == []


@pytest.mark.parametrize(("tamper", "reason", "words"), [
    ({"tid": ATTACKER}, "wrong_tenant", "another organisation"),
    ({"aud": "some-other-app"}, "wrong_audience", "meant for another application"),
    ({"iss": f"https://login.microsoftonline.com/{ATTACKER}/v2.0"}, "wrong_issuer", "did not come from"),
    ({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}, "expired", "has expired"),
    ({"iat": int(time.time()) + 3600, "exp": int(time.time()) + 7200}, "clock_skew", "dated in the future"),
    ({"nonce": "not-the-nonce-we-sent"}, "nonce", "does not belong to this sign-in"),
    ({"oid": None}, "malformed", "incomplete"),
])
def test_a_tampered_id_token_is_refused(client, services, sso, tenant, tamper, reason, words):
    sso.connect(jit=True)
    tenant.misbehave(CONTOSO, id_token=tamper)
    response = sso.sign_in(client, "carol@contoso.com", "carol")
    assert response.status_code == 400
    assert words in response.get_data(as_text=True)
    assert _refusal(services) == reason
    assert _nobody_signed_in(services)
    assert services.users.by_email("carol@contoso.com") is None


def test_a_token_signed_with_a_key_the_tenant_does_not_publish_is_refused(client, services, sso, tenant):
    sso.connect(jit=True)
    tenant.misbehave(CONTOSO, foreign_key=True)
    response = sso.sign_in(client, "carol@contoso.com", "carol")
    assert response.status_code == 400 and "bad signature" in response.get_data(as_text=True)
    assert _refusal(services) == "bad_signature"
    assert _nobody_signed_in(services)


def test_an_expired_token_by_our_clock_is_refused(client, services, sso, clock):
    sso.connect(jit=True)
    answer = sso.at_tenant(sso.start(client, "carol@contoso.com"), "carol")
    clock.advance(hours=2)  # the tenant's tokens live one hour
    response = sso.deliver(client, answer)
    assert response.status_code == 400
    assert _refusal(services) == "expired"


def test_a_replayed_callback_is_refused(client, services, sso):
    sso.connect(jit=True)
    answer = sso.at_tenant(sso.start(client, "carol@contoso.com"), "carol")
    assert sso.deliver(client, answer).status_code == 302
    replay = sso.deliver(client, answer)
    assert replay.status_code == 400
    assert "already been used or has expired" in replay.get_data(as_text=True)
    assert _refusal(services) == "state"
    assert len(events(services, "account:signin:succeeded")) == 1


def test_a_callback_delivered_to_another_browser_is_refused(app, client, services, sso):
    """Login CSRF: an attacker's own callback URL sent to a victim must not sign the victim in."""
    sso.connect(jit=True)
    answer = sso.at_tenant(sso.start(client, "carol@contoso.com"), "carol")
    victim = app.test_client()
    parked = victim.post("/sso/callback", data=answer["params"])
    assert parked.status_code == 200 and 'http-equiv="refresh"' in parked.get_data(as_text=True)
    resume = parked.get_data(as_text=True).split("url=", 1)[1].split('"', 1)[0].replace("&amp;", "&")
    response = victim.get(resume)
    assert response.status_code == 400
    assert _refusal(services) == "state"
    assert _nobody_signed_in(services)


def test_a_form_post_without_cookies_resumes_in_the_same_browser(client, services, sso):
    sso.connect(jit=True)
    answer = sso.at_tenant(sso.start(client, "carol@contoso.com"), "carol")
    cookies = {c.key: c.value for c in client._cookies.values()}
    client._cookies.clear()  # the cross-site POST carries no Lax cookie
    parked = client.post("/sso/callback", data=answer["params"])
    assert parked.status_code == 200
    resume = parked.get_data(as_text=True).split("url=", 1)[1].split('"', 1)[0].replace("&amp;", "&")
    for key, value in cookies.items():
        client.set_cookie(key, value)
    response = client.get(resume)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get(resume).status_code == 400  # parked once


def test_the_person_cancelling_at_the_tenant_gets_a_clear_page(client, services, sso):
    sso.connect(jit=True)
    answer = sso.at_tenant(sso.start(client, "carol@contoso.com"), "carol", cancel=True)
    response = sso.deliver(client, answer)
    assert response.status_code == 400
    assert "You cancelled the sign-in" in response.get_data(as_text=True)
    assert _refusal(services) == "cancelled"


@pytest.mark.parametrize(("error", "description", "words"), [
    ("access_denied", "AADSTS65004: User declined to consent", "did not give its consent"),
    ("unauthorized_client", "AADSTS700016: Application not found in the directory", "refused this application"),
    ("server_error", "AADSTS90002: Tenant not found", "refused this application"),
    ("temporarily_unavailable", "", "cannot be reached"),
])
def test_upstream_errors_end_on_a_page_that_says_what_happened(client, services, sso, error, description, words):
    sso.connect(jit=True)
    start = sso.start(client, "carol@contoso.com")
    state = start.headers["Location"].split("state=", 1)[1].split("&", 1)[0]
    response = client.get("/sso/callback", query_string={"state": state, "error": error, "error_description": description})
    assert response.status_code in (400, 503)
    assert words in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)
    assert len(events(services, "federation:callback:refused")) == 1


def test_a_disabled_connection_refuses_its_callback(client, services, sso):
    connection = sso.connect(jit=True)
    answer = sso.at_tenant(sso.start(client, "carol@contoso.com"), "carol")
    services.get(FEDERATION).set_enabled(connection, False)
    response = sso.deliver(client, answer)
    assert response.status_code == 400 and "turned off" in response.get_data(as_text=True)
    assert _refusal(services) == "disabled"


@pytest.mark.parametrize("query", [{}, {"state": "x" * 500}, {"state": "unknown", "code": "abc"}, {"resume": "nope"}])
def test_bad_callbacks_are_clear_pages(client, services, query):
    response = client.get("/sso/callback", query_string=query)
    assert response.status_code == 400
    assert "already been used or has expired" in response.get_data(as_text=True)


def test_the_callback_refuses_a_tenant_that_does_not_answer(client, services, sso, tenant, settings):
    connection = sso.connect(jit=True)
    # Point the connection at a tenant id the server does not host: discovery fails.
    services.get(FEDERATION).sql.save_connection(
        connection_id=connection.id, org_id=connection.org_id, domains=["contoso.com"], now=services.clock.now(),
        tenant_id="00000000-0000-4000-8000-000000000000",
    )
    page = client.get("/sso")
    response = client.post("/sso", data={"csrf_token": csrf_of(page.get_data(as_text=True)), "login": "carol@contoso.com"})
    assert response.status_code == 503
    assert "cannot be reached" in response.get_data(as_text=True)


def test_a_form_post_for_an_unknown_state_is_refused_at_once(app, services):
    stranger = app.test_client()
    response = stranger.post("/sso/callback", data={"state": "made-up", "code": "x" * 5000})
    assert response.status_code == 400
    assert _refusal(services) == "state"
