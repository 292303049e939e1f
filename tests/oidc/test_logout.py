"""RP-initiated logout and back-channel logout."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from http.server import HTTPServer
from typing import Any
from urllib.parse import parse_qs
from urllib.parse import urlencode

import pytest

from tests.conftest import csrf_of
from tests.conftest import events
from tests.oidc.conftest import LOGOUT_TARGET


def _logout(client: Any, **params: str) -> Any:
    return client.get("/oauth/logout?" + urlencode(params))


def _signed_in(client: Any) -> bool:
    return client.get("/").status_code == 200


def test_valid_hint_and_registered_uri_redirect_with_state(flow: Any, rp: Any, person: Any, client: Any) -> None:
    id_token = flow.tokens(rp, person)["id_token"]
    response = _logout(client, id_token_hint=id_token, post_logout_redirect_uri=LOGOUT_TARGET, state="s-1")
    assert response.headers["Location"] == f"{LOGOUT_TARGET}?state=s-1"
    assert not _signed_in(client)


@pytest.mark.parametrize("target", [LOGOUT_TARGET + "/", "http://127.0.0.1:9999/other", "https://evil.example/"])
def test_unregistered_post_logout_uri_shows_the_logged_out_page(
    flow: Any, rp: Any, person: Any, client: Any, target: str
) -> None:
    id_token = flow.tokens(rp, person)["id_token"]
    response = _logout(client, id_token_hint=id_token, post_logout_redirect_uri=target, state="s")
    assert response.headers["Location"] == "/oauth/logged-out"
    assert not _signed_in(client)


def test_without_a_valid_hint_no_redirect_and_a_confirmation_is_asked(
    flow: Any, rp: Any, person: Any, client: Any
) -> None:
    id_token = flow.tokens(rp, person)["id_token"]
    page = _logout(client, id_token_hint=id_token[:-4] + "AAAA", post_logout_redirect_uri=LOGOUT_TARGET)
    assert page.status_code == 200 and "Location" not in page.headers
    assert _signed_in(client)
    done = client.post("/oauth/logout/confirm", data={"csrf_token": csrf_of(page.get_data(as_text=True))})
    assert done.headers["Location"] == "/oauth/logged-out"
    assert not _signed_in(client)
    assert client.get("/oauth/logged-out").status_code == 200


def test_hint_without_a_session_still_redirects(flow: Any, rp: Any, person: Any, client: Any, auth: Any) -> None:
    id_token = flow.tokens(rp, person)["id_token"]
    auth.logout()
    response = _logout(client, id_token_hint=id_token, post_logout_redirect_uri=LOGOUT_TARGET)
    assert response.headers["Location"] == LOGOUT_TARGET


def test_client_id_must_match_the_hint(flow: Any, rp: Any, make_client: Any, person: Any, client: Any) -> None:
    other = make_client()
    id_token = flow.tokens(rp, person)["id_token"]
    response = _logout(client, id_token_hint=id_token, post_logout_redirect_uri=LOGOUT_TARGET, client_id=other.client_id)
    assert response.headers["Location"] == "/oauth/logged-out"


class _Receiver(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []  # noqa: RUF012 - per-test list set by the fixture
    status = 200

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = parse_qs(self.rfile.read(length).decode())
        self.received.append({"path": self.path, "body": body, "type": self.headers.get("Content-Type")})
        self.send_response(self.status)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []
    handler = type("Handler", (_Receiver,), {"received": received})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/backchannel", received
    server.shutdown()
    server.server_close()


def test_backchannel_logout_token_on_rp_initiated_logout(
    flow: Any, make_client: Any, person: Any, client: Any, receiver: Any, oidc: Any, services: Any
) -> None:
    uri, received = receiver
    rp = make_client(backchannel_logout_uri=uri)
    bystander = make_client()
    tokens = flow.tokens(rp, person, nonce="n")
    flow.tokens(bystander, person)
    sid = oidc.keys.verify(tokens["id_token"])[1]["sid"]
    _logout(client, id_token_hint=tokens["id_token"])
    assert len(received) == 1
    assert received[0]["type"] == "application/x-www-form-urlencoded"
    header, claims = oidc.keys.verify(received[0]["body"]["logout_token"][0], typ="logout+jwt")
    assert header["kid"]
    assert claims["sid"] == sid and claims["aud"] == rp.client_id and claims["iss"] == oidc.issuer
    assert claims["events"] == {"http://schemas.openid.net/event/backchannel-logout": {}}
    assert claims["jti"] and "nonce" not in claims
    assert events(services, "oidc:logout:sent")[-1]["details"]["delivered"] is True


def test_backchannel_logout_when_sessions_are_ended_elsewhere(
    flow: Any, make_client: Any, person: Any, receiver: Any, services: Any
) -> None:
    uri, received = receiver
    rp = make_client(backchannel_logout_uri=uri)
    flow.tokens(rp, person)
    services.sessions.end_all(person.id, _ctx(), reason="admin")
    assert len(received) == 1


def _ctx() -> Any:
    from idp.model import RequestContext

    return RequestContext(ip="127.0.0.1", user_agent="admin")


def test_an_unreachable_backchannel_uri_is_logged_not_raised(
    flow: Any, make_client: Any, person: Any, client: Any, services: Any, port: int
) -> None:
    rp = make_client(backchannel_logout_uri=f"http://127.0.0.1:{port}/nobody-listens")
    tokens = flow.tokens(rp, person)
    response = _logout(client, id_token_hint=tokens["id_token"], post_logout_redirect_uri=LOGOUT_TARGET)
    assert response.status_code == 302
    assert events(services, "oidc:logout:sent")[-1]["details"]["delivered"] is False

