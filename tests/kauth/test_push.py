"""The push port: the webhook sender POSTs a notification signed with HMAC-SHA256."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler
from http.server import HTTPServer

from idp.kauth.push import LogPushSender
from idp.kauth.push import WebhookPushSender


class Relay:
    def __init__(self, status: int = 204) -> None:
        received: list[tuple[dict[str, str], bytes]] = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append((dict(self.headers), body))
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.received = received
        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/push"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_the_webhook_posts_a_signed_notification():
    relay = Relay()
    try:
        WebhookPushSender(relay.url, "s3cret", background=False).send("kd_x", {"type": "challenge", "challenge_id": "kc_y"})
    finally:
        relay.close()
    [(headers, body)] = relay.received
    assert json.loads(body) == {"device_id": "kd_x", "message": {"type": "challenge", "challenge_id": "kc_y"}}
    expected = hmac.new(b"s3cret", headers["X-Kauth-Timestamp"].encode() + b"." + body, hashlib.sha256).hexdigest()
    assert headers["X-Kauth-Signature"] == f"sha256={expected}"


def test_a_failing_relay_loses_nothing_and_raises_nothing(caplog):
    relay = Relay(status=500)
    try:
        WebhookPushSender(relay.url, "s3cret", background=False).send("kd_x", {"type": "removed"})
    finally:
        relay.close()
    WebhookPushSender("http://127.0.0.1:9/none", "s", timeout=0.5, background=False).send("kd_x", {"type": "x"})
    assert [r.message for r in caplog.records].count("kauth push failed") == 2


def test_the_log_twin_keeps_the_last_notifications():
    sender = LogPushSender(keep=2)
    for n in range(3):
        sender.send(f"kd_{n}", {"type": "challenge"})
    assert [d for d, _ in sender.sent] == ["kd_1", "kd_2"]
