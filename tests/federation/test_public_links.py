"""The callback address sent to a directory comes from `server.base_url`, never from the request's
Host or X-Forwarded-Host (a forged one would send the directory's answer, and its code, elsewhere)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pytest

from idp.model import Role
from tests.conftest import csrf_of
from tests.federation.conftest import REDIRECT

FORGED = [{"Host": "evil.example"}, {"X-Forwarded-Host": "evil.example"}]


@pytest.fixture
def settings_overrides(settings_overrides: dict[str, Any]) -> dict[str, Any]:
    # Behind one trusted proxy, as deployed: its X-Forwarded-Host is believed for the request.
    return settings_overrides | {"server": settings_overrides["server"] | {"trusted_proxies": 1}}


def _send(client: Any, method: str, path: str, forged: dict[str, str], **kw: Any) -> Any:
    """As the browser, with the forged header. The test client picks cookies by the Host it sends,
    so a forged Host goes out from a cookie-less client carrying the browser's cookies."""
    if "Host" not in forged:
        return client.open(path, method=method, headers=forged, **kw)
    names = ("idp_pre", client.application.extensions["idp"].settings.session_cookie)
    cookies = "; ".join(f"{n}={c.value}" for n in names if (c := client.get_cookie(n)) is not None)
    return client.application.test_client(use_cookies=False).open(
        path, method=method, headers=forged | {"Cookie": cookies}, **kw)


@pytest.mark.parametrize("forged", FORGED)
def test_sign_in_with_sso_sends_the_public_callback_to_the_directory(client, sso, forged):
    sso.connect()
    token = csrf_of(client.get("/sso").get_data(as_text=True))
    response = _send(client, "POST", "/sso", forged, data={"csrf_token": token, "login": "alice@contoso.com"})
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(sso.tenant.host)
    assert parse_qs(urlsplit(location).query)["redirect_uri"] == [REDIRECT]
    assert "evil.example" not in location


@pytest.mark.parametrize("forged", FORGED)
def test_the_connection_page_shows_the_public_callback(client, services, make_user, auth, sso, forged):
    person = make_user("admin@contoso.com")
    services.accounts.add_member(sso.org(), services.users.get(person.id), Role.ADMIN)
    auth.sign_in(person.email, person.password)
    connection = sso.connect()
    html = _send(client, "GET", f"/orgs/contoso/sso/{connection.id}", forged).get_data(as_text=True)
    assert REDIRECT in html and "evil.example" not in html
