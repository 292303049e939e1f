"""Forward authentication behind a real nginx: `auth_request` to the app on a live port, in front of a static page."""

from __future__ import annotations

import base64

from tests.credentials.conftest import CTX


def _basic(login: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{login}:{secret}".encode()).decode()}


def test_nginx_lets_an_app_password_through_and_refuses_it_once_revoked(nginx, http, credentials, holder):
    item, secret = credentials.create_app_password(holder.user, "Behind nginx", CTX)
    response = http.get(nginx + "/", headers=_basic(holder.user.email, secret), timeout=10)
    assert response.status_code == 200
    assert "protected page" in response.text
    assert response.headers["X-Seen-User"] == holder.user.email
    assert response.headers["X-Seen-Method"] == "app_password"
    credentials.revoke_app_password(holder.user, item.id, CTX)
    refused = http.get(nginx + "/", headers=_basic(holder.user.email, secret), timeout=10)
    assert refused.status_code == 401
    assert "protected page" not in refused.text
    assert refused.headers["WWW-Authenticate"].startswith("Basic realm=")


def test_nginx_lets_a_bearer_token_through(nginx, http, credentials, holder):
    _item, token = credentials.create_api_token(holder.user, "Behind nginx", ["proxy:access"], 30, CTX)
    response = http.get(nginx + "/", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert response.status_code == 200 and "protected page" in response.text
    assert response.headers["X-Seen-Method"] == "api_token"
    # The subrequest keeps the method: a POST with a body is checked the same way.
    posted = http.post(nginx + "/", data=b"x" * 1000, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert posted.headers["X-Seen-Method"] == "api_token"
    assert posted.status_code != 401


def test_nginx_refuses_a_token_of_someone_without_the_proxy_scope(nginx, http, credentials, holder):
    _item, token = credentials.create_api_token(holder.user, "No proxy", ["account:read"], 30, CTX)
    response = http.get(nginx + "/", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert response.status_code == 403 and "protected page" not in response.text


def test_nginx_refuses_a_request_without_credentials(nginx, http):
    response = http.get(nginx + "/", timeout=10)
    assert response.status_code == 401
    assert "protected page" not in response.text


def test_nginx_lets_a_signed_in_browser_through(nginx, http, app, holder):
    from tests.conftest import AuthActions

    browser = app.test_client()
    AuthActions(browser).sign_in(holder.person.email, holder.person.password)
    cookie = browser.get_cookie(app.extensions["idp"].settings.session.cookie_name)
    response = http.get(nginx + "/", cookies={cookie.key: cookie.value}, timeout=10)
    assert response.status_code == 200 and response.headers["X-Seen-Method"] == "session"
