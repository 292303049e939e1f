"""Sign-in approvals: one push challenge per sign-in with number matching, a signed answer, one use."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import secrets
from typing import Any

from idp.clock import Clock
from idp.errors import N_
from idp.errors import FlowError
from idp.errors import NotFoundError
from idp.events import EventRecorder
from idp.events import EventTag
from idp.events import Product
from idp.kauth import crypto
from idp.kauth.device_requests import DeviceRequests
from idp.kauth.errors import AlreadyAnsweredError
from idp.kauth.errors import ApprovalBusyError
from idp.kauth.errors import ApprovalCappedError
from idp.kauth.errors import ChallengeExpiredError
from idp.kauth.errors import DeviceAuthError
from idp.kauth.errors import UnknownChallengeError
from idp.kauth.model import Challenge
from idp.kauth.model import Device
from idp.kauth.model import epoch_ms
from idp.kauth.ports import DeviceStore
from idp.kauth.ports import StateStore
from idp.kauth.ports import UserLookup
from idp.kauth.push import PushSender
from idp.kauth.validation import CHALLENGE_ID
from idp.kauth.validation import number_options
from idp.kauth.validation import parse_answer
from idp.mail import MailService
from idp.model import RequestContext
from idp.model import User
from idp.settings import KauthSettings
from idp.useragent import describe

HOUR_MS = 3600 * 1000
# Answers the browser can still read this long after the challenge expired.
KEEP_AFTER = 300
# "amr" values of an approval (RFC 8176): proof of possession of a software-held key (swk) on a
# second device, reached over a second channel (mca); the flow adds "mfa".
AMR = ["mca", "swk"]

_ANSWER_TAGS = {
    "approved": EventTag.KAUTH_CHALLENGE_APPROVED, "wrong_number": EventTag.KAUTH_CHALLENGE_WRONG_NUMBER,
    "denied": EventTag.KAUTH_CHALLENGE_DENIED, "reported": EventTag.KAUTH_CHALLENGE_REPORTED,
}


def flow_digest(flow_id: str) -> str:
    return hashlib.sha256(flow_id.encode()).hexdigest()


def _moment(value: object) -> dt.datetime | None:
    """The ISO moment a challenge keeps, for a mail that writes it for its reader."""
    try:
        return dt.datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _iso(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).isoformat()


def _status_of(challenge: Challenge, decision: str, number: int | None, reason: str | None) -> str:
    if decision == "approve":
        return "approved" if number == challenge.number else "wrong_number"
    return "reported" if reason == "not_me" else "denied"


class Approvals:
    """The waiting sign-in's challenge: sent to the account's devices, shown on each with three
    numbers, answered by one, read once by the browser."""

    def __init__(
        self, *, devices: DeviceStore, state: StateStore, users: UserLookup, events: EventRecorder,
        mail: MailService, push: PushSender, clock: Clock, settings: KauthSettings, site_name: str,
        requests: DeviceRequests,
    ) -> None:
        self.devices, self.state, self.users, self.events = devices, state, users, events
        self.mail, self.push, self.clock, self.settings = mail, push, clock, settings
        self.site_name, self.requests = site_name, requests

    def _now_ms(self) -> int:
        return epoch_ms(self.clock.now())

    def sent_this_hour(self, user: User) -> int:
        return self.state.sent_in_window(user.id, now_ms=self._now_ms(), window_ms=HOUR_MS)

    def _new(self, user: User, flow_id: str, ctx: RequestContext, application: str) -> Challenge:
        now = self.clock.now()
        number = 10 + secrets.randbelow(90)
        return Challenge(
            id="kc_" + secrets.token_urlsafe(18), user_id=user.id, flow=flow_digest(flow_id), number=number,
            options=number_options(number), created_ms=epoch_ms(now),
            expires_ms=epoch_ms(now + dt.timedelta(seconds=self.settings.challenge_ttl)),
            context={
                "application": application or self.site_name, "ip": ctx.ip,
                "browser": describe(ctx.user_agent) if ctx.user_agent else "", "time": now.isoformat(),
            },
        )

    def open(self, user: User, flow_id: str, ctx: RequestContext, *, application: str = "") -> Challenge:
        """Send one approval request for this sign-in to every device of the account.

        Called only from the factor page, which the flow reaches after the right password. At
        most one request waits per account, and at most `hourly_cap` are sent per hour.
        """
        devices = self.devices.active_for_user(user.id)
        if not devices:
            raise NotFoundError(N_("This account has no kAuth device."))
        challenge = self._new(user, flow_id, ctx, application)
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

    def status(self, user_id: int, challenge_id: str) -> str:
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
            self.requests.refused(device, ctx, "answer_signature")
            raise DeviceAuthError("the answer's signature does not match this device's key")
        status = _status_of(challenge, decision, number, reason)
        result = self.state.answer(device.user_id, challenge_id, status=status, device_id=device.id,
                                   now_ms=self._now_ms())
        if result == "unknown":
            raise UnknownChallengeError("unknown challenge")
        if result == "expired":
            raise ChallengeExpiredError("this request has expired")
        if result == "answered":
            raise AlreadyAnsweredError("this request was already answered")
        self.events.record_event(_ANSWER_TAGS[status], ctx=ctx, user_id=device.user_id, product=Product.KAUTH,
                                 details={"challenge": challenge_id, "device": device.id,
                                          "signin_ip": challenge.context.get("ip", "")})
        if status == "reported":
            self._mail_report(device, challenge, wizard_url)
        return status

    def _mail_report(self, device: Device, challenge: Challenge, wizard_url: str) -> None:
        """Mail the owner a sign-in their device reported as not theirs, with the wizard's address."""
        user = self.users.get(device.user_id)
        if user is not None:
            self.mail.queue_for(
                user, "kauth_reported", ip=challenge.context.get("ip", ""),
                browser=challenge.context.get("browser", ""), when=_moment(challenge.context.get("time")),
                wizard_url=wizard_url,
            )

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
