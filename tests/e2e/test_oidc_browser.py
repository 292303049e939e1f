"""An application signing people in through this OpenID Provider, in a real browser: consent
(allow, withdraw, deny), then RP-initiated logout, with and without the confirmation form.

The application is a small relying party on its own port: it sends the browser to the
authorization endpoint, and on its callback redeems the code, checks the ID token against the
JWKS and reads userinfo, all over the provider's public URL (through nginx over https)."""

from __future__ import annotations

import base64
import hashlib
import html
import secrets
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs
from urllib.parse import urlencode
from urllib.parse import urlsplit

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from idp.oidc import OIDC
from tests.e2e.conftest import sign_in

APP_NAME = "Notes"


class RelyingParty:
    """An OpenID Connect client with a web page, as a separate application would be."""

    def __init__(self, live_server: Any, services: Any) -> None:
        self.site = live_server
        self.http = live_server.http()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.client, self.secret = services.get(OIDC).clients.create(
            APP_NAME, redirect_uris=[f"{self.url}/callback"], post_logout_redirect_uris=[f"{self.url}/bye"],
        )
        self.pending: dict[str, dict[str, str]] = {}
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.discovery: dict[str, Any] = {}

    def start(self) -> RelyingParty:
        answer = self.http.get(self.site.url + "/.well-known/openid-configuration", timeout=10)
        answer.raise_for_status()
        self.discovery = answer.json()
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.http.close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        rp = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                pages = {"/": rp.home, "/callback": rp.callback, "/bye": rp.bye}
                view = pages.get(parts.path)
                body = view(query) if view else "<h1>Not found</h1>"
                data = f"<!doctype html><html lang='en'><title>{APP_NAME}</title>{body}</html>".encode()
                self.send_response(200 if view else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        return Handler

    def home(self, query: dict[str, str]) -> str:
        state, nonce, verifier = secrets.token_urlsafe(16), secrets.token_urlsafe(16), secrets.token_urlsafe(48)
        self.pending[state] = {"nonce": nonce, "verifier": verifier}
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        authorize = self.discovery["authorization_endpoint"] + "?" + urlencode({
            "response_type": "code", "client_id": self.client.client_id, "redirect_uri": f"{self.url}/callback",
            "scope": "openid profile email", "state": state, "nonce": nonce,
            "code_challenge": challenge, "code_challenge_method": "S256",
        })
        return f"<h1>{APP_NAME}</h1><p><a href='{html.escape(authorize)}'>Sign in with your account</a></p>"

    def callback(self, query: dict[str, str]) -> str:
        flow = self.pending.pop(query.get("state", ""), None)
        if flow is None:
            return "<h1>Unknown sign-in</h1>"
        if query.get("iss") != self.discovery["issuer"]:
            return "<h1>Wrong issuer</h1>"
        if "error" in query:
            return f"<h1>{APP_NAME} was not allowed to sign you in</h1><p id='error'>{html.escape(query['error'])}</p>"
        tokens = self.http.post(self.discovery["token_endpoint"], data={
            "grant_type": "authorization_code", "code": query["code"], "redirect_uri": f"{self.url}/callback",
            "code_verifier": flow["verifier"],
        }, auth=(self.client.client_id, self.secret or ""), timeout=10)
        if tokens.status_code != 200:
            return f"<h1>The code was refused</h1><pre>{html.escape(tokens.text)}</pre>"
        id_token = tokens.json()["id_token"]
        keys = KeySet.import_key_set(self.http.get(self.discovery["jwks_uri"], timeout=10).json())
        claims = jwt.decode(id_token, keys).claims
        if (claims["iss"], claims["aud"], claims["nonce"]) != (self.discovery["issuer"], self.client.client_id,
                                                               flow["nonce"]):
            return "<h1>The ID token is not for this sign-in</h1>"
        info = self.http.get(self.discovery["userinfo_endpoint"], timeout=10,
                             headers={"Authorization": "Bearer " + tokens.json()["access_token"]}).json()
        logout = self.discovery["end_session_endpoint"] + "?" + urlencode({
            "id_token_hint": id_token, "post_logout_redirect_uri": f"{self.url}/bye", "state": "leaving",
        })
        return (f"<h1>Signed in to {APP_NAME} as {html.escape(info['name'])}</h1>"
                f"<p id='email'>{html.escape(info['email'])}</p><p id='issuer'>{html.escape(claims['iss'])}</p>"
                f"<p><a href='{html.escape(logout)}'>Sign out</a></p>")

    def bye(self, query: dict[str, str]) -> str:
        return f"<h1>Signed out of {APP_NAME}</h1><p id='state'>{html.escape(query.get('state', ''))}</p>"


@pytest.fixture
def relying_party(live_server: Any, services: Any) -> Iterator[RelyingParty]:
    rp = RelyingParty(live_server, services).start()
    yield rp
    rp.stop()


def _sign_in_at(page: Any, rp: RelyingParty) -> None:
    page.goto(rp.url + "/")
    page.get_by_role("link", name="Sign in with your account").click()


def test_consent_then_sign_out_from_the_application(page, live_server, relying_party, make_user, services):
    rp = relying_party
    person = make_user(display_name="Ada Lovelace")
    assert rp.discovery["issuer"] == live_server.url

    # First time: sign in at the provider, then allow the application.
    _sign_in_at(page, rp)
    page.get_by_label("E-mail address").fill(person.email)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Password").fill(person.password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name=f"Allow {APP_NAME}?").wait_for()
    assert page.url.startswith(live_server.url + "/")
    assert page.get_by_text(f"{APP_NAME} asks to sign you in as {person.email}.").is_visible()
    assert page.locator("ul.scopes li").all_inner_texts() == [
        "Your name, language and when your profile changed", "Your e-mail address"]
    page.get_by_role("button", name="Allow").click()
    page.get_by_role("heading", name=f"Signed in to {APP_NAME} as Ada Lovelace").wait_for()
    assert page.url.startswith(rp.url + "/callback")
    assert page.locator("#email").inner_text() == person.email
    assert page.locator("#issuer").inner_text() == live_server.url

    # Allowed once: the next sign-in does not ask again.
    _sign_in_at(page, rp)
    page.get_by_role("heading", name=f"Signed in to {APP_NAME} as Ada Lovelace").wait_for()

    # Withdraw the access on the Applications page: the application must ask again, and is denied.
    page.goto(live_server.url + "/applications")
    assert page.get_by_role("heading", name=APP_NAME).is_visible()
    page.get_by_role("button", name="Withdraw access").click()
    assert page.get_by_text("Access withdrawn. The application must ask again.").is_visible()
    assert page.get_by_text("No application has access to your account.").is_visible()
    _sign_in_at(page, rp)
    page.get_by_role("heading", name=f"Allow {APP_NAME}?").wait_for()
    page.get_by_role("button", name="Deny").click()
    page.get_by_role("heading", name=f"{APP_NAME} was not allowed to sign you in").wait_for()
    assert page.locator("#error").inner_text() == "access_denied"

    # Allow again, then sign out from the application: its ID token is the proof, no question asked.
    _sign_in_at(page, rp)
    page.get_by_role("button", name="Allow").click()
    page.get_by_role("heading", name=f"Signed in to {APP_NAME} as Ada Lovelace").wait_for()
    page.get_by_role("link", name="Sign out").click()
    page.get_by_role("heading", name=f"Signed out of {APP_NAME}").wait_for()
    assert page.locator("#state").inner_text() == "leaving"
    page.goto(live_server.url + "/")
    assert page.url.startswith(live_server.url + "/login")
    assert services.sessions.list(person.id) == []


def test_a_logout_link_without_proof_asks_before_signing_out(page, live_server, relying_party, make_user, services):
    person = make_user(display_name="Grace Hopper")
    sign_in(page, person.email, person.password)
    page.get_by_role("heading", name="Hello, Grace Hopper").wait_for()

    # A link anyone could have made: the person is asked, and can stay.
    page.goto("/oauth/logout?" + urlencode({"client_id": relying_party.client.client_id,
                                            "post_logout_redirect_uri": f"{relying_party.url}/bye"}))
    page.get_by_role("heading", name="Sign out?").wait_for()
    page.get_by_role("link", name="Stay signed in").click()
    page.get_by_role("heading", name="Hello, Grace Hopper").wait_for()

    page.goto("/oauth/logout?" + urlencode({"client_id": relying_party.client.client_id}))
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("heading", name="You are signed out").wait_for()
    assert page.url == live_server.url + "/oauth/logged-out"
    page.goto("/")
    assert page.url.startswith(live_server.url + "/login")
    assert services.sessions.list(person.id) == []
