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

from tests.oidc.conftest import LOGOUT_TARGET
from tests.oidc.conftest import REDIRECT
from tests.oidc.conftest import browser_authorize
from tests.oidc.conftest import query_of

RP = Path(__file__).parent / "rp"


@pytest.fixture
def settings_overrides(port: int) -> dict[str, Any]:
    return {"oidc": {"issuer": f"http://127.0.0.1:{port}"}}


@pytest.fixture(scope="module")
def node() -> str:
    path = shutil.which("node")
    assert path, "node is needed: scripts/setup/oidc.sh"
    assert (RP / "node_modules" / "openid-client").is_dir(), "run scripts/setup/oidc.sh (npm ci in tests/oidc/rp)"
    return path


def test_openid_client_signs_in_refreshes_revokes_and_logs_out(
    node: str, live: Any, rp: Any, person: Any, services: Any
) -> None:
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
    assert done["userinfo"]["email"] == person.email and done["userinfo"]["sub"] == user.subject
    for name in ("sub", "auth_time", "aud", "azp"):
        assert done["refreshedClaims"][name] == claims[name]
    assert done["introspected"]["active"] is True and done["introspected"]["client_id"] == rp.client_id
    assert done["afterRevocation"]["active"] is False
    assert done["reuse"] == "invalid_grant"
    # End-session with the (refreshed) ID token: back to the registered URI with the state.
    response = browser.get(done["endSession"], allow_redirects=False)
    assert response.headers["Location"] == f"{LOGOUT_TARGET}?state=bye-state"
    assert browser.get(f"{live.url}/", allow_redirects=False).status_code == 302
