"""`idp serve --demo`: the demo client and the demo relying-party page run the whole flow."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from idp.oidc.demo import announce
from tests.oidc.conftest import browser_authorize


@pytest.fixture
def settings_overrides(port: int) -> dict[str, Any]:
    return {"oidc": {"issuer": f"http://127.0.0.1:{port}"}}


def test_demo_page_signs_in_refreshes_and_signs_out(live: Any, services: Any, port: int, person: Any) -> None:
    text = announce(services, "127.0.0.1", port)
    assert "demo client secret" in text and "/demo" in text
    browser = requests.Session()
    browser.trust_env = False
    assert "Sign in with" in browser.get(f"{live.url}/demo").text
    callback = browser_authorize(browser, live.url, f"{live.url}/demo/login", person, f"{live.url}/demo/callback")
    page = browser.get(callback).text
    assert person.email in page and "urn:idp:acr:pwd" in page
    from tests.conftest import csrf_of

    refreshed = browser.post(f"{live.url}/demo/refresh", data={"csrf_token": csrf_of(page)}, allow_redirects=True)
    assert person.email in refreshed.text
    out = browser.get(f"{live.url}/demo/logout", allow_redirects=True)
    assert "Sign in with" in out.text
    assert browser.get(f"{live.url}/", allow_redirects=False).status_code == 302


def test_demo_page_is_absent_without_demo(client: Any) -> None:
    assert client.get("/demo").status_code == 404
