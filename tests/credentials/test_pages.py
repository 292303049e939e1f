"""The pages: list, create (shown once), revoke; recent sign-in required; bad input; French; sign-in refuses app passwords."""

from __future__ import annotations

import re
from html import unescape

import pytest

from idp.security.credentials import CREDENTIALS
from tests.conftest import csrf_of
from tests.conftest import events
from tests.credentials.conftest import CTX

SECRET = re.compile(r'<code class="secret" id="secret">([^<]+)</code>')


def _form(client, path):
    page = client.get(path)
    assert page.status_code == 200, page.status_code
    return csrf_of(page.get_data(as_text=True))


def test_the_list_shows_both_kinds_and_needs_a_sign_in(client, credentials, holder, auth):
    assert client.get("/security/credentials").status_code == 302
    credentials.create_app_password(holder.user, "Phone mail", CTX)
    credentials.create_api_token(holder.user, "Backup script", ["account:read"], 30, CTX)
    auth.sign_in(holder.person.email, holder.person.password)
    html = client.get("/security/credentials").get_data(as_text=True)
    assert "Phone mail" in html and "Backup script" in html and "idp_pat_" in html
    assert "Never" in html and "/auth/forward" in html
    assert 'href="/security/credentials"' in client.get("/security/").get_data(as_text=True)  # from the review


def test_the_pages_speak_french(client, signed_in):
    html = unescape(client.get("/security/credentials?lang=fr").get_data(as_text=True))
    assert "Mots de passe d'application et jetons d'API" in html
    assert "Créer un jeton d'API" in html
    new = unescape(client.get("/security/api-tokens/new?lang=fr").get_data(as_text=True))
    assert "Lire votre journal d'activité" in new and "Expire après" in new and "90 jours" in new


