"""Signed device requests: header shapes, clock skew, signature, single-use nonce, removal notices."""

from __future__ import annotations

import datetime as dt
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from idp.clock import Clock
from idp.events import EventRecorder
from idp.events import EventTag
from idp.events import Product
from idp.kauth import crypto
from idp.kauth.errors import AccountUnavailableError
from idp.kauth.errors import DeviceAuthError
from idp.kauth.errors import DeviceRemovedError
from idp.kauth.errors import MalformedRequestError
from idp.kauth.model import Device
from idp.kauth.ports import DeviceStore
from idp.kauth.ports import StateStore
from idp.kauth.ports import UserLookup
from idp.kauth.validation import DEVICE_ID
from idp.kauth.validation import NONCE
from idp.kauth.validation import TIMESTAMP
from idp.model import RequestContext
from idp.settings import KauthSettings
from idp.standing import Act
from idp.standing import may


class DeviceRequests:
    """Checks every request a device signs with its key, and signs what the server tells a
    removed device with the server's key."""

    def __init__(
        self, *, devices: DeviceStore, state: StateStore, users: UserLookup, events: EventRecorder, clock: Clock,
        settings: KauthSettings, server_key: ec.EllipticCurvePrivateKey,
    ) -> None:
        self.devices, self.state, self.users, self.events = devices, state, users, events
        self.clock, self.settings, self._server_key = clock, settings, server_key

    def check_headers(self, timestamp: str, nonce: str, signature: str) -> None:
        if not TIMESTAMP.match(timestamp or "") or not NONCE.match(nonce or "") or not signature:
            raise MalformedRequestError("X-Kauth-Timestamp, X-Kauth-Nonce and X-Kauth-Signature are required")
        if len(signature) > 200:
            raise MalformedRequestError("the signature is too long")

    def check_time(self, timestamp: str) -> None:
        if abs(int(timestamp) - int(self.clock.now().timestamp())) > self.settings.clock_skew:
            raise DeviceAuthError("the request timestamp is too far from the server time", code="stale_request")

    def authenticate(self, *, device_id: str, timestamp: str, nonce: str, signature: str, method: str,
                     path: str, body: bytes, ctx: RequestContext) -> Device:
        """The device that signed this request, or an error.

        Order matters: a removed device gets its signed "removed" notice (its key is gone, so
        nothing it signs can be checked or accepted); the signature is verified before the nonce
        is stored, so unsigned junk cannot fill Redis; a nonce is accepted once per device within
        twice the allowed clock skew, past which the timestamp check refuses the request anyway.
        """
        if not DEVICE_ID.match(device_id or ""):
            raise MalformedRequestError("X-Kauth-Device is missing or malformed")
        self.check_headers(timestamp, nonce, signature)
        device = self.devices.get(device_id)
        if device is None:
            raise DeviceAuthError("unknown device", code="unknown_device")
        if not device.active or device.public_key is None:
            raise DeviceRemovedError(self.removed_notice(device))
        self.check_time(timestamp)
        if not crypto.verify(device.public_key, signature, crypto.request_string(method, path, timestamp, nonce, body)):
            self.refused(device, ctx, "signature")
            raise DeviceAuthError("the signature does not match this device's key")
        if not self.state.claim_nonce(device.id, nonce, 2 * self.settings.clock_skew + 1):
            self.refused(device, ctx, "replay")
            raise DeviceAuthError("this request was already received", code="replayed_request")
        if not may(self.users.get(device.user_id), Act.KAUTH_DEVICE):
            raise AccountUnavailableError("this device's account cannot act now")
        now = self.clock.now()
        if device.last_seen_at is None or now - device.last_seen_at > dt.timedelta(minutes=1):
            self.devices.touch(device.id, now)
        return device

    def refused(self, device: Device, ctx: RequestContext, reason: str) -> None:
        """Record a request (or an answer) the device's key did not sign, or a replay."""
        self.events.record_event(
            EventTag.KAUTH_REQUEST_REFUSED, ctx=ctx, user_id=device.user_id, product=Product.KAUTH,
            details={"device": device.id, "reason": reason},
        )

    def removed_notice(self, device: Device) -> dict[str, Any]:
        """The server-signed notice a removed device receives (on its next request, and by push)."""
        notice = {
            "type": "removed", "device_id": device.id,
            "removed_at": (device.removed_at or self.clock.now()).isoformat(),
            "by": device.removed_by or "account",
        }
        return crypto.sign_notice(self._server_key, notice)
