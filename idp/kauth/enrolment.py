"""Device enrolment: a single-use token in a QR code, proof of possession of the key it enrols."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from idp.clock import Clock
from idp.errors import N_
from idp.events import EventRecorder
from idp.events import EventTag
from idp.events import Product
from idp.kauth import crypto
from idp.kauth.device_requests import DeviceRequests
from idp.kauth.errors import DeviceAuthError
from idp.kauth.errors import InvalidEnrolmentTokenError
from idp.kauth.errors import MalformedRequestError
from idp.kauth.errors import TooManyDevicesError
from idp.kauth.model import Device
from idp.kauth.model import epoch_ms
from idp.kauth.ports import DeviceStore
from idp.kauth.ports import StateStore
from idp.kauth.ports import UserLookup
from idp.kauth.validation import HANDLE
from idp.kauth.validation import PLATFORM
from idp.kauth.validation import TOKEN
from idp.kauth.validation import clean_text
from idp.mail import MailService
from idp.model import RequestContext
from idp.model import User
from idp.settings import KauthSettings
from idp.standing import Act
from idp.standing import may


@dataclass(frozen=True)
class Enrolment:
    """A started enrolment: the single-use `token` goes into the QR code, `handle` is what the
    browser polls (it cannot enrol anything)."""

    token: str
    handle: str
    expires_at: dt.datetime


@dataclass(frozen=True)
class _Request:
    """An enrolment request's payload, checked for shape."""

    token: str = field(repr=False)
    name: str
    platform: str
    key: ec.EllipticCurvePublicKey


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _parse(payload: Any) -> _Request:
    if not isinstance(payload, dict):
        raise MalformedRequestError("the body must be a JSON object")
    token = payload.get("token")
    if not isinstance(token, str) or not TOKEN.match(token):
        raise MalformedRequestError("token is missing or malformed")
    name = clean_text(payload.get("name"), field="name", max_length=100)
    platform = clean_text(payload.get("platform"), field="platform", max_length=40)
    if not PLATFORM.match(platform):
        raise MalformedRequestError("platform may use letters, digits, spaces and ._()-")
    public_key = payload.get("public_key")
    if not isinstance(public_key, str):
        raise MalformedRequestError("public_key must be a string")
    try:
        key = crypto.load_public_key(public_key)
    except crypto.BadKeyError:
        raise MalformedRequestError("public_key must be a P-256 SubjectPublicKeyInfo (DER, base64url)") from None
    return _Request(token=token, name=name, platform=platform, key=key)


class Enrolments:
    """Start an enrolment from the account's page, enrol the device that presents its token,
    and tell the waiting page. `on_first_device` runs when an account gets its first device."""

    def __init__(
        self, *, devices: DeviceStore, state: StateStore, users: UserLookup, events: EventRecorder,
        mail: MailService, clock: Clock, settings: KauthSettings, requests: DeviceRequests,
        on_first_device: Callable[[User, RequestContext], None],
    ) -> None:
        self.devices, self.state, self.users, self.events = devices, state, users, events
        self.mail, self.clock, self.settings, self.requests = mail, clock, settings, requests
        self.on_first_device = on_first_device

    def start(self, user: User) -> Enrolment:
        """A single-use enrolment token valid `enrolment_ttl` seconds, stored only as a digest."""
        if self.devices.count_active(user.id) >= self.settings.max_devices:
            raise TooManyDevicesError(N_("You already have the most kAuth devices allowed. Remove one first."))
        token, handle = secrets.token_urlsafe(32), secrets.token_urlsafe(16)
        expires = self.clock.now() + dt.timedelta(seconds=self.settings.enrolment_ttl)
        record = {"user_id": user.id, "handle": handle, "expires_ms": epoch_ms(expires)}
        self.state.put_enrolment(_digest(token), record, user_id=user.id, handle=handle,
                                 ttl=self.settings.enrolment_ttl)
        return Enrolment(token=token, handle=handle, expires_at=expires)

    def status(self, user: User, handle: str) -> Device | str:
        """The device enrolled with this handle's token, or "pending" / "expired"."""
        if not HANDLE.match(handle or ""):
            return "expired"
        value = self.state.enrolment_status(user.id, handle)
        if value is None:
            return "expired"
        if value == "pending":
            return "pending"
        device = self.devices.get(value)
        return device if device is not None and device.user_id == user.id else "expired"

    def enrol(self, payload: Any, *, timestamp: str, nonce: str, signature: str, method: str, path: str,
              body: bytes, ctx: RequestContext) -> Device:
        """Enrol a device from its JSON payload {token, name, platform, public_key}.

        The request must be signed with the private half of `public_key` (proof of possession),
        so nobody can enrol a key they do not hold. The token is taken (deleted) before the
        device is stored: a token enrols at most one device, even under concurrent requests.
        """
        request = _parse(payload)
        self.requests.check_headers(timestamp, nonce, signature)
        self.requests.check_time(timestamp)
        if not crypto.verify(request.key, signature, crypto.request_string(method, path, timestamp, nonce, body)):
            raise DeviceAuthError("the request is not signed by the key it enrols")
        record = self.state.take_enrolment(_digest(request.token))
        if record is None or record["expires_ms"] <= epoch_ms(self.clock.now()):
            raise InvalidEnrolmentTokenError("this enrolment link is unknown, used or expired")
        user = self.users.get(int(record["user_id"]))
        if user is None or not may(user, Act.KAUTH_DEVICE):
            raise InvalidEnrolmentTokenError("this enrolment link is unknown, used or expired")
        count = self.devices.count_active(user.id)
        if count >= self.settings.max_devices:
            raise TooManyDevicesError("this account has the most devices allowed")
        device = self._add(user, request, record["handle"], ctx)
        if count == 0:
            self.on_first_device(user, ctx)
        return device

    def _add(self, user: User, request: _Request, handle: str, ctx: RequestContext) -> Device:
        """Store the device, tell the page polling `handle`, record it and mail the owner."""
        name, platform = request.name, request.platform
        device = self.devices.add(
            device_id="kd_" + secrets.token_urlsafe(18), user_id=user.id, name=name, platform=platform,
            public_key=crypto.encode_public_key(request.key), now=self.clock.now(),
        )
        self.state.set_enrolment_status(user.id, handle, device.id, self.settings.enrolment_ttl)
        self.events.record_event(
            EventTag.KAUTH_DEVICE_ENROLLED, ctx=ctx, user_id=user.id, product=Product.KAUTH,
            details={"device": device.id, "name": name, "platform": platform},
        )
        self.mail.queue_for(user, "kauth_enrolled", device=name, platform=platform, ip=ctx.ip)
        return device
