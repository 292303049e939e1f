"""GET /auth/forward through the test client: app password (Basic), bearer token, session cookie, refusals."""

from __future__ import annotations

import base64

import pytest

from idp.security.credentials.service import encode_basic
from tests.conftest import events
from tests.credentials.conftest import CTX


def _get(client, authorization=None):
    headers = {"Authorization": authorization} if authorization is not None else {}
    return client.get("/auth/forward", headers=headers)


def test_an_app_password_passes_with_the_user_in_headers(client, credentials, holder):
    _item, secret = credentials.create_app_password(holder.user, "Proxy", CTX)
    response = _get(client, encode_basic(holder.user.email, secret))
    assert response.status_code == 200
    assert response.headers["X-Auth-User"] == holder.user.email
    assert response.headers["X-Auth-Email"] == holder.user.email
    assert response.headers["X-Auth-Subject"] == holder.user.subject
    assert response.headers["X-Auth-Method"] == "app_password"
    assert response.headers["Cache-Control"] == "no-store"


def test_a_revoked_app_password_is_refused_with_a_challenge(client, credentials, holder, services):
    item, secret = credentials.create_app_password(holder.user, "Proxy", CTX)
    credentials.revoke_app_password(holder.user, item.id, CTX)
    response = _get(client, encode_basic(holder.user.email, secret))
    assert response.status_code == 401
    challenges = response.headers.getlist("WWW-Authenticate")
    assert challenges == ['Basic realm="Identity", charset="UTF-8"', 'Bearer realm="Identity"']
    assert "X-Auth-User" not in response.headers
    assert events(services, "account:app_password:refused")[0]["details"]["reason"] == "revoked"


def test_the_account_password_is_not_an_app_password(client, holder):
    response = _get(client, encode_basic(holder.user.email, holder.person.password))
    assert response.status_code == 401


def test_a_bearer_token_with_the_proxy_scope_passes(client, credentials, holder):
    _item, token = credentials.create_api_token(holder.user, "Proxy", ["proxy:access"], 30, CTX)
    response = _get(client, f"Bearer {token}")
    assert response.status_code == 200
    assert response.headers["X-Auth-Subject"] == holder.user.subject
    assert response.headers["X-Auth-Method"] == "api_token"


def test_a_token_without_the_proxy_scope_is_forbidden(client, credentials, holder):
    _item, token = credentials.create_api_token(holder.user, "Read", ["account:read"], 30, CTX)
    assert _get(client, f"Bearer {token}").status_code == 403


def test_a_session_cookie_passes(client, auth, holder):
    auth.sign_in(holder.person.email, holder.person.password)
    response = _get(client)
    assert response.status_code == 200
    assert response.headers["X-Auth-Method"] == "session"
    assert response.headers["X-Auth-Email"] == holder.user.email


def test_a_wrong_credential_is_refused_even_with_a_session(client, auth, holder):
    auth.sign_in(holder.person.email, holder.person.password)
    assert _get(client, encode_basic(holder.user.email, "aaaa-bbbb-cccc-dddd-eeee-ffff")).status_code == 401


def test_no_credentials_is_refused(client):
    response = _get(client)
    assert response.status_code == 401
    assert response.headers.getlist("WWW-Authenticate")[0].startswith("Basic realm=")


@pytest.mark.parametrize("authorization", [
    "",
    "Basic",
    "Basic !!!notbase64",
    "Basic " + base64.b64encode(b"no-colon").decode(),
    "Basic " + base64.b64encode(b"\xff\xfe:\xff").decode(),
    "Bearer",
    "Bearer idp_pat_nope",
    "Digest username=x",
    "Negotiate " + "A" * 5000,
])
def test_malformed_authorization_headers_are_refused(client, authorization):
    assert _get(client, authorization).status_code == 401


def test_a_client_that_keeps_failing_is_slowed_down(client, holder, services):
    limit = services.settings.security.credentials_failures_per_ip
    for _ in range(limit):
        assert _get(client, encode_basic(holder.user.email, "wrong")).status_code == 401
    response = _get(client, encode_basic(holder.user.email, "wrong"))
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) >= 1
    assert services.users.get(holder.user.id).locked_at is None


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete", "options", "head"])
def test_every_method_is_answered_alike_without_csrf(client, credentials, holder, method):
    """nginx's auth_request subrequest keeps the guarded request's method."""
    _item, secret = credentials.create_app_password(holder.user, "Proxy", CTX)
    call = getattr(client, method)
    assert call("/auth/forward", headers={"Authorization": encode_basic(holder.user.email, secret)}).status_code == 200
    assert call("/auth/forward").status_code == 401
