"""App passwords in a real browser: create one (shown once), use it at the forward-auth endpoint, revoke it."""

from __future__ import annotations

from idp.security.credentials.service import encode_basic
from tests.conftest import events
from tests.e2e.conftest import sign_in


def _forward(live_server, login: str, secret: str) -> int:
    with live_server.http() as http:
        response = http.get(
            live_server.url + "/auth/forward", headers={"Authorization": encode_basic(login, secret)}, timeout=10
        )
        return response.status_code


def test_create_use_and_revoke_an_app_password_in_chromium(page, live_server, make_user, services):
    person = make_user()
    sign_in(page, person.email, person.password)
    page.get_by_role("navigation", name="Account").get_by_role("link", name="Security", exact=True).click()
    page.get_by_role("row").filter(has_text="App passwords").get_by_role("link", name="Manage").click()
    page.get_by_role("link", name="Create an app password").click()
    page.get_by_label("Name").fill("Calendar on my phone")
    page.get_by_role("button", name="Create").click()
    assert page.get_by_role("heading", name="Your new app password").is_visible()
    secret = page.locator("#secret").inner_text()
    assert _forward(live_server, person.email, secret) == 200

    page.get_by_role("link", name="Done").click()
    row = page.get_by_role("row", name="Calendar on my phone")
    assert row.is_visible()
    assert secret not in page.content()
    row.get_by_role("link", name="Revoke").click()
    page.get_by_role("button", name="Revoke").click()
    assert page.get_by_role("status").filter(has_text="has been revoked").is_visible()
    assert _forward(live_server, person.email, secret) == 401
    assert [e["tag"] for e in events(services) if "app_password" in e["tag"]] == [
        "account:app_password:created", "account:app_password:revoked", "account:app_password:refused"]


def _account_api(live_server, token: str) -> tuple[int, dict]:
    with live_server.http() as http:
        response = http.get(live_server.url + "/api/v1/account", headers={"Authorization": f"Bearer {token}"},
                            timeout=10)
        return response.status_code, response.json()


def test_create_use_and_revoke_an_api_token_in_chromium(page, live_server, make_user):
    person = make_user(display_name="Ada Lovelace")
    sign_in(page, person.email, person.password)
    page.goto("/security/credentials")
    page.get_by_role("link", name="Create an API token").click()
    page.get_by_role("button", name="Create").click()  # neither name nor permission: told, not created
    assert page.get_by_label("Name").get_attribute("aria-invalid") == "true"
    page.get_by_label("Name").fill("Backup script")
    page.get_by_label("Read your account details").check()
    page.get_by_label("Expires after").select_option(index=0)
    page.get_by_role("button", name="Create").click()
    assert page.get_by_role("heading", name="Your new API token").is_visible()
    token = page.locator("#secret").inner_text()
    assert page.get_by_text(f"{live_server.url}/api/v1", exact=True).is_visible()
    status, body = _account_api(live_server, token)
    assert status == 200 and body["email"] == person.email and body["display_name"] == "Ada Lovelace"

    page.get_by_role("link", name="Done").click()
    row = page.get_by_role("row").filter(has_text="Backup script")
    assert row.get_by_role("cell", name="account:read").is_visible()
    assert token not in page.content()
    row.get_by_role("link", name="Revoke").click()
    page.get_by_role("button", name="Revoke").click()
    assert page.get_by_role("status").filter(has_text="has been revoked").is_visible()
    assert page.get_by_text("You have no API tokens.").is_visible()
    assert _account_api(live_server, token)[0] == 401