def test_creating_an_app_password_shows_it_once(client, signed_in, services):
    token = _form(client, "/security/app-passwords/new")
    response = client.post("/security/app-passwords/new", data={"csrf_token": token, "name": "Phone mail"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    secret = SECRET.search(html).group(1)
    assert "it will not be shown again" in html and signed_in.user.email in html
    assert response.headers["Cache-Control"] == "no-store"
    listing = client.get("/security/credentials").get_data(as_text=True)
    assert "Phone mail" in listing and secret not in listing
    assert services.get(CREDENTIALS).check_app_password(signed_in.user.email, secret, CTX).id == signed_in.user.id
    assert events(services, "account:app_password:created")[0]["details"]["name"] == "Phone mail"


def test_creating_an_api_token_shows_it_once(client, signed_in, services):
    token = _form(client, "/security/api-tokens/new")
    response = client.post("/security/api-tokens/new", data={
        "csrf_token": token, "name": "Backup", "scopes": ["account:read", "sessions:manage"], "days": "7",
    })
    assert response.status_code == 200
    secret = SECRET.search(response.get_data(as_text=True)).group(1)
    user, item = services.get(CREDENTIALS).check_api_token(secret, CTX, "sessions:read")
    assert user.id == signed_in.user.id and item.scopes == ["account:read", "sessions:manage"]
    assert (item.expires_at - item.created_at).days == 7
    assert secret not in client.get("/security/credentials").get_data(as_text=True)


@pytest.mark.parametrize(("data", "message"), [
    ({"name": ""}, "Give it a name."),
    ({"name": "x" * 101}, "The name can have at most 100 characters."),
    ({"name": "Phone\x00"}, "The name cannot contain control characters."),  # PostgreSQL refuses NUL
    ({"name": "a\x7fb"}, "The name cannot contain control characters."),
])
def test_bad_app_password_input_is_explained(client, signed_in, data, message, services):
    token = _form(client, "/security/app-passwords/new")
    response = client.post("/security/app-passwords/new", data={"csrf_token": token, **data})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert services.get(CREDENTIALS).app_passwords(signed_in.user) == []


@pytest.mark.parametrize(("data", "message"), [
    ({"name": "", "scopes": ["account:read"], "days": "30"}, "Give it a name."),
    ({"name": "\x00", "scopes": ["account:read"], "days": "30"}, "The name cannot contain control characters."),
    ({"name": "x", "days": "30"}, "Choose at least one permission."),
    ({"name": "x", "scopes": ["root"], "days": "30"}, "Unknown permission: root."),
    ({"name": "x", "scopes": ["account:read"], "days": "0"}, "The lifetime must be between 1 and 365 days."),
    ({"name": "x", "scopes": ["account:read"], "days": "9999"}, "The lifetime must be between 1 and 365 days."),
    ({"name": "x", "scopes": ["account:read"], "days": "soon"}, "The lifetime must be between 1 and 365 days."),
    ({"name": "x", "scopes": ["account:read"]}, "The lifetime must be between 1 and 365 days."),
])
def test_bad_api_token_input_is_explained(client, signed_in, data, message, services):
    token = _form(client, "/security/api-tokens/new")
    response = client.post("/security/api-tokens/new", data={"csrf_token": token, **data})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert services.get(CREDENTIALS).api_tokens(signed_in.user) == []


def test_bad_input_is_explained_in_french(client, signed_in):
    token = _form(client, "/security/api-tokens/new?lang=fr")
    response = client.post("/security/api-tokens/new?lang=fr", data={"csrf_token": token, "name": "x", "days": "30"})
    assert "Choisissez au moins une permission." in response.get_data(as_text=True)


def test_forms_without_csrf_are_refused(client, signed_in, services):
    assert client.post("/security/app-passwords/new", data={"name": "x"}).status_code == 400
    assert client.post("/security/api-tokens/new", data={"name": "x", "scopes": "account:read", "days": "7"}).status_code == 400
    assert services.get(CREDENTIALS).app_passwords(signed_in.user) == []


@pytest.mark.parametrize("path", [
    "/security/app-passwords/new", "/security/api-tokens/new",
    "/security/app-passwords/1/revoke", "/security/api-tokens/1/revoke",
])
def test_creating_and_revoking_need_a_recent_sign_in(client, signed_in, clock, path):
    clock.advance(minutes=11)
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/reauth?next=" + path)


def test_revoking_an_app_password_asks_then_revokes(client, signed_in, credentials, services):
    item, _secret = credentials.create_app_password(signed_in.user, "Old phone", CTX)
    path = f"/security/app-passwords/{item.id}/revoke"
    page = client.get(path)
    assert "Old phone" in page.get_data(as_text=True)
    response = client.post(path, data={"csrf_token": csrf_of(page.get_data(as_text=True))})
    assert response.status_code == 302 and response.headers["Location"] == "/security/credentials"
    assert "has been revoked" in client.get("/security/credentials").get_data(as_text=True)
    assert credentials.app_passwords(signed_in.user) == []
    assert events(services, "account:app_password:revoked")[0]["details"]["id"] == item.id
    assert client.get(path).status_code == 404


def test_revoking_an_api_token_asks_then_revokes(client, signed_in, credentials, services):
    item, _token = credentials.create_api_token(signed_in.user, "Old script", ["account:read"], 30, CTX)
    path = f"/security/api-tokens/{item.id}/revoke"
    page = client.get(path)
    response = client.post(path, data={"csrf_token": csrf_of(page.get_data(as_text=True))})
    assert response.status_code == 302
    assert credentials.api_tokens(signed_in.user) == []
    assert events(services, "account:api_token:revoked")[0]["details"]["id"] == item.id
    assert client.post(path, data={"csrf_token": csrf_of(page.get_data(as_text=True))}).status_code == 404


def test_nobody_revokes_another_persons_credentials_from_the_pages(client, signed_in, credentials, make_user, services):
    other = services.users.get(make_user().id)
    app_item, secret = credentials.create_app_password(other, "Theirs", CTX)
    token_item, _token = credentials.create_api_token(other, "Theirs", ["account:read"], 30, CTX)
    page = client.get("/security/credentials")
    csrf = csrf_of(client.get("/security/app-passwords/new").get_data(as_text=True))
    assert "Theirs" not in page.get_data(as_text=True)
    assert client.get(f"/security/app-passwords/{app_item.id}/revoke").status_code == 404
    assert client.post(f"/security/app-passwords/{app_item.id}/revoke", data={"csrf_token": csrf}).status_code == 404
    assert client.post(f"/security/api-tokens/{token_item.id}/revoke", data={"csrf_token": csrf}).status_code == 404
    assert client.get("/security/api-tokens/notanumber/revoke").status_code == 404
    huge = "9" * 30  # past any SQL integer: a 400 before any view, never a database error
    assert client.get(f"/security/app-passwords/{huge}/revoke").status_code == 400
    assert client.post(f"/security/api-tokens/{huge}/revoke", data={"csrf_token": csrf}).status_code == 400
    assert credentials.check_app_password(other.email, secret, CTX).id == other.id


def test_the_sign_in_page_never_accepts_an_app_password(client, auth, credentials, holder, services):
    _item, secret = credentials.create_app_password(holder.user, "Phone", CTX)
    response = auth.sign_in(holder.person.email, secret)
    assert response.status_code == 401
    assert "Wrong e-mail or password." in response.get_data(as_text=True)
    assert client.get("/security/credentials").status_code == 302  # still signed out
    assert events(services, "account:signin:failed")[-1]["details"]["reason"] == "password"


def test_the_security_review_counts_them(app, credentials, holder, services):
    for n in range(3):
        credentials.create_app_password(holder.user, f"p{n}", CTX)
    credentials.create_api_token(holder.user, "t", ["account:read"], 30, CTX)
    items = {item.label: item for item in services.review}
    with app.test_request_context("/?lang=en"):
        assert items["App passwords"].status(holder.user) == "3 app passwords"
        assert items["API tokens"].status(holder.user) == "1 API token"
    with app.test_request_context("/?lang=fr"):
        assert items["API tokens"].status(holder.user) == "1 jeton d'API"
        assert items["App passwords"].status(holder.user) == "3 mots de passe d'application"
