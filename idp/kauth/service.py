"""kAuth rules: the facade the pages and the device API call, and device removal.

Framework-free: pages and the device API parse input and call one method here. Every
security-relevant step records one event. Expiries read the injected clock. Enrolment lives in
`enrolment.py`, the checks of signed device requests in `device_requests.py`, approval
challenges with number matching in `approvals.py`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from idp.clock import Clock
from idp.errors import N_
from idp.errors import NotFoundError
from idp.events import EventRecorder
from idp.events import EventTag
from idp.events import Product
from idp.kauth import crypto
from idp.kauth.approvals import AMR
from idp.kauth.approvals import HOUR_MS
from idp.kauth.approvals import KEEP_AFTER
from idp.kauth.approvals import Approvals
from idp.kauth.approvals import flow_digest
from idp.kauth.device_requests import DeviceRequests
from idp.kauth.enrolment import Enrolment
from idp.kauth.enrolment import Enrolments
from idp.kauth.model import Challenge
from idp.kauth.model import Device
from idp.kauth.ports import DeviceStore
from idp.kauth.ports import StateStore
from idp.kauth.ports import UserLookup
from idp.kauth.push import PushSender
from idp.kauth.validation import DEVICE_ID
from idp.mail import MailService
from idp.model import RequestContext
from idp.model import User
from idp.settings import KauthSettings

__all__ = ["AMR", "HOUR_MS", "KEEP_AFTER", "Enrolment", "KauthService", "flow_digest"]

log = logging.getLogger(__name__)


class KauthService:
    def __init__(
        self, *, devices: DeviceStore, state: StateStore, users: UserLookup, events: EventRecorder,
        mail: MailService, push: PushSender, clock: Clock, settings: KauthSettings, server_secret: str,
        site_name: str = "Identity",
    ) -> None:
        self.devices, self.state, self.users, self.events = devices, state, users, events
        self.mail, self.push, self.clock, self.settings = mail, push, clock, settings
        self.site_name = site_name
        server_key = crypto.server_key(server_secret)
        self.server_public_key = crypto.encode_public_key(server_key.public_key())
        # Called with the user when their first device is enrolled (recovery codes, if offered).
        self.on_first_device: list[Callable[[User, RequestContext], None]] = []
        # Called when the account's last device goes (by the account or by the device itself).
        self.on_last_device_removed: list[Callable[[User], None]] = []
        self.requests = DeviceRequests(
            devices=devices, state=state, users=users, events=events, clock=clock, settings=settings,
            server_key=server_key,
        )
        self.enrolments = Enrolments(
            devices=devices, state=state, users=users, events=events, mail=mail, clock=clock, settings=settings,
            requests=self.requests, on_first_device=self._first_device,
        )
        self.approvals = Approvals(
            devices=devices, state=state, users=users, events=events, mail=mail, push=push, clock=clock,
            settings=settings, site_name=site_name, requests=self.requests,
        )

    # -- devices -----------------------------------------------------------------------

    def devices_of(self, user: User) -> list[Device]:
        return self.devices.active_for_user(user.id)

    def has_devices(self, user: User) -> bool:
        return self.devices.count_active(user.id) > 0

    def under_cap(self, user: User) -> bool:
        return self.approvals.sent_this_hour(user) < self.settings.hourly_cap

    # -- enrolment ---------------------------------------------------------------------

    def start_enrolment(self, user: User) -> Enrolment:
        """A single-use enrolment token valid `enrolment_ttl` seconds, stored only as a digest."""
        return self.enrolments.start(user)

    def enrolment_status(self, user: User, handle: str) -> Device | str:
        """The device enrolled with this handle's token, or "pending" / "expired"."""
        return self.enrolments.status(user, handle)

    def enrol(self, payload: Any, *, timestamp: str, nonce: str, signature: str, method: str, path: str,
              body: bytes, ctx: RequestContext) -> Device:
        """Enrol a device that signs its request with the key it enrols (see Enrolments.enrol)."""
        return self.enrolments.enrol(payload, timestamp=timestamp, nonce=nonce, signature=signature,
                                     method=method, path=path, body=body, ctx=ctx)

    def _first_device(self, user: User, ctx: RequestContext) -> None:
        # A failing hook must not undo an enrolment that is already stored and announced.
        for hook in self.on_first_device:
            try:
                hook(user, ctx)
            except Exception:
                log.exception("kauth first-device hook failed")

    # -- device requests ---------------------------------------------------------------

    def authenticate(self, *, device_id: str, timestamp: str, nonce: str, signature: str, method: str,
                     path: str, body: bytes, ctx: RequestContext) -> Device:
        """The device that signed this request, or an error (see DeviceRequests.authenticate)."""
        return self.requests.authenticate(device_id=device_id, timestamp=timestamp, nonce=nonce,
                                          signature=signature, method=method, path=path, body=body, ctx=ctx)

    def removed_notice(self, device: Device) -> dict[str, Any]:
        """The server-signed notice a removed device receives (on its next request, and by push)."""
        return self.requests.removed_notice(device)

    # -- challenges --------------------------------------------------------------------

    def open_challenge(self, user: User, flow_id: str, ctx: RequestContext, *, application: str = "") -> Challenge:
        """Send one approval request for this sign-in to every device of the account (see Approvals.open)."""
        return self.approvals.open(user, flow_id, ctx, application=application)

    def challenge_status(self, user_id: int, challenge_id: str) -> str:
        """What the waiting browser shows: pending, approved, denied, wrong_number, reported, expired."""
        return self.approvals.status(user_id, challenge_id)

    def waiting(self, user_id: int, challenge_id: str, flow_id: str) -> Challenge | None:
        """This sign-in's request while it still waits for an answer (a reload shows it again)."""
        return self.approvals.waiting(user_id, challenge_id, flow_id)

    def pending_for(self, device: Device) -> list[dict[str, Any]]:
        """The waiting request of the device's account, as the device shows it."""
        return self.approvals.pending_for(device)

    def answer(self, device: Device, challenge_id: str, payload: Any, ctx: RequestContext,
               *, wizard_url: str) -> str:
        """Record a device's signed answer; the first valid one wins (see Approvals.answer)."""
        return self.approvals.answer(device, challenge_id, payload, ctx, wizard_url=wizard_url)

    def conclude(self, user_id: int, challenge_id: str, flow_id: str) -> Challenge:
        """The browser's read of its challenge, handed out once (see Approvals.conclude)."""
        return self.approvals.conclude(user_id, challenge_id, flow_id)

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

    def erase(self, user: User, _ctx: RequestContext) -> None:
        """The account is deleted: each of its devices is marked removed and told so (the signed
        notice by push), then goes with the account's row. No mail, no event per device (the
        deletion records one). A device removed already is not told again."""
        for device in self.devices_of(user):
            if self.devices.remove(device.id, now=self.clock.now(), by="deletion"):
                self.push.send(device.id, self.removed_notice(self.devices.get(device.id) or device))

    def unenrol(self, device: Device, ctx: RequestContext) -> dict[str, Any]:
        """A device removes itself (after an authenticated request); returns its signed notice."""
        user = self.users.get(device.user_id)
        if user is None:
            raise NotFoundError("unknown account")
        return self.removed_notice(self.remove_device(user, device.id, ctx, by="device"))
