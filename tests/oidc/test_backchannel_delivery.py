"""Back-channel logout delivery to a real local HTTP server: retries, their bound, timeouts, redirects, TLS trust."""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from urllib.parse import urlencode

import pytest

from idp.oidc.logout import RETRIES
from tests.conftest import events
from tests.federation.tenant_server import make_cert


@dataclass
class Receiver:
    """A client's back-channel endpoint: answers each POST with the next of `statuses` (the
    last one again once they run out), after `delay` seconds; remembers every logout_token."""

    uri: str = ""
    statuses: list[int] = field(default_factory=lambda: [200])
    delay: float = 0.0
    tokens: list[str] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)

    def answer(self) -> int:
        return self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            receiver.tokens.append(parse_qs(self.rfile.read(length).decode())["logout_token"][0])
            status = receiver.answer()
            if receiver.delay:
                receiver.release.wait(receiver.delay)
            self.send_response(status)
            if 300 <= status < 400:
                self.send_header("Location", "/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


def _serve(receiver: Receiver, tls: ssl.SSLContext | None = None) -> Iterator[Receiver]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    receiver.uri = f"{'https' if tls else 'http'}://127.0.0.1:{server.server_port}/backchannel"
    yield receiver
    receiver.release.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    yield from _serve(Receiver())


def _log_out(flow: Any, make_client: Any, person: Any, client: Any, uri: str) -> float:
    """Sign in at a client whose back-channel URI is `uri`, log out there; the seconds it took
    (deliveries are inline in tests)."""
    rp = make_client(backchannel_logout_uri=uri)
    tokens = flow.tokens(rp, person)
    started = time.monotonic()
    response = client.get("/oauth/logout?" + urlencode({"id_token_hint": tokens["id_token"]}))
    assert response.status_code in (200, 302)
    return time.monotonic() - started


def _sent(services: Any) -> dict[str, Any]:
    [sent] = events(services, "oidc:logout:sent")
    details: dict[str, Any] = sent["details"]
    return details


Scenario = Callable[..., float]


@pytest.fixture
def log_out(flow: Any, make_client: Any, person: Any, client: Any) -> Scenario:
    return lambda uri: _log_out(flow, make_client, person, client, uri)


def test_delivered_at_the_first_attempt(log_out: Scenario, receiver: Receiver, services: Any) -> None:
    log_out(receiver.uri)
    assert len(receiver.tokens) == 1
    assert _sent(services) == {"delivered": True, "status": "200"}


def test_a_503_is_retried_and_the_same_token_then_delivered(
    log_out: Scenario, receiver: Receiver, services: Any
) -> None:
    receiver.statuses = [503, 200]
    log_out(receiver.uri)
    assert len(receiver.tokens) == 2 and receiver.tokens[0] == receiver.tokens[1]
    assert _sent(services) == {"delivered": True, "status": "200"}


def test_a_client_that_stays_down_is_given_up_after_the_bound(
    log_out: Scenario, receiver: Receiver, services: Any
) -> None:
    receiver.statuses = [503]
    took = log_out(receiver.uri)
    assert len(receiver.tokens) == 1 + RETRIES
    assert _sent(services) == {"delivered": False, "status": "503"}
    assert took < 3  # the backoff is short: 0 s, then 0.5 s


def test_a_slow_client_is_given_up_at_the_timeout_and_not_asked_again(
    log_out: Scenario, receiver: Receiver, services: Any, oidc: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(oidc.backchannel, "timeout", 0.3)
    receiver.delay = 5
    took = log_out(receiver.uri)
    assert took < 2.5  # one read of 0.3 s, not 5 s, and no second attempt
    assert len(receiver.tokens) == 1
    assert _sent(services) == {"delivered": False, "status": "unreachable: ReadTimeout"}


def test_a_redirect_is_not_followed(log_out: Scenario, receiver: Receiver, services: Any) -> None:
    receiver.statuses = [302, 200]
    log_out(receiver.uri)
    assert len(receiver.tokens) == 1
    assert _sent(services) == {"delivered": False, "status": "302"}


def test_nobody_listening_is_retried_then_recorded(log_out: Scenario, services: Any, port: int) -> None:
    took = log_out(f"http://127.0.0.1:{port}/nobody-listens")
    assert took < 3
    assert _sent(services) == {"delivered": False, "status": "unreachable: ConnectionError"}


def test_https_clients_are_trusted_through_the_systems_cas_not_requests_bundle(
    log_out: Scenario, services: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = make_cert(tmp_path)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    # Where OpenSSL (and so the standard library) looks for the system's CAs; the environment
    # variable requests would read names a bundle without this CA, and is ignored.
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "absent.pem"))
    for served in _serve(Receiver(), tls):
        log_out(served.uri)
        assert len(served.tokens) == 1
    assert _sent(services) == {"delivered": True, "status": "200"}
