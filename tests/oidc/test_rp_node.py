"""An independent relying party, panva's openid-client (Node), against the real service over HTTP:
discovery, code + PKCE, ID-token validation with signature checks, userinfo, refresh, introspection,
revocation and end-session; the profile's claims, after a person changed it through the pages."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from tests.conftest import csrf_of
from tests.conftest import outbox
from tests.e2e.audit_cast import portrait
from tests.oidc.conftest import LOGOUT_TARGET
from tests.oidc.conftest import REDIRECT
from tests.oidc.conftest import browser_authorize
from tests.oidc.conftest import query_of

RP = Path(__file__).parent / "rp"


@pytest.fixture
def settings_overrides(port: int) -> dict[str, Any]:
    # The picture's address is under the base URL: the live server's, so the RP can fetch it.
    return {"oidc": {"issuer": f"http://127.0.0.1:{port}"}, "server": {"base_url": f"http://127.0.0.1:{port}"}}


@pytest.fixture(scope="module")
def node() -> str:
    path = shutil.which("node")
    assert path, "node is needed: scripts/setup/oidc.sh"
    assert (RP / "node_modules" / "openid-client").is_dir(), "run scripts/setup/oidc.sh (npm ci in tests/oidc/rp)"
    return path


# Every profile claim asked for in the ID token too (OpenID Connect Core 5.5): with an access token,
# the scopes' claims are otherwise served by userinfo only.
PROFILE = ("name", "given_name", "family_name", "picture", "locale", "zoneinfo", "updated_at", "email",
           "email_verified", "phone_number", "phone_number_verified")
CLAIMS_REQUEST = json.dumps({"id_token": dict.fromkeys(PROFILE)})
NEW_EMAIL = "ada.lovelace@example.org"


def _form(browser: requests.Session, base: str, page: str, action: str, data: dict[str, str], **files: Any) -> str:
    """Post a form of `page` as the browser does (its CSRF token); the address it redirects to."""
    token = csrf_of(browser.get(base + page).text)
    response = browser.post(base + action, data={"csrf_token": token, **data}, files=files or None,
                            allow_redirects=False)
    assert response.status_code in (302, 303), (action, response.status_code, response.text[:300])
    return str(response.headers["Location"])


def _change_profile_through_the_pages(browser: requests.Session, base: str, services: Any, person: Any) -> None:
    """Sign in, then what a person does on /profile: names, a picture, language, time zone, a
    phone confirmed by its texted code, and a new login e-mail confirmed by its link."""
    _form(browser, base, "/login", "/login", {"login": person.email})
    _form(browser, base, "/login/password", "/login/password", {"password": person.password})
    _form(browser, base, "/profile", "/profile/names", {"given_name": "Ada", "family_name": "Lovelace",
                                                        "display_name": ""})
    _form(browser, base, "/profile", "/profile/picture", {}, picture=("me.png", portrait(), "image/png"))
    _form(browser, base, "/profile", "/profile/timezone", {"timezone": "Europe/Zurich"})
    confirm = _form(browser, base, "/profile", "/profile/phones", {"number": "+41 44 668 18 00", "label": ""})
    path = urlsplit(confirm).path
    code = re.match(r"(\d{6}) is your ", services.phones.sms.sent[-1][1])
    assert code, services.phones.sms.sent[-1]
    _form(browser, base, path, path, {"code": code.group(1)})
    _form(browser, base, "/profile/email", "/profile/email", {"email": NEW_EMAIL})
    [mail] = [m for m in outbox(services) if m["to"] == NEW_EMAIL]
    link = urlsplit(re.search(r"https?://\S+/profile/email/confirm/\S+", mail["body"]).group(0)).path
    _form(browser, base, link, link, {})
    _form(browser, base, "/profile", "/profile/language", {"language": "fr"})


def test_openid_client_signs_in_refreshes_revokes_and_logs_out(
    node: str, live: Any, rp: Any, person: Any, services: Any
) -> None:
    browser = requests.Session()
    browser.trust_env = False
    _change_profile_through_the_pages(browser, live.url, services, person)
    process = subprocess.Popen(
        [node, str(RP / "rp.mjs"), live.url, rp.client_id, rp.secret, REDIRECT, LOGOUT_TARGET, CLAIMS_REQUEST],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=RP,
    )
    try:
        assert process.stdout is not None and process.stdin is not None
        first = json.loads(process.stdout.readline() or "{}")
        assert first.get("step") == "authorize", process.stderr.read() if process.stderr else first
        callback = browser_authorize(browser, live.url, first["url"], person, REDIRECT)
        assert query_of(callback)["iss"] == live.url
        process.stdin.write(callback + "\n")
        process.stdin.flush()
        done = json.loads(process.stdout.readline() or "{}")
        assert done.get("step") == "done", done
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        for pipe in (process.stdin, process.stdout, process.stderr):
            if pipe is not None:
                pipe.close()
    user = services.users.get(person.id)
    claims = done["claims"]
    assert claims["sub"] == user.subject and claims["aud"] == rp.client_id and claims["iss"] == live.url
    info = done["userinfo"]
    assert info["sub"] == user.subject
    # The profile as the pages left it, as an independent relying party reads it from userinfo
    # and from the (verified) ID token alike.
    expected = {
        "given_name": "Ada", "family_name": "Lovelace", "name": "Ada Lovelace", "locale": "fr",
        "zoneinfo": "Europe/Zurich", "updated_at": int(user.updated_at.timestamp()), "email": NEW_EMAIL,
        "email_verified": True, "phone_number": "+41446681800", "phone_number_verified": True,
    }
    for source in (info, claims):
        assert {name: source.get(name) for name in expected} == expected
        assert source["picture"] == f"{services.settings.server.base_url}/avatars/{user.subject}/{user.avatar_version}/large.jpg"
    assert set(PROFILE) <= set(claims) and set(PROFILE) <= set(info)
    picture = requests.get(info["picture"], timeout=10)
    assert picture.status_code == 200 and picture.headers["Content-Type"] == "image/jpeg"
    for name in ("sub", "auth_time", "aud", "azp"):
        assert done["refreshedClaims"][name] == claims[name]
    assert done["introspected"]["active"] is True and done["introspected"]["client_id"] == rp.client_id
    assert done["afterRevocation"]["active"] is False
    assert done["reuse"] == "invalid_grant"
    # End-session with the (refreshed) ID token: back to the registered URI with the state.
    response = browser.get(done["endSession"], allow_redirects=False)
    assert response.headers["Location"] == f"{LOGOUT_TARGET}?state=bye-state"
    assert browser.get(f"{live.url}/", allow_redirects=False).status_code == 302
