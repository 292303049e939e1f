"""An independent relying party, panva's openid-client (Node), against the real service over HTTP:
discovery, code + PKCE, ID-token validation with signature checks, userinfo, refresh, introspection,
revocation and end-session."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import requests

from idp.model import RequestContext
from tests.e2e.audit_cast import portrait
from tests.oidc.conftest import LOGOUT_TARGET
from tests.oidc.conftest import REDIRECT
from tests.oidc.conftest import browser_authorize
from tests.oidc.conftest import query_of

RP = Path(__file__).parent / "rp"
CTX = RequestContext(ip="198.51.100.7")


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


def _profile(services: Any, person: Any) -> None:
    """Names, a picture, a time zone and a confirmed phone, as the profile pages set them."""
    user = services.users.get(person.id)
    services.profiles.set_names(user, given_name="Ada", family_name="Lovelace", display_name="", ctx=CTX)
    services.profiles.set_picture(user, portrait(), ctx=CTX)
    services.accounts.set_timezone(user, "Europe/Zurich")
    phone = services.phones.add(user, label="", number="+41 44 668 18 00", ctx=CTX, text="%(code)s")
    services.phones.confirm(user, phone.id, services.phones.sms.sent[-1][1], ctx=CTX)


def test_openid_client_signs_in_refreshes_revokes_and_logs_out(
    node: str, live: Any, rp: Any, person: Any, services: Any
) -> None:
    _profile(services, person)
    process = subprocess.Popen(
        [node, str(RP / "rp.mjs"), live.url, rp.client_id, rp.secret, REDIRECT, LOGOUT_TARGET],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=RP,
    )
    try:
        assert process.stdout is not None and process.stdin is not None
        first = json.loads(process.stdout.readline() or "{}")
        assert first.get("step") == "authorize", process.stderr.read() if process.stderr else first
        browser = requests.Session()
        browser.trust_env = False
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
    assert info["email"] == person.email and info["sub"] == user.subject
    # The profile, as an independent relying party reads it.
    assert (info["given_name"], info["family_name"], info["name"]) == ("Ada", "Lovelace", "Ada Lovelace")
    assert (info["zoneinfo"], info["updated_at"]) == ("Europe/Zurich", int(user.updated_at.timestamp()))
    assert (info["phone_number"], info["phone_number_verified"]) == ("+41446681800", True)
    picture = requests.get(info["picture"], timeout=10)
    assert info["picture"].startswith(services.settings.server.base_url + "/avatars/")
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
