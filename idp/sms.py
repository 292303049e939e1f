"""The SmsSender port: how a text message reaches a phone (a file twin, a signed HTTP webhook)."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
from collections import deque
from pathlib import Path
from typing import Protocol

import requests

from idp.errors import IdpError

log = logging.getLogger(__name__)


class SmsDeliveryError(IdpError):
    """The message could not be handed to the gateway; the person may try again later."""

    status = 503
    code = "temporarily_unavailable"


class SmsSender(Protocol):
    """Hands one text message to a gateway, or raises SmsDeliveryError. The text is a code for the
    person: never logged."""

    def send(self, number: str, text: str) -> None: ...


class FileSmsSender:
    """The embedded default: each message is a JSON file under <instance>/sms (and the last ones
    are kept in memory, for the tests); nothing leaves the machine."""

    def __init__(self, directory: Path, keep: int = 100) -> None:
        self.directory = directory
        self.sent: deque[tuple[str, str]] = deque(maxlen=keep)

    def send(self, number: str, text: str) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"{time.time_ns()}-{secrets.token_hex(4)}.json"
        (self.directory / name).write_text(json.dumps({"to": number, "text": text}), encoding="utf-8")
        self.sent.append((number, text))


class NullSmsSender:
    """Sends nothing: phone numbers can be kept but not confirmed."""

    def send(self, number: str, text: str) -> None:
        raise SmsDeliveryError("text messages are turned off")


def webhook_signature(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`: the gateway checks it and the timestamp."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={mac}"


class WebhookSmsSender:
    """POSTs `{"to": "+41...", "text": "..."}` to the operator's SMS gateway, signed with
    HMAC-SHA256 in `X-Idp-Signature` over `X-Idp-Timestamp` and the body. Any answer but 2xx, a
    timeout or a network error raises SmsDeliveryError, so the page can say so."""

    def __init__(self, url: str, secret: str, *, timeout: float = 5.0) -> None:
        self.url, self.secret, self.timeout = url, secret, timeout
        self.http = requests.Session()

    def send(self, number: str, text: str) -> None:
        body = json.dumps({"to": number, "text": text}, separators=(",", ":")).encode()
        timestamp = str(int(time.time()))
        headers = {"Content-Type": "application/json", "X-Idp-Timestamp": timestamp,
                   "X-Idp-Signature": webhook_signature(self.secret, timestamp, body)}
        try:
            answer = self.http.post(self.url, data=body, headers=headers, timeout=self.timeout)
        except requests.RequestException as exc:
            log.warning("sms gateway unreachable", extra={"error": type(exc).__name__})
            raise SmsDeliveryError("the SMS gateway does not answer") from exc
        if not 200 <= answer.status_code < 300:
            log.warning("sms gateway refused", extra={"status": answer.status_code})
            raise SmsDeliveryError(f"the SMS gateway answered {answer.status_code}")
