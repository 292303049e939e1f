"""The PushSender port: how the service nudges a device (a log twin, and a signed webhook)."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from typing import Any
from typing import Protocol

log = logging.getLogger(__name__)


class PushSender(Protocol):
    """Delivers a notification to a device, best effort: it never raises, because a device can
    always poll, so a lost push loses nothing. Notifications carry no number and no secret."""

    def send(self, device_id: str, message: dict[str, Any]) -> None: ...


class LogPushSender:
    """The embedded default: logs each notification and keeps the last ones (for the tests)."""

    def __init__(self, keep: int = 100) -> None:
        self.sent: deque[tuple[str, dict[str, Any]]] = deque(maxlen=keep)

    def send(self, device_id: str, message: dict[str, Any]) -> None:
        self.sent.append((device_id, message))
        log.info("kauth push (log only)", extra={"device": device_id, "kind": message.get("type")})


def webhook_signature(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`: the relay checks it and the timestamp."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={mac}"


class WebhookPushSender:
    """POSTs `{"device_id": ..., "message": {...}}` to a push relay (an APNs/FCM gateway), signed
    with HMAC-SHA256 in `X-Kauth-Signature` over the `X-Kauth-Timestamp` and the body. Sends
    from a background thread so a slow relay never slows a sign-in."""

    def __init__(self, url: str, secret: str, *, timeout: float = 5.0, background: bool = True) -> None:
        self.url, self.secret, self.timeout, self.background = url, secret, timeout, background

    def send(self, device_id: str, message: dict[str, Any]) -> None:
        body = json.dumps({"device_id": device_id, "message": message}, separators=(",", ":")).encode()
        if self.background:
            threading.Thread(target=self._post, args=(body,), daemon=True, name="kauth-push").start()
        else:
            self._post(body)

    def _post(self, body: bytes) -> None:
        timestamp = str(int(time.time()))
        request = urllib.request.Request(  # noqa: S310 - the URL is the operator's setting, http(s) only
            self.url, data=body, method="POST",
            headers={
                "Content-Type": "application/json",
                "X-Kauth-Timestamp": timestamp,
                "X-Kauth-Signature": webhook_signature(self.secret, timestamp, body),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                response.read(1024)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            log.warning("kauth push failed", extra={"error": str(exc)})
