"""kAuth test helpers: a phone that signs its requests like the real device client."""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

import pytest

from idp.kauth import KAUTH
from idp.kauth import crypto
from idp.kauth.service import KauthService
from tests.conftest import csrf_of

API = "/api/kauth/v1"


class Phone:
    """A device speaking to the app through the Flask test client."""

    def __init__(self, client: Any, clock: Any = None) -> None:
        self.client = client
        self.clock = clock
        self.key = crypto.generate_key()
        self.device_id: str | None = None
        self.server_public_key: str | None = None

    def headers(self, method: str, path: str, body: bytes, *, nonce: str | None = None,
                timestamp: str | None = None, key: Any = None) -> dict[str, str]:
        now = self.clock.now().timestamp() if self.clock else time.time()
        timestamp = timestamp or str(int(now))
        nonce = nonce or secrets.token_urlsafe(18)
        signature = crypto.sign(key or self.key, crypto.request_string(method, path, timestamp, nonce, body))
        headers = {"X-Kauth-Timestamp": timestamp, "X-Kauth-Nonce": nonce, "X-Kauth-Signature": signature}
        if self.device_id:
            headers["X-Kauth-Device"] = self.device_id
        return headers

    def call(self, method: str, path: str, payload: Any = None, **options: Any) -> Any:
        body = json.dumps(payload).encode() if payload is not None else b""
        full = API + path
        headers = self.headers(method, full, body, **options)
        return self.client.open(full, method=method, data=body, headers=headers,
                                content_type="application/json" if payload is not None else None)

    def enrol(self, token: str, name: str = "Test phone", platform: str = "Android 15") -> Any:
        response = self.call("POST", "/devices", {
            "token": token, "name": name, "platform": platform,
            "public_key": crypto.encode_public_key(self.key.public_key()),
        })
        if response.status_code == 201:
            self.device_id = response.json["device_id"]
            self.server_public_key = response.json["server_public_key"]
        return response

    def pending(self) -> list[dict[str, Any]]:
        response = self.call("GET", "/challenges")
        assert response.status_code == 200, response.json
        return list(response.json["challenges"])

    def answer(self, challenge_id: str, decision: str, number: int | None = None, reason: str | None = None) -> Any:
        payload: dict[str, Any] = {
            "decision": decision,
            "signature": crypto.sign(self.key, crypto.answer_string(challenge_id, decision, number)),
        }
        if number is not None:
            payload["number"] = number
        if reason:
            payload["reason"] = reason
        return self.call("POST", f"/challenges/{challenge_id}/answer", payload)


@pytest.fixture
def kauth(services: Any) -> KauthService:
    service: KauthService = services.get(KAUTH)
    return service


@pytest.fixture
def phone_for(client: Any, clock: Any, services: Any, kauth: KauthService) -> Any:
    """phone_for(person) -> a Phone enrolled on that person's account."""

    def enrol(person: Any, name: str = "Test phone") -> Phone:
        user = services.users.get(person.id)
        enrolment = kauth.start_enrolment(user)
        phone = Phone(client, clock)
        response = phone.enrol(enrolment.token, name=name)
        assert response.status_code == 201, response.json
        return phone

    return enrol


def waiting_number(page_html: str) -> int:
    marker = 'id="kauth-number"'
    start = page_html.index(marker)
    start = page_html.index(">", start) + 1
    return int(page_html[start:page_html.index("<", start)])


def check(client: Any, page_html: str, action: str = "check") -> Any:
    """Submit the waiting page's form (what its script does once the device answered)."""
    return client.post("/login/kauth", data={"csrf_token": csrf_of(page_html), "action": action})
