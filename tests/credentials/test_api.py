"""The JSON account API: scopes, JSON errors for every bad input, and the OpenAPI document."""

from __future__ import annotations

import pytest

from idp.model import Role
from idp.security.credentials import CREDENTIALS
from idp.security.credentials.service import SCOPES
from tests.conftest import events
from tests.credentials.conftest import CTX


@pytest.fixture
def token_for(credentials, holder):
    def make(*scopes: str, days: int = 30) -> str:
        return credentials.create_api_token(holder.user, "api test", list(scopes), days, CTX)[1]

    return make


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _assert_error(response, status: int, error: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["error"] == error and body["error_description"]
    return body


def test_the_account_endpoint_returns_the_tokens_owner(client, holder, token_for, services):
    org = services.accounts.create_org("acme", "Acme")
    services.accounts.add_member(org, holder.user, Role.ADMIN)
    response = client.get("/api/v1/account", headers=_bearer(token_for("account:read")))
    assert response.status_code == 200
    body = response.get_json()
    assert body["subject"] == holder.user.subject and body["email"] == holder.user.email
    assert body["organisations"] == [{"slug": "acme", "name": "Acme", "role": "admin"}]
    assert "Set-Cookie" not in response.headers


@pytest.mark.parametrize(("path", "method"), [
    ("/api/v1/account", "get"), ("/api/v1/activity", "get"), ("/api/v1/sessions", "get"),
    ("/api/v1/sessions/0123456789abcdef0123", "delete"),
])
def test_every_endpoint_needs_a_valid_token(client, path, method, credentials, holder, clock):
    call = getattr(client, method)
    missing = call(path)
    _assert_error(missing, 401, "invalid_token")
    assert missing.headers["WWW-Authenticate"].startswith("Bearer realm=")
    _assert_error(call(path, headers={"Authorization": "Basic eDp5"}), 401, "invalid_token")
    _assert_error(call(path, headers=_bearer("idp_pat_garbage")), 401, "invalid_token")
    item, revoked = credentials.create_api_token(holder.user, "r", list(SCOPES), 1, CTX)
    credentials.revoke_api_token(holder.user, item.id, CTX)
    _assert_error(call(path, headers=_bearer(revoked)), 401, "invalid_token")
    _item, expiring = credentials.create_api_token(holder.user, "e", list(SCOPES), 1, CTX)
    clock.advance(days=2)
    response = call(path, headers=_bearer(expiring))
    _assert_error(response, 401, "invalid_token")
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


@pytest.mark.parametrize(("path", "method", "scope"), [
    ("/api/v1/account", "get", "account:read"),
    ("/api/v1/activity", "get", "activity:read"),
    ("/api/v1/sessions", "get", "sessions:read"),
    ("/api/v1/sessions/0123456789abcdef0123", "delete", "sessions:manage"),
])
def test_every_endpoint_checks_its_scope(client, path, method, scope, token_for, services):
    others = [s for s in SCOPES if s != scope and not (scope == "sessions:read" and s == "sessions:manage")]
    response = getattr(client, method)(path, headers=_bearer(token_for(*others)))
    _assert_error(response, 403, "insufficient_scope")
    assert f'scope="{scope}"' in response.headers["WWW-Authenticate"]
    assert events(services, "account:api_token:refused")[0]["details"]["scope"] == scope


def test_the_activity_log_is_filtered_and_paged(client, holder, token_for, services):
    token = token_for("activity:read")
    for _ in range(3):
        services.events.record_event("account:signin:failed", ctx=CTX, user_id=holder.user.id, product="signin")
    services.events.record_event("account:signin:failed", ctx=CTX, user_id=holder.user.id + 999, product="signin")
    response = client.get("/api/v1/activity?action=account:signin:failed&per_page=2", headers=_bearer(token))
    assert response.status_code == 200
    body = response.get_json()
    assert body["total"] == 3 and body["page"] == 1 and body["per_page"] == 2
    assert len(body["events"]) == 2 and {e["action"] for e in body["events"]} == {"account:signin:failed"}
    assert body["events"][0]["ip"] == CTX.ip
    second = client.get("/api/v1/activity?action=account:signin:failed&per_page=2&page=2", headers=_bearer(token))
    assert len(second.get_json()["events"]) == 1
    today = services.clock.now().date().isoformat()
    dated = client.get(f"/api/v1/activity?from={today}&to={today}&product=signin", headers=_bearer(token))
    assert dated.get_json()["total"] == 3
    assert client.get("/api/v1/activity?from=2000-01-01&to=2000-01-02", headers=_bearer(token)).get_json()["total"] == 0


@pytest.mark.parametrize("query", [
    "page=0", "page=-1", "page=abc", "page=1.5", "page=", "per_page=0", "per_page=101", "per_page=９",
    "from=yesterday", "from=2024-02-30", "to=2024-13-01", "from=2024-05-02&to=2024-05-01",
    "q=" + "x" * 201, "q=a%00b", "product=" + "p" * 65, "colour=blue",
])
def test_bad_activity_parameters_are_400(client, token_for, query):
    response = client.get(f"/api/v1/activity?{query}", headers=_bearer(token_for("activity:read")))
    _assert_error(response, 400, "invalid_request")


def test_sessions_are_listed_and_ended_with_the_right_scopes(client, app, holder, token_for, services):
    browser = app.test_client()
    from tests.conftest import AuthActions

    AuthActions(browser).sign_in(holder.person.email, holder.person.password)
    assert browser.get("/").status_code == 200
    listed = client.get("/api/v1/sessions", headers=_bearer(token_for("sessions:read")))
    assert listed.status_code == 200
    sessions = listed.get_json()["sessions"]
    assert len(sessions) == 1 and sessions[0]["methods"] == ["pwd"]
    handle = sessions[0]["handle"]
    manage = token_for("sessions:manage")
    assert client.get("/api/v1/sessions", headers=_bearer(manage)).status_code == 200
    ended = client.delete(f"/api/v1/sessions/{handle}", headers=_bearer(manage))
    assert ended.status_code == 204
    assert browser.get("/").status_code == 302  # that browser is signed out on its next request
    _assert_error(client.delete(f"/api/v1/sessions/{handle}", headers=_bearer(manage)), 404, "not_found")
    assert events(services, "account:session:ended")[0]["details"]["session"] == handle


@pytest.mark.parametrize("handle", ["short", "0123456789ABCDEF0123", "0123456789abcdef01234", "é" * 20])
def test_a_malformed_session_handle_is_400(client, token_for, handle):
    response = client.delete(f"/api/v1/sessions/{handle}", headers=_bearer(token_for("sessions:manage")))
    _assert_error(response, 400, "invalid_request")


def test_a_person_cannot_end_another_persons_session(client, app, make_user, token_for):
    other = make_user()
    browser = app.test_client()
    from tests.conftest import AuthActions

    AuthActions(browser).sign_in(other.email, other.password)
    session_handle = app.extensions["idp"].sessions.list(other.id)[0].handle
    response = client.delete(f"/api/v1/sessions/{session_handle}", headers=_bearer(token_for("sessions:manage")))
    _assert_error(response, 404, "not_found")
    assert browser.get("/").status_code == 200


def test_unknown_routes_and_methods_answer_json(client, token_for):
    _assert_error(client.get("/api/v1/nothing"), 404, "not_found")
    response = client.post("/api/v1/account", headers=_bearer(token_for("account:read")))
    assert response.status_code == 405 and response.get_json()["error"]


def test_cookies_do_not_open_the_api(client, auth, holder):
    auth.sign_in(holder.person.email, holder.person.password)
    _assert_error(client.get("/api/v1/account"), 401, "invalid_token")


def test_the_openapi_document_describes_every_route(app, client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"].startswith("3.1")
    described = {
        (path, method.upper()) for path, item in document["paths"].items() for method in item
    }
    routes = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = "/" + rule.rule.removeprefix("/api/v1/").replace("<", "{").replace(">", "}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            routes.add((path, method))
    assert routes == described
    assert document["servers"][0]["url"].endswith("/api/v1")
    scopes = {op["security"][0]["bearerToken"][0] for item in document["paths"].values()
              for op in item.values() if op.get("security")}
    assert scopes <= set(SCOPES)


def test_the_api_is_rate_limited_per_address(client, token_for, services):
    token = token_for("account:read")
    services.get(CREDENTIALS).limits = type(services.get(CREDENTIALS).limits)(
        **{**services.get(CREDENTIALS).limits.__dict__, "per_ip": 3})
    for _ in range(3):
        assert client.get("/api/v1/account", headers=_bearer(token)).status_code == 200
    response = client.get("/api/v1/account", headers=_bearer(token))
    _assert_error(response, 429, "rate_limited")
    assert int(response.headers["Retry-After"]) >= 1
