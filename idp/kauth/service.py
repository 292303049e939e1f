"""kAuth rules: enrolment, device authentication, approval challenges with number matching, removal.

Framework-free: pages and the device API parse input and call one method here. Every
security-relevant step records one event. Expiries read the injected clock.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from idp.clock import Clock
from idp.errors import N_
from idp.errors import FlowError
from idp.errors import NotFoundError
from idp.events import EventRecorder
from idp.events import EventTag
from idp.events import Product
from idp.kauth import crypto
from idp.kauth.errors import AccountUnavailableError
from idp.kauth.errors import AlreadyAnsweredError
from idp.kauth.errors import ApprovalBusyError
from idp.kauth.errors import ApprovalCappedError
from idp.kauth.errors import ChallengeExpiredError
from idp.kauth.errors import DeviceAuthError
from idp.kauth.errors import DeviceRemovedError
from idp.kauth.errors import InvalidEnrolmentTokenError
from idp.kauth.errors import MalformedRequestError
from idp.kauth.errors import TooManyDevicesError
from idp.kauth.errors import UnknownChallengeError
from idp.kauth.model import Challenge
from idp.kauth.model import Device
from idp.kauth.ports import DeviceStore
from idp.kauth.ports import StateStore
from idp.kauth.ports import UserLookup
from idp.kauth.push import PushSender
from idp.kauth.validation import CHALLENGE_ID
from idp.kauth.validation import DEVICE_ID
from idp.kauth.validation import HANDLE
from idp.kauth.validation import NONCE
from idp.kauth.validation import PLATFORM
from idp.kauth.validation import TIMESTAMP
from idp.kauth.validation import TOKEN
from idp.kauth.validation import clean_text
from idp.kauth.validation import number_options
from idp.kauth.validation import parse_answer
from idp.mail import MailService
from idp.model import RequestContext
from idp.model import User
from idp.settings import KauthSettings
from idp.standing import Act
from idp.standing import may
from idp.useragent import describe

log = logging.getLogger(__name__)

HOUR_MS = 3600 * 1000
# Answers the browser can still read this long after the challenge expired.
KEEP_AFTER = 300
# "amr" values of an approval (RFC 8176): proof of possession of a software-held key (swk) on a
# second device, reached over a second channel (mca); the flow adds "mfa".
AMR = ["mca", "swk"]

@dataclass(frozen=True)
class Enrolment:
    """A started enrolment: the single-use `token` goes into the QR code, `handle` is what the
    browser polls (it cannot enrol anything)."""

    token: str
    handle: str
    expires_at: dt.datetime


def flow_digest(flow_id: str) -> str:
    return hashlib.sha256(flow_id.encode()).hexdigest()


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _ms(when: dt.datetime) -> int:
    return int(when.timestamp() * 1000)


class KauthService:
    def __init__(
        self, *, devices: DeviceStore, state: StateStore, users: UserLookup, events: EventRecorder,
        mail: MailService, push: PushSender, clock: Clock, settings: KauthSettings, server_secret: str,
        site_name: str = "Identity",
    ) -> None:
        self.devices, self.state, self.users, self.events = devices, state, users, events
        self.mail, self.push, self.clock, self.settings = mail, push, clock, settings
        self.site_name = site_name
        self._server_key = crypto.server_key(server_secret)
        self.server_public_key = crypto.encode_public_key(self._server_key.public_key())
        # Called with the user when their first device is enrolled (recovery codes, if offered).
        self.on_first_device: list[Callable[[User, RequestContext], None]] = []
        # Called when the account's last device goes (by the account or by the device itself).
        self.on_last_device_removed: list[Callable[[User], None]] = []

    def _now_ms(self) -> int:
        return _ms(self.clock.now())

    # -- devices -----------------------------------------------------------------------

    def devices_of(self, user: User) -> list[Device]:
        return self.devices.active_for_user(user.id)

    def has_devices(self, user: User) -> bool:
        return self.devices.count_active(user.id) > 0

    def under_cap(self, user: User) -> bool:
        sent = self.state.sent_in_window(user.id, now_ms=self._now_ms(), window_ms=HOUR_MS)
        return sent < self.settings.hourly_cap

    # -- enrolment ---------------------------------------------------------------------

    def start_enrolment(self, user: User) -> Enrolment:
        """A single-use enrolment token valid `enrolment_ttl` seconds, stored only as a digest."""
        if self.devices.count_active(user.id) >= self.settings.max_devices:
            raise TooManyDevicesError(N_("You already have the most kAuth devices allowed. Remove one first."))
        token, handle = secrets.token_urlsafe(32), secrets.token_urlsafe(16)
        expires = self.clock.now() + dt.timedelta(seconds=self.settings.enrolment_ttl)
        record = {"user_id": user.id, "handle": handle, "expires_ms": _ms(expires)}
        self.state.put_enrolment(_digest(token), record, user_id=user.id, handle=handle,
                                 ttl=self.settings.enrolment_ttl)
        return Enrolment(token=token, handle=handle, expires_at=expires)

    def enrolment_status(self, user: User, handle: str) -> Device | str:
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
        self._check_headers(timestamp, nonce, signature)
        self._check_time(timestamp)
        if not crypto.verify(key, signature, crypto.request_string(method, path, timestamp, nonce, body)):
            raise DeviceAuthError("the request is not signed by the key it enrols")
        record = self.state.take_enrolment(_digest(token))
        if record is None or record["expires_ms"] <= self._now_ms():
            raise InvalidEnrolmentTokenError("this enrolment link is unknown, used or expired")
        user = self.users.get(int(record["user_id"]))
        if user is None or not may(user, Act.KAUTH_DEVICE):
            raise InvalidEnrolmentTokenError("this enrolment link is unknown, used or expired")
        count = self.devices.count_active(user.id)
        if count >= self.settings.max_devices:
            raise TooManyDevicesError("this account has the most devices allowed")
        device = self.devices.add(
            device_id="kd_" + secrets.token_urlsafe(18), user_id=user.id, name=name, platform=platform,
            public_key=crypto.encode_public_key(key), now=self.clock.now(),
        )
        self.state.set_enrolment_status(user.id, record["handle"], device.id, self.settings.enrolment_ttl)
        self.events.record_event(
            EventTag.KAUTH_DEVICE_ENROLLED, ctx=ctx, user_id=user.id, product=Product.KAUTH,
            details={"device": device.id, "name": name, "platform": platform},
        )
        self.mail.queue_for(user, "kauth_enrolled", device=name, platform=platform, ip=ctx.ip)
        if count == 0:
            for hook in self.on_first_device:
                try:
                    hook(user, ctx)
                except Exception:
                    log.exception("kauth first-device hook failed")
        return device

    # -- device requests ---------------------------------------------------------------

    def _check_headers(self, timestamp: str, nonce: str, signature: str) -> None:
        if not TIMESTAMP.match(timestamp or "") or not NONCE.match(nonce or "") or not signature:
            raise MalformedRequestError("X-Kauth-Timestamp, X-Kauth-Nonce and X-Kauth-Signature are required")
        if len(signature) > 200:
            raise MalformedRequestError("the signature is too long")

    def _check_time(self, timestamp: str) -> None:
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
        self._check_headers(timestamp, nonce, signature)
        device = self.devices.get(device_id)
        if device is None:
            raise DeviceAuthError("unknown device", code="unknown_device")
        if not device.active or device.public_key is None:
            raise DeviceRemovedError(self.removed_notice(device))
        self._check_time(timestamp)
        if not crypto.verify(device.public_key, signature, crypto.request_string(method, path, timestamp, nonce, body)):
            self._refused(device, ctx, "signature")
            raise DeviceAuthError("the signature does not match this device's key")
        if not self.state.claim_nonce(device.id, nonce, 2 * self.settings.clock_skew + 1):
            self._refused(device, ctx, "replay")
            raise DeviceAuthError("this request was already received", code="replayed_request")
        if not may(self.users.get(device.user_id), Act.KAUTH_DEVICE):
            raise AccountUnavailableError("this device's account cannot act now")
        now = self.clock.now()
        if device.last_seen_at is None or now - device.last_seen_at > dt.timedelta(minutes=1):
            self.devices.touch(device.id, now)
        return device

    def _refused(self, device: Device, ctx: RequestContext, reason: str) -> None:
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

    # -- challenges --------------------------------------------------------------------

    def open_challenge(self, user: User, flow_id: str, ctx: RequestContext, *, application: str = "") -> Challenge:
        """Send one approval request for this sign-in to every device of the account.

        Called only from the factor page, which the flow reaches after the right password. At
        most one request waits per account, and at most `hourly_cap` are sent per hour.
        """
        devices = self.devices.active_for_user(user.id)
        if not devices:
            raise NotFoundError(N_("This account has no kAuth device."))
        now = self.clock.now()
        number = 10 + secrets.randbelow(90)
        challenge = Challenge(
            id="kc_" + secrets.token_urlsafe(18), user_id=user.id, flow=flow_digest(flow_id), number=number,
            options=number_options(number), created_ms=_ms(now),
            expires_ms=_ms(now + dt.timedelta(seconds=self.settings.challenge_ttl)),
            context={
                "application": application or self.site_name, "ip": ctx.ip,
                "browser": describe(ctx.user_agent) if ctx.user_agent else "", "time": now.isoformat(),
            },
        )
        status, ident = self.state.create_challenge(
            challenge, cap=self.settings.hourly_cap, window_ms=HOUR_MS,
            keep=self.settings.challenge_ttl + KEEP_AFTER,
        )
        if status == "busy":
            existing = self.state.get_challenge(user.id, ident)
            if existing is not None and existing.flow == challenge.flow:
                return existing
            raise ApprovalBusyError(N_("Another approval request is already waiting on your device. "
                                       "Answer it or wait two minutes, then try again."))
        if status == "capped":
            self.events.record_event(EventTag.KAUTH_CHALLENGE_CAPPED, ctx=ctx, user_id=user.id,
                                     product=Product.KAUTH, details={"cap": self.settings.hourly_cap})
            raise ApprovalCappedError(N_("Too many approval requests were sent in the last hour. "
                                         "Use another way to sign in, or try again later."))
        self.events.record_event(
            EventTag.KAUTH_CHALLENGE_SENT, ctx=ctx, user_id=user.id, product=Product.KAUTH,
            details={"challenge": challenge.id, "devices": len(devices)},
        )
        for device in devices:
            self.push.send(device.id, {"type": "challenge", "challenge_id": challenge.id,
                                       "expires_at": _iso(challenge.expires_ms)})
        return challenge

    def challenge_status(self, user_id: int, challenge_id: str) -> str:
        """What the waiting browser shows: pending, approved, denied, wrong_number, reported, expired."""
        if not CHALLENGE_ID.match(challenge_id or ""):
            return "expired"
        challenge = self.state.get_challenge(user_id, challenge_id)
        if challenge is None or challenge.expired(self._now_ms()):
            return "expired"
        return challenge.status

    def waiting(self, user_id: int, challenge_id: str, flow_id: str) -> Challenge | None:
        """This sign-in's request while it still waits for an answer (a reload shows it again)."""
        if not CHALLENGE_ID.match(challenge_id or ""):
            return None
        challenge = self.state.get_challenge(user_id, challenge_id)
        if challenge is None or challenge.flow != flow_digest(flow_id) or challenge.status != "pending":
            return None
        return None if challenge.expired(self._now_ms()) else challenge

    def pending_for(self, device: Device) -> list[dict[str, Any]]:
        """The waiting request of the device's account (at most one), as the device shows it:
        context and three numbers, never which one is right."""
        challenge_id = self.state.pending_id(device.user_id)
        challenge = self.state.get_challenge(device.user_id, challenge_id) if challenge_id else None
        if challenge is None or challenge.status != "pending" or challenge.expired(self._now_ms()):
            return []
        return [{
            "id": challenge.id, "options": challenge.options, "context": challenge.context,
            "created_at": _iso(challenge.created_ms), "expires_at": _iso(challenge.expires_ms),
        }]

    def answer(self, device: Device, challenge_id: str, payload: Any, ctx: RequestContext,
               *, wizard_url: str) -> str:
        """Record a device's signed answer; the first valid one wins (atomic in Redis).

        `payload` is {decision: approve|deny, number (approve), reason: cancelled|not_me (deny),
        signature}: the signature is the device key's over the challenge id, the decision and
        the number. Returns the resulting status; "reported" (deny, not me) e-mails the owner.
        """
        if not CHALLENGE_ID.match(challenge_id or ""):
            raise UnknownChallengeError("unknown challenge")
        decision, number, reason, signature = parse_answer(payload)
        challenge = self.state.get_challenge(device.user_id, challenge_id)
        if challenge is None:
            raise UnknownChallengeError("unknown challenge")
        if device.public_key is None or not crypto.verify(
            device.public_key, signature, crypto.answer_string(challenge_id, decision, number)
        ):
            self._refused(device, ctx, "answer_signature")
            raise DeviceAuthError("the answer's signature does not match this device's key")
        if decision == "approve":
            status = "approved" if number == challenge.number else "wrong_number"
        else:
            status = "reported" if reason == "not_me" else "denied"
        result = self.state.answer(device.user_id, challenge_id, status=status, device_id=device.id,
                                   now_ms=self._now_ms())
        if result == "unknown":
            raise UnknownChallengeError("unknown challenge")
        if result == "expired":
            raise ChallengeExpiredError("this request has expired")
        if result == "answered":
            raise AlreadyAnsweredError("this request was already answered")
        tag = {"approved": EventTag.KAUTH_CHALLENGE_APPROVED, "wrong_number": EventTag.KAUTH_CHALLENGE_WRONG_NUMBER,
               "denied": EventTag.KAUTH_CHALLENGE_DENIED, "reported": EventTag.KAUTH_CHALLENGE_REPORTED}[status]
        self.events.record_event(tag, ctx=ctx, user_id=device.user_id, product=Product.KAUTH,
                                 details={"challenge": challenge_id, "device": device.id,
                                          "signin_ip": challenge.context.get("ip", "")})
        if status == "reported":
            user = self.users.get(device.user_id)
            if user is not None:
                self.mail.queue_for(
                    user, "kauth_reported", ip=challenge.context.get("ip", ""),
                    browser=challenge.context.get("browser", ""), when=_moment(challenge.context.get("time")),
                    wizard_url=wizard_url,
                )
        return status

    def conclude(self, user_id: int, challenge_id: str, flow_id: str) -> Challenge:
        """The browser's read of its challenge. A concluded answer is handed out once (an
        approval completes one sign-in); a pending one past its expiry comes back "expired"."""
        if not CHALLENGE_ID.match(challenge_id or ""):
            raise FlowError("unknown approval request")
        challenge = self.state.consume(user_id, challenge_id)
        if challenge is None or challenge.flow != flow_digest(flow_id):
            raise FlowError("unknown approval request")
        if challenge.expired(self._now_ms()):
            self.state.drop_pending(user_id, challenge_id)
            return dataclasses.replace(challenge, status="expired")
        return challenge

    # -- removal -----------------------------------------------------------------------

    def remove_device(self, user: User, device_id: str, ctx: RequestContext, *, by: str = "account") -> Device:
        """Remove one of `user`'s devices: its key is forgotten at once, the device is told
        (signed notice by push, and on its next request), the owner is e-mailed."""
        device = self.devices.get(device_id) if DEVICE_ID.match(device_id or "") else None
        if device is None or device.user_id != user.id or not device.active:
            raise NotFoundError(N_("This device is not enrolled on your account."))
        if not self.devices.remove(device.id, now=self.clock.now(), by=by):
            raise NotFoundError(N_("This device is not enrolled on your account."))
        removed = self.devices.get(device.id) or device
        self.events.record_event(
            EventTag.KAUTH_DEVICE_REMOVED, ctx=ctx, user_id=user.id, product=Product.KAUTH,
            details={"device": device.id, "name": device.name, "by": by},
        )
        self.mail.queue_for(user, "kauth_removed", device=device.name, by=by, ip=ctx.ip)
        self.push.send(device.id, self.removed_notice(removed))
        if not self.devices_of(user):
            for hook in self.on_last_device_removed:
                hook(user)
        return removed

    def unenrol(self, device: Device, ctx: RequestContext) -> dict[str, Any]:
        """A device removes itself (after an authenticated request); returns its signed notice."""
        user = self.users.get(device.user_id)
        if user is None:
            raise NotFoundError("unknown account")
        return self.removed_notice(self.remove_device(user, device.id, ctx, by="device"))


def _moment(value: object) -> dt.datetime | None:
    """The ISO moment a challenge keeps, for a mail that writes it for its reader."""
    try:
        return dt.datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _iso(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).isoformat()
