"""Fixtures of the OpenID Provider tests: registered clients, PKCE, and a person signing in."""

from __future__ import annotations

import base64
import hashlib
import secrets
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs
from urllib.parse import urlencode
from urllib.parse import urlsplit

import pytest

from idp.oidc import OIDC
from tests.conftest import csrf_of

REDIRECT = "http://127.0.0.1:9999/callback"
LOGOUT_TARGET = "http://127.0.0.1:9999/bye"


@dataclass
class RegisteredClient:
    client_id: str
    secret: str | None
    redirect_uri: str = REDIRECT


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


@pytest.fixture
def oidc(services: Any) -> Any:
    return services.get(OIDC)


@pytest.fixture
def make_client(oidc: Any) -> Any:
    def make(kind: str = "confidential", **options: Any) -> RegisteredClient:
        options.setdefault("redirect_uris", [REDIRECT] if kind != "service" else [])
        options.setdefault("post_logout_redirect_uris", [LOGOUT_TARGET] if kind != "service" else [])
        client, secret = oidc.clients.create(f"Test {kind}", kind=kind, **options)
        return RegisteredClient(client.client_id, secret)

    return make


@pytest.fixture
def rp(make_client: Any) -> RegisteredClient:
    return make_client()


class Flow:
    """A relying party driving the Flask test client through the authorization endpoint."""

    def __init__(self, client: Any, auth: Any) -> None:
        self.client = client
        self.auth = auth

    def params(self, rp: RegisteredClient, **extra: Any) -> dict[str, str]:
        verifier, challenge = pkce()
        self.verifier = verifier
        values = {
            "response_type": "code", "client_id": rp.client_id, "redirect_uri": rp.redirect_uri,
            "scope": "openid profile email", "state": secrets.token_urlsafe(8),
            "code_challenge": challenge, "code_challenge_method": "S256",
        }
        values.update({k: v for k, v in extra.items() if v is not None})
        for k in [k for k, v in extra.items() if v is None]:
            values.pop(k, None)
        return values

    def authorize(self, params: dict[str, str], method: str = "GET") -> Any:
        if method == "POST":
            return self.client.post("/oauth/authorize", data=params)
        return self.client.get("/oauth/authorize?" + urlencode(params))

    def consent(self, page: Any, decision: str = "allow") -> Any:
        html = page.get_data(as_text=True)
        request_id = html.split('name="request_id"')[1].split('value="')[1].split('"')[0]
        return self.client.post("/oauth/consent", data={
            "csrf_token": csrf_of(html), "request_id": request_id, "decision": decision,
        })

    def follow_to_client(self, response: Any) -> dict[str, str]:
        """Follow redirects inside the IdP until one leaves for the relying party."""
        for _ in range(10):
            assert response.status_code in (302, 303), response.get_data(as_text=True)[:500]
            location = response.headers["Location"]
            if location.startswith("http://127.0.0.1:9999"):
                return query_of(location)
            response = self.client.get(location)
            if response.status_code == 200 and b'name="request_id"' in response.data:
                response = self.consent(response)
        raise AssertionError("never went back to the client")

    def code_for(self, rp: RegisteredClient, person: Any, **extra: Any) -> tuple[dict[str, str], dict[str, str]]:
        """Sign in (if needed), consent, and return (params sent, query received by the client)."""
        params = self.params(rp, **extra)
        first = self.authorize(params)
        if first.status_code == 302 and "/login" in first.headers["Location"]:
            next_url = query_of(first.headers["Location"])["next"]
            self.auth.sign_in(person.email, person.password, next_url)
            first = self.client.get(next_url)
        if first.status_code == 200 and b'name="request_id"' in first.data:
            first = self.consent(first)
        return params, self.follow_to_client(first)

    def redeem(self, rp: RegisteredClient, code: str, verifier: str | None = None, **extra: str) -> Any:
        data = {"grant_type": "authorization_code", "code": code, "redirect_uri": rp.redirect_uri,
                "code_verifier": verifier or self.verifier, **extra}
        return self.client.post("/oauth/token", data=data, auth=(rp.client_id, rp.secret) if rp.secret else None) \
            if rp.secret else self.client.post("/oauth/token", data=data | {"client_id": rp.client_id})

    def tokens(self, rp: RegisteredClient, person: Any, **extra: Any) -> dict[str, Any]:
        _params, answer = self.code_for(rp, person, **extra)
        response = self.redeem(rp, answer["code"])
        assert response.status_code == 200, response.get_data(as_text=True)
        return dict(response.get_json())


@pytest.fixture
def flow(client: Any, auth: Any) -> Flow:
    return Flow(client, auth)


@pytest.fixture
def person(make_user: Any) -> Any:
    return make_user(display_name="Ada Lovelace")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def live(app: Any, port: int) -> Iterator[Any]:
    """The production application on a real port whose URL is the issuer (tests that use it set
    the issuer): on PostgreSQL its fast lane answers the successful token, userinfo and
    introspection requests, on SQLite the Flask views answer everything but discovery and JWKS."""
    from tests.e2e.conftest import LiveServer

    server = LiveServer(app, port).start()
    yield server
    server.stop()


def browser_authorize(session: Any, base: str, authorize_url: str, person: Any, stop_at: str) -> str:
    """What a browser does with the authorization URL: sign in, consent, and return the URL it is
    finally sent to on the relying party (`stop_at`), which is not followed."""
    url = authorize_url
    for _ in range(12):
        response = session.get(url, allow_redirects=False)
        if response.status_code in (302, 303):
            url = response.headers["Location"]
            if url.startswith("/"):
                url = base + url
            if url.startswith(stop_at):
                return str(url)
            continue
        html = response.text
        if 'name="request_id"' in html:
            request_id = html.split('name="request_id"')[1].split('value="')[1].split('"')[0]
            response = session.post(f"{base}/oauth/consent", data={
                "csrf_token": csrf_of(html), "request_id": request_id, "decision": "allow",
            }, allow_redirects=False)
        elif 'name="password"' in html:
            response = session.post(f"{base}/login/password", data={
                "csrf_token": csrf_of(html), "password": person.password,
            }, allow_redirects=False)
        elif 'name="login"' in html:
            next_url = query_of(url).get("next", "")
            response = session.post(f"{base}/login", data={
                "csrf_token": csrf_of(html), "login": person.email, "next": next_url,
            }, allow_redirects=False)
        else:
            raise AssertionError(f"unexpected page at {url}: {html[:300]}")
        assert response.status_code in (302, 303), response.text[:500]
        url = response.headers["Location"]
        if url.startswith("/"):
            url = base + url
        if url.startswith(stop_at):
            return str(url)
    raise AssertionError("the browser never reached the relying party")
