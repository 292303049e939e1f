"""The independent relying party (panva's openid-client, Node) and a partner acting for a client:
it sees `act` and `acting_for` in the ID token (signature checked) and at userinfo, keyed on the
partner person's own `sub`; once the partner stops acting, a new sign-in carries neither."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest
import requests

from tests.conftest import csrf_of
from tests.oidc.conftest import LOGOUT_TARGET
from tests.oidc.conftest import REDIRECT
from tests.oidc.conftest import browser_authorize
from tests.oidc.test_rp_node import RP
from tests.oidc.test_rp_node import node  # noqa: F401 - fixture
from tests.partners.conftest import cast  # noqa: F401 - fixture


@pytest.fixture
def settings_overrides(port: int) -> dict[str, Any]:
    return {"oidc": {"issuer": f"http://127.0.0.1:{port}"}, "server": {"base_url": f"http://127.0.0.1:{port}"}}


def _sign_in(browser: requests.Session, base: str, person: Any) -> None:
    page = browser.get(f"{base}/login")
    browser.post(f"{base}/login", data={"csrf_token": csrf_of(page.text), "login": person.email})
    page = browser.get(f"{base}/login/password")
    done = browser.post(f"{base}/login/password", data={"csrf_token": csrf_of(page.text), "password": person.password},
                        allow_redirects=False)
    assert done.status_code in (302, 303), done.text[:300]


def _post(browser: requests.Session, base: str, path: str) -> requests.Response:
    token = csrf_of(browser.get(f"{base}/").text)
    return browser.post(f"{base}{path}", data={"csrf_token": token}, allow_redirects=False)


def _relying_party(node_path: str, live: Any, rp: Any, browser: requests.Session, person: Any) -> dict[str, Any]:
    """One run of the relying party: sign-in through the browser, tokens, userinfo, refresh."""
    process = subprocess.Popen(
        [node_path, str(RP / "rp.mjs"), live.url, rp.client_id, rp.secret, REDIRECT, LOGOUT_TARGET],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=RP,
    )
    try:
        assert process.stdout is not None and process.stdin is not None
        first = json.loads(process.stdout.readline() or "{}")
        assert first.get("step") == "authorize", process.stderr.read() if process.stderr else first
        process.stdin.write(browser_authorize(browser, live.url, first["url"], person, REDIRECT) + "\n")
        process.stdin.flush()
        done: dict[str, Any] = json.loads(process.stdout.readline() or "{}")
        assert done.get("step") == "done", done
        return done
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        for pipe in (process.stdin, process.stdout, process.stderr):
            if pipe is not None:
                pipe.close()


def test_openid_client_sees_the_partner_acting_for_the_client(
    node: str, live: Any, rp: Any, cast: Any, services: Any,  # noqa: F811
) -> None:
    p = cast.manage(rights=["users", "activity"])
    person = cast.people["p_lr"]
    subject = services.users.get(person.id).subject
    browser = requests.Session()
    browser.trust_env = False
    _sign_in(browser, live.url, person)
    assert _post(browser, live.url, "/orgs/reseller/clients/client/act").status_code == 302

    acting = _relying_party(node, live, rp, browser, person)
    act = {"sub": subject, "org": "reseller"}
    acting_for = {"org": "client", "name": "Client Sàrl", "partnership": p.id, "rights": ["users", "activity"]}
    for seen in (acting["claims"], acting["userinfo"], acting["refreshedClaims"]):
        assert seen["sub"] == subject
        assert seen["act"] == act and seen["acting_for"] == acting_for

    assert _post(browser, live.url, "/partners/acting/stop").status_code == 302
    plain = _relying_party(node, live, rp, browser, person)
    for seen in (plain["claims"], plain["userinfo"], plain["refreshedClaims"]):
        assert seen["sub"] == subject and "act" not in seen and "acting_for" not in seen
