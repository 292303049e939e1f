"""Sign-in notifications: each person chooses mail on successful, failed, or new-place sign-ins,
sent to the login address and to a confirmed second address."""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from typing import Protocol

from idp.clock import Clock
from idp.errors import N_
from idp.errors import ValidationError
from idp.events import EventRecorder
from idp.events import EventTag
from idp.events import after_answer
from idp.mail import MailService
from idp.model import Event
from idp.model import RequestContext
from idp.model import User
from idp.model import UserStatus

log = logging.getLogger(__name__)

# Pages the mails link to (the security center's blueprints serve them at these paths).
SESSIONS_PATH = "/security/sessions"
WIZARD_PATH = "/security/compromised"

# Places of each kind kept per account: the most recently seen.
KEEP_PLACES = 50


@dataclass(frozen=True)
class NotificationPrefs:
    on_success: bool = False
    on_failure: bool = True
    on_new: bool = False
    # The confirmed second address, which receives the same mail as the login address.
    address: str | None = None

    @property
    def choice(self) -> str:
        """"both", "success", "new", "failure" or "none"."""
        if self.on_success and self.on_failure:
            return "both"
        if self.on_success:
            return "success"
        if self.on_new:
            return "new"
        return "failure" if self.on_failure else "none"

    @classmethod
    def from_choice(cls, choice: str) -> NotificationPrefs:
        return cls(
            on_success=choice in ("both", "success"), on_failure=choice in ("both", "failure", "new"),
            on_new=choice == "new",
        )


# The account id no row has (ids start at 1): what an unknown login's failure works for.
STAND_IN = 0

CHOICES = ("failure", "new", "success", "both", "none")


def network_of(ip: str | None) -> str | None:
    """The network a sign-in came from: its IPv4 /24 or IPv6 /48 (an IPv4-mapped IPv6 address
    counts as IPv4); None when the address is not an IP address."""
    try:
        address = ipaddress.ip_address(ip or "")
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


# As stored: (on_success, on_failure, on_new, confirmed second address).
StoredPrefs = tuple[bool, bool, bool, str | None]


class PrefStore(Protocol):
    def get(self, user_id: int) -> StoredPrefs | None: ...
    def set(self, user_id: int, *, on_success: bool, on_failure: bool, on_new: bool, now: dt.datetime) -> None: ...
    def signed_in(
        self, user_id: int, places: dict[str, str], *, now: dt.datetime, keep: int,
    ) -> tuple[StoredPrefs | None, list[str], bool]: ...


class Throttle(Protocol):
    def failed(self, user_id: int, *, now: int, window: int, keep: int) -> int: ...


class UserLookup(Protocol):
    def get(self, user_id: int) -> User | None: ...


