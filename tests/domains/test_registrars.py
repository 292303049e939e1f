"""The Registrar port's two adapters: the file twin of the embedded default (request files
written, result files applied and moved aside) and the HTTP adapter of production (JSON POSTed
with the bearer token; a slow, failing or absent registrar is an UpstreamError)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from typing import Any
from typing import ClassVar

import pytest

from idp.domains.http_registrar import HttpRegistrar
from idp.domains.model import Status
from idp.errors import UpstreamError
from tests.conftest import events
from tests.domains.conftest import CODE
from tests.domains.conftest import CTX
from tests.domains.conftest import domains
from tests.domains.conftest import link_path
from tests.domains.conftest import request
from tests.domains.conftest import transfer


def test_the_file_twin_writes_requests_and_applies_result_files(cast, services, settings):
    made = request(services, cast.admin)
    folder = settings.instance_path / "registrar"
    [written] = (folder / "requests").glob("*.json")
    sent = json.loads(written.read_text())
    assert sent["action"] == "start" and sent["domain"] == "example.ch" and sent["auth_code"] == CODE
    assert sent["reference"] == str(made.id) and written.stat().st_mode & 0o077 == 0

    results = folder / "results"
    results.mkdir()
    (results / "01-failed.json").write_text(json.dumps(
        {"domain": "example.ch", "status": "failed", "reason": "wrong_auth_code"}))
    (results / "02-garbage.json").write_text("{oops")
    (results / "03-unknown.json").write_text(json.dumps({"domain": "nobody.ch", "status": "completed"}))
    (results / "04-again.json").write_text(json.dumps(
        {"domain": "example.ch", "status": "failed", "reason": "domain_locked"}))
    (results / "notes.txt").write_text("not a result")
    collected = domains(services).reports.poll(CTX)
    assert [(c.name, c.problem) for c in collected] == [
        ("01-failed.json", None),
        ("02-garbage.json", "not JSON"),
        ("03-unknown.json", "no open transfer of nobody.ch"),
        ("04-again.json", "the transfer of example.ch has status failed: it cannot be reported as failed"),
    ]
    assert transfer(services, made.id).status is Status.FAILED and transfer(services, made.id).failures == 1
    assert link_path(services, cast.admin)
    assert sorted(p.name for p in (results / "done").iterdir()) == ["01-failed.json"]
    refused = results / "refused"
    assert (refused / "02-garbage.json.txt").read_text() == "not JSON\n"
    assert sorted(p.name for p in results.iterdir() if p.is_file()) == ["notes.txt"]
    assert domains(services).reports.poll(CTX) == []  # nothing is read twice
    assert len(events(services, "domains:transfer:failed")) == 1


class Registrar(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []
    status = 202
    delay = 0.0

    def do_POST(self) -> None:
        import time

        length = int(self.headers["Content-Length"])
        Registrar.received.append({"auth": self.headers["Authorization"], "body": json.loads(self.rfile.read(length))})
        if Registrar.delay:
            time.sleep(Registrar.delay)  # the slow registrar under test, not a wait
        self.send_response(Registrar.status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *_args: Any) -> None:
        return None


@pytest.fixture
def registrar_server():
    Registrar.received, Registrar.status, Registrar.delay = [], 202, 0.0
    server = ThreadingHTTPServer(("127.0.0.1", 0), Registrar)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/transfers"
    finally:
        server.shutdown()
        server.server_close()


def test_the_http_adapter_posts_json_with_the_bearer_token(registrar_server, cast, services):
    http = HttpRegistrar(registrar_server, "registrar-token-123", timeout=2)
    http.start_transfer("example.ch", CODE, reference="17")
    made = request(services, cast.admin)  # any transfer, for the relaunch's fields
    http.relaunch(made, "New-Code-1")
    assert Registrar.received == [
        {"auth": "Bearer registrar-token-123",
         "body": {"action": "start", "reference": "17", "domain": "example.ch", "auth_code": CODE}},
        {"auth": "Bearer registrar-token-123",
         "body": {"action": "relaunch", "reference": str(made.id), "domain": "example.ch",
                  "auth_code": "New-Code-1", "attempt": 1}},
    ]
    assert http.pending_reports() == []


def test_the_http_adapter_fails_clearly(registrar_server):
    http = HttpRegistrar(registrar_server, "t", timeout=0.5)
    Registrar.status = 500
    with pytest.raises(UpstreamError, match="answered HTTP 500"):
        http.start_transfer("example.ch", CODE, reference="1")
    Registrar.status = 302  # a redirect is not followed: the token goes nowhere else
    with pytest.raises(UpstreamError, match="answered HTTP 302"):
        http.start_transfer("example.ch", CODE, reference="1")
    Registrar.status, Registrar.delay = 202, 1.5
    with pytest.raises(UpstreamError, match=r"did not answer within 0\.5 s"):
        http.start_transfer("example.ch", CODE, reference="1")
    closed = HttpRegistrar("http://127.0.0.1:9/", "secret-token-xyz", timeout=0.5)  # the discard port
    with pytest.raises(UpstreamError, match="cannot be reached") as refused:
        closed.start_transfer("example.ch", CODE, reference="1")
    assert CODE not in str(refused.value) and "secret-token-xyz" not in str(refused.value)


class TestOnHttpSettings:
    @pytest.fixture
    def settings_overrides(self, registrar_server):
        return {"domains": {"registrar": "http", "registrar_url": registrar_server, "registrar_token": "tok-42",
                            "webhook_secret": "s" * 32}}

    def test_the_service_uses_the_http_registrar(self, cast, services):
        assert isinstance(domains(services).registrar, HttpRegistrar)
        request(services, cast.admin)
        [call] = Registrar.received
        assert call["auth"] == "Bearer tok-42" and call["body"]["domain"] == "example.ch"
