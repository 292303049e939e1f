"""Sign-in notifications: each person chooses mail on successful and/or failed sign-ins."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Protocol

from idp.clock import Clock
from idp.errors import N_
from idp.errors import ValidationError
from idp.events import EventRecorder
from idp.events import EventTag
from idp.mail import MailService
from idp.model import Event
from idp.model import RequestContext
from idp.model import User

log = logging.getLogger(__name__)

# Pages the mails link to (the security center's blueprints serve them at these paths).
SESSIONS_PATH = "/security/sessions"
WIZARD_PATH = "/security/compromised"


@dataclass(frozen=True)
class NotificationPrefs:
    on_success: bool = False
    on_failure: bool = True

    @property
    def choice(self) -> str:
        """"both", "success", "failure" or "none"."""
        if self.on_success and self.on_failure:
            return "both"
        if self.on_success:
            return "success"
        return "failure" if self.on_failure else "none"

    @classmethod
    def from_choice(cls, choice: str) -> NotificationPrefs:
        return cls(on_success=choice in ("both", "success"), on_failure=choice in ("both", "failure"))


CHOICES = ("failure", "success", "both", "none")


class PrefStore(Protocol):
    def get(self, user_id: int) -> tuple[bool, bool] | None: ...
    def set(self, user_id: int, *, on_success: bool, on_failure: bool, now: dt.datetime) -> None: ...


class Throttle(Protocol):
    def failed(self, user_id: int, *, now: int, window: int, keep: int) -> int: ...


class UserLookup(Protocol):
    def get(self, user_id: int) -> User | None: ...


class NotificationService:
    """Preferences in SQL; mail sent from an event subscriber, so the sign-in code knows nothing
    of it. Failed-sign-in mail is throttled per account (one per `window` seconds) and each mail
    counts the failures it summarises, so an attack cannot flood the mailbox."""

    # The events on_event acts on (it is subscribed to these alone).
    EVENT_TAGS = (EventTag.SIGNIN_SUCCEEDED, EventTag.SIGNIN_FAILED)

    def __init__(
        self, prefs: PrefStore, throttle: Throttle, users: UserLookup, mail: MailService,
        events: EventRecorder, clock: Clock, *, base_url: str, window: int,
    ) -> None:
        self.prefs, self.throttle, self.users, self.mail = prefs, throttle, users, mail
        self.events, self.clock, self.base_url, self.window = events, clock, base_url, window

    def get(self, user: User) -> NotificationPrefs:
        return self._prefs(user.id)

    def _prefs(self, user_id: int) -> NotificationPrefs:
        stored = self.prefs.get(user_id)
        return NotificationPrefs() if stored is None else NotificationPrefs(*stored)

    def set(self, user: User, choice: str, ctx: RequestContext) -> NotificationPrefs:
        if choice not in CHOICES:
            raise ValidationError(N_("Choose one of the options."), field="choice")
        prefs = NotificationPrefs.from_choice(choice)
        self.prefs.set(user.id, on_success=prefs.on_success, on_failure=prefs.on_failure, now=self.clock.now())
        self.events.record_event(
            EventTag.NOTIFICATIONS_CHANGED, ctx=ctx, user_id=user.id, details={"choice": choice}
        )
        return prefs

    def on_event(self, event: Event) -> None:
        """Event subscriber: mail the owner about a sign-in, as they chose."""
        if event.user_id is None or event.tag not in self.EVENT_TAGS:
            return
        # The choice first: by default a successful sign-in sends nothing, and the account is
        # read only when a mail goes.
        prefs = self._prefs(event.user_id)
        if event.tag == EventTag.SIGNIN_SUCCEEDED:
            if prefs.on_success and (user := self.users.get(event.user_id)) is not None:
                self._send(user, event, "security_signin_succeeded", count=1)
            return
        if not prefs.on_failure:
            return
        count = self.throttle.failed(
            event.user_id, now=int(self.clock.now().timestamp()), window=self.window,
            keep=max(self.window * 24, 86400),
        )
        if count and (user := self.users.get(event.user_id)) is not None:
            self._send(user, event, "security_signin_failed", count=count)

    def _send(self, user: User, event: Event, template: str, *, count: int) -> None:
        self.mail.queue_for(
            user, template, when=event.created_at,
            methods=event.details.get("methods") or [], amr=event.details.get("amr") or [],
            ip=event.ip or "?", device=event.device or "?", count=count,
            sessions_url=self.base_url + SESSIONS_PATH, wizard_url=self.base_url + WIZARD_PATH,
        )
