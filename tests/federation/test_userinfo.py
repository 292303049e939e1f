"""A directory whose ID token carries no e-mail or name (they are only at its userinfo endpoint):
the first arrival is completed from userinfo, checked to describe the same `sub`, and refused
clearly when userinfo disagrees or fails."""

from __future__ import annotations

import pytest

from idp.federation import FEDERATION
from tests.conftest import events
from tests.federation.conftest import FABRIKAM


def _connect(sso, tenant, kind: str, **kw):
    if kind == "entra":
        return sso.connect(slug="fabrikam", tenant_id=FABRIKAM, domains="fabrikam.com", **kw)
    return sso.connect(slug="fabrikam", kind="oidc", tenant_id="", issuer=tenant.issuer(FABRIKAM),
                       client_id="generic-app", domains="fabrikam.com", **kw)


def _refusal(services) -> str:
    [event] = events(services, "federation:callback:refused")
    return event["details"]["reason"]


@pytest.mark.parametrize("kind", ["entra", "oidc"])
def test_the_first_arrival_takes_the_e_mail_and_name_from_userinfo(client, services, sso, tenant, kind):
    _connect(sso, tenant, kind, jit=True)
    response = sso.sign_in(client, "dana@fabrikam.com", "dana")
    assert response.status_code == 302 and response.headers["Location"] == "/", response.get_data(as_text=True)[:300]
    user = services.users.by_email("dana@fabrikam.com")
    assert user is not None and user.display_name == "Dana Fabrikam"
    [link] = services.get(FEDERATION).sql.links_of(user.id)
    assert link.label == "dana@fabrikam.com"
    # The identity and the upstream amr still come from the ID token.
    assert link.subject == ("oid-dana-0101" if kind == "entra" else "dana")
    [session] = services.sessions.list(user.id)
    assert {"fed", "pwd"} <= set(session.amr)
    assert "dana@fabrikam.com" in client.get("/sso/links").get_data(as_text=True)


def test_a_userinfo_answer_about_another_subject_is_refused(client, services, sso, tenant):
    _connect(sso, tenant, "entra", jit=True)
    tenant.misbehave(FABRIKAM, userinfo={"sub": "erin"})
    response = sso.sign_in(client, "dana@fabrikam.com", "dana")
    assert response.status_code == 400
    assert "described a different person from the one who signed in" in response.get_data(as_text=True)
    assert _refusal(services) == "userinfo_subject"
    assert services.users.by_email("dana@fabrikam.com") is None
    assert events(services, "account:signin:succeeded") == []


@pytest.mark.parametrize("status", [401, 500])
def test_a_failing_userinfo_endpoint_is_a_clear_refusal(client, services, sso, tenant, status):
    _connect(sso, tenant, "oidc", jit=True)
    tenant.misbehave(FABRIKAM, userinfo_status=status)
    response = sso.sign_in(client, "dana@fabrikam.com", "dana")
    assert response.status_code == 400
    assert "did not give the e-mail address and name of your account" in response.get_data(as_text=True)
    assert _refusal(services) == "userinfo_failed"
    assert services.users.by_email("dana@fabrikam.com") is None
    assert events(services, "account:signin:succeeded") == []


def test_an_unreachable_userinfo_endpoint_says_so(client, services, sso, tenant, monkeypatch):
    _connect(sso, tenant, "entra", jit=True)
    http = services.get(FEDERATION).http
    real = http.userinfo
    # Discovery and keys are fetched as usual; only the userinfo address points at a closed port.
    monkeypatch.setattr(http, "userinfo", lambda meta, token: real(
        meta | {"userinfo_endpoint": "https://127.0.0.1:9/me"}, token))
    response = sso.sign_in(client, "dana@fabrikam.com", "dana")
    assert response.status_code == 503 and "cannot be reached" in response.get_data(as_text=True)
    assert _refusal(services) == "unreachable"
    assert services.users.by_email("dana@fabrikam.com") is None


def test_the_id_token_wins_over_userinfo(client, services, sso, tenant):
    _connect(sso, tenant, "oidc", jit=True)
    tenant.misbehave(FABRIKAM, id_token={"email": "dana@fabrikam.com"},
                     userinfo={"email": "erin@fabrikam.com", "name": "Dana from userinfo"})
    assert sso.sign_in(client, "dana@fabrikam.com", "dana").status_code == 302
    assert services.users.by_email("erin@fabrikam.com") is None
    user = services.users.by_email("dana@fabrikam.com")
    assert user is not None and user.display_name == "Dana from userinfo"  # the ID token had no name


def test_userinfo_never_supplies_the_identity(client, services, sso, tenant):
    # userinfo of this tenant does carry an oid; an ID token without one is still refused.
    _connect(sso, tenant, "entra", jit=True)
    tenant.misbehave(FABRIKAM, id_token={"oid": None})
    response = sso.sign_in(client, "dana@fabrikam.com", "dana")
    assert response.status_code == 400 and _refusal(services) == "malformed"
    assert services.users.by_email("dana@fabrikam.com") is None


def test_a_labelled_link_signs_in_without_asking_userinfo(client, services, sso, tenant, app):
    _connect(sso, tenant, "entra", jit=True)
    sso.sign_in(client, "dana@fabrikam.com", "dana")
    tenant.misbehave(FABRIKAM, userinfo_status=500)
    again = sso.sign_in(app.test_client(), "dana@fabrikam.com", "dana")
    assert again.status_code == 302 and again.headers["Location"] == "/"
    assert events(services, "federation:callback:refused") == []
    assert len(events(services, "federation:signin:succeeded")) == 2