class NotificationService:
    """Preferences in SQL; mail sent from an event subscriber, so the sign-in code knows nothing
    of it. Failed-sign-in mail is throttled per account (one per `window` seconds) and each mail
    counts the failures it summarises, so an attack cannot flood the mailbox.

    Every successful sign-in records its device and network (whatever the choice: so that the
    day someone chooses "new", the places they already use are known). The very first sign-in
    of an account, when nothing is known yet, counts as known: every place would be new."""

    # The events on_event acts on (it is subscribed to these alone).
    EVENT_TAGS = (EventTag.SIGNIN_SUCCEEDED, EventTag.SIGNIN_FAILED, EventTag.LOCKOUT_LOCKED)

    def __init__(
        self, prefs: PrefStore, throttle: Throttle, users: UserLookup, mail: MailService,
        events: EventRecorder, clock: Clock, *, base_url: str, window: int,
        device_digest: Callable[[str], str],
    ) -> None:
        self.prefs, self.throttle, self.users, self.mail = prefs, throttle, users, mail
        self.events, self.clock, self.base_url, self.window = events, clock, base_url, window
        self.device_digest = device_digest

    def get(self, user: User) -> NotificationPrefs:
        return self._prefs(user.id)

    def _prefs(self, user_id: int) -> NotificationPrefs:
        stored = self.prefs.get(user_id)
        return NotificationPrefs() if stored is None else NotificationPrefs(*stored)

    def set(self, user: User, choice: str, ctx: RequestContext) -> NotificationPrefs:
        if choice not in CHOICES:
            raise ValidationError(N_("Choose one of the options."), field="choice")
        prefs = NotificationPrefs.from_choice(choice)
        self.prefs.set(
            user.id, on_success=prefs.on_success, on_failure=prefs.on_failure, on_new=prefs.on_new,
            now=self.clock.now(),
        )
        self.events.record_event(
            EventTag.NOTIFICATIONS_CHANGED, ctx=ctx, user_id=user.id, details={"choice": choice}
        )
        return prefs

    @after_answer
    def on_event(self, event: Event) -> None:
        """Event subscriber: mail the owner about a sign-in, as they chose. After the answer
        (idp.events.after_answer): the sign-in does not wait for its places or its mail."""
        if event.tag not in self.EVENT_TAGS:
            return
        if event.user_id is None:
            if event.tag == EventTag.SIGNIN_FAILED:
                self._as_if_known()
            return
        if event.tag == EventTag.SIGNIN_SUCCEEDED:
            self._succeeded(event.user_id, event)
            return
        # The choice first: the account is read only when a mail goes.
        prefs = self._prefs(event.user_id)
        if event.tag == EventTag.LOCKOUT_LOCKED:
            # The login address got the lock mail (with its unlock link) from the lockout; the
            # second address is told, without the link: it must not become a way to unlock.
            if prefs.address and (user := self.users.get(event.user_id)) is not None:
                self.mail.queue(
                    prefs.address, "security_account_locked_notice", **_reader(user),
                    when=event.created_at, ip=event.ip or "?", failures=event.details.get("failures") or 0,
                )
            return
        # An account still waiting for its sign-up link gets that link again (idp.account.signup),
        # not a warning about its own first tries.
        if not prefs.on_failure or event.details.get("reason") == "pending":
            return
        count = self.throttle.failed(
            event.user_id, now=int(self.clock.now().timestamp()), window=self.window,
            keep=max(self.window * 24, 86400),
        )
        if count and (user := self.users.get(event.user_id)) is not None and user.status is not UserStatus.PENDING:
            self._send(user, prefs, event, "security_signin_failed", count=count)

    def _as_if_known(self) -> None:
        """A failure on a login that names no account does the work a known account's failure
        does by default (its choice read, its failures counted), for a stand-in account no row
        has: the time a wrong password takes must not tell that the address has an account, as
        the sign-in's dummy hash and its stand-in read of the factors ensure (decision 0612)."""
        self._prefs(STAND_IN)
        self.throttle.failed(STAND_IN, now=int(self.clock.now().timestamp()), window=self.window,
                             keep=max(self.window * 24, 86400))

    def _succeeded(self, user_id: int, event: Event) -> None:
        # One statement reads the choice and whether this device and network are known, and one
        # records them (every sign-in: the first "new" choice then knows the usual places).
        places = {"device": self.device_digest(event.device_key)} if event.device_key else {}
        if (network := network_of(event.ip)) is not None:
            places["network"] = network
        stored, new, first = self.prefs.signed_in(user_id, places, now=event.created_at, keep=KEEP_PLACES)
        prefs = NotificationPrefs() if stored is None else NotificationPrefs(*stored)
        if prefs.on_success:
            template, values = "security_signin_succeeded", {}
        elif prefs.on_new and new and not first:
            template, values = "security_signin_new", {"new_device": "device" in new, "new_network": "network" in new}
        else:
            return
        if (user := self.users.get(user_id)) is not None:
            self._send(user, prefs, event, template, count=1, **values)

    def _send(self, user: User, prefs: NotificationPrefs, event: Event, template: str, **extra: Any) -> None:
        values = dict(
            when=event.created_at,
            methods=event.details.get("methods") or [], amr=event.details.get("amr") or [],
            ip=event.ip or "?", device=event.device or "?", network=network_of(event.ip) or "?",
            sessions_url=self.base_url + SESSIONS_PATH, wizard_url=self.base_url + WIZARD_PATH, **extra,
        )
        self.mail.queue_for(user, template, **values)
        if prefs.address:
            self.mail.queue(prefs.address, template, **_reader(user), **values)


def _reader(user: User) -> dict[str, Any]:
    """What `MailService.queue_for` gives a mail to the account, for a mail to its second address."""
    return {"locale": user.locale, "timezone": getattr(user, "timezone", None), "name": user.display_name}
