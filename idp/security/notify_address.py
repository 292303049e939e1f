"""A second notification address: added on the notifications page, confirmed by a signed,
single-use, expiring link sent to it, removable; each change recorded and told to the login address."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any
from typing import Protocol

from email_validator import EmailNotValidError
from email_validator import validate_email
from itsdangerous import BadData
from itsdangerous import URLSafeSerializer

from idp.clock import Clock
from idp.crypto import Purpose
from idp.crypto import derive
from idp.errors import N_
from idp.errors import ValidationError
from idp.events import EventRecorder
from idp.events import EventTag
from idp.mail import MailService
from idp.model import RequestContext
from idp.model import User

CONFIRM_PATH = "/security/notifications/address/"
MAX_ADDRESS = 254  # RFC 5321's path limit
MAX_TOKEN = 300
# How long the confirmation link works (seconds).
LINK_TTL = 24 * 3600


class AddressLinkError(ValidationError):
    """The link confirms nothing: forged, for another account, expired, used or replaced."""


class AddressStore(Protocol):
    def addresses(self, user_id: int) -> tuple[str | None, str | None, str | None]: ...
    def set_pending(self, user_id: int, address: str, nonce: str, now: dt.datetime) -> None: ...
    def confirm(self, user_id: int, address: str, nonce: str, now: dt.datetime) -> bool: ...
    def remove(self, user_id: int, now: dt.datetime) -> tuple[str | None, str | None]: ...


@dataclass(frozen=True)
class AddressState:
    confirmed: str | None
    pending: str | None


def _domain(address: str) -> str:
    return address.rpartition("@")[2]


class NotificationAddressService:
    """A link is `<user id>.<signed [nonce, expiry s]>` (itsdangerous, HMAC-SHA256, its own key),
    signed with a salt naming the account and the pending address. It works only while that
    address is pending under that nonce: confirming clears both (single use), and adding another
    address, or the same one again, makes a new nonce (the old link dies). The expiry is in the
    signed payload and read against the injected clock. It confirms for the account it names,
    and only for a person signed in to that account."""

    def __init__(
        self, *, store: AddressStore, mail: MailService, events: EventRecorder, clock: Clock,
        secret: str, base_url: str, ttl: int,
    ) -> None:
        self.store, self.mail, self.events, self.clock = store, mail, events, clock
        self._links = URLSafeSerializer(
            derive(secret, Purpose.NOTIFY_ADDRESS_LINK),
            signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha256},
        )
        self.base_url, self.ttl = base_url, ttl

    @staticmethod
    def _salt(user_id: int, address: str) -> str:
        return f"idp notification address\x00{user_id}\x00{address.casefold()}"

    def state(self, user: User) -> AddressState:
        confirmed, pending, _nonce = self.store.addresses(user.id)
        return AddressState(confirmed, pending)

    @staticmethod
    def normalise(user: User, raw: str) -> str:
        """The address as e-mail-validator writes it; refused when malformed, too long, or the
        login address itself (compared without case)."""
        text = raw.strip()
        if not text:
            raise ValidationError(N_("Enter an e-mail address."), field="address")
        if len(text) > MAX_ADDRESS:
            raise ValidationError(N_("This address is too long."), field="address")
        try:
            address = validate_email(text, check_deliverability=False).normalized
        except EmailNotValidError:
            raise ValidationError(N_("Enter a valid e-mail address."), field="address") from None
        if address.casefold() == user.email.strip().casefold():
            raise ValidationError(
                N_("This is the address you sign in with; choose another one."), field="address"
            )
        return address

    def add(self, user: User, raw: str, ctx: RequestContext) -> str:
        """Make `raw` the pending second address and send it its confirmation link; the
        confirmed address (if any) keeps receiving until the new one is confirmed."""
        address = self.normalise(user, raw)
        confirmed, _pending, _nonce = self.store.addresses(user.id)
        if confirmed is not None and confirmed.casefold() == address.casefold():
            raise ValidationError(N_("This address already receives your notifications."), field="address")
        nonce = secrets.token_hex(16)
        now = self.clock.now()
        self.store.set_pending(user.id, address, nonce, now)
        expires = int(now.timestamp()) + self.ttl
        token = f"{user.id}.{self._links.dumps([nonce, expires], salt=self._salt(user.id, address))}"
        self.mail.queue(
            address, "security_notify_address_confirm", locale=user.locale,
            timezone=getattr(user, "timezone", None), name=user.display_name,
            confirm_url=self.base_url + CONFIRM_PATH + token, hours=max(1, self.ttl // 3600),
        )
        self.events.record_event(
            EventTag.NOTIFY_ADDRESS_ADDED, ctx=ctx, user_id=user.id, details={"domain": _domain(address)}
        )
        return address

    def check(self, user: User, token: str) -> str:
        """The pending address this link confirms for `user` (the signed-in person), or
        AddressLinkError. The signature is checked (in constant time) before the payload is believed."""
        return self._checked(user, token)[0]

    def _checked(self, user: User, token: str) -> tuple[str, str]:
        user_id, _, signed = token.partition(".")
        if len(token) > MAX_TOKEN or not signed or not user_id.isdigit() or len(user_id) > 12:
            raise AddressLinkError(N_("This confirmation link is not valid."))
        if int(user_id) != user.id:
            raise AddressLinkError(
                N_("This confirmation link is for another account. Sign in to the account that asked for it.")
            )
        _confirmed, pending, nonce = self.store.addresses(user.id)
        if pending is None or nonce is None:
            raise AddressLinkError(N_("This confirmation link has already been used, or the address was removed."))
        try:
            payload: Any = self._links.loads(signed, salt=self._salt(user.id, pending))
        except BadData:
            raise AddressLinkError(
                N_("This confirmation link is not valid, or a newer one replaced it.")
            ) from None
        if not (isinstance(payload, list) and len(payload) == 2 and isinstance(payload[0], str)
                and type(payload[1]) is int):
            raise AddressLinkError(N_("This confirmation link is not valid."))
        if not hmac.compare_digest(payload[0], nonce):
            raise AddressLinkError(N_("This confirmation link is not valid, or a newer one replaced it."))
        if payload[1] <= self.clock.now().timestamp():
            raise AddressLinkError(N_("This confirmation link has expired. Add the address again to get a new one."))
        return pending, nonce

    def confirm(self, user: User, token: str, ctx: RequestContext) -> str:
        """Confirm the address behind the link; from now on it receives the notifications. The
        login address is told. A second use of the link finds nothing pending."""
        address, nonce = self._checked(user, token)
        if not self.store.confirm(user.id, address, nonce, self.clock.now()):
            raise AddressLinkError(N_("This confirmation link has already been used, or the address was removed."))
        self.events.record_event(
            EventTag.NOTIFY_ADDRESS_CONFIRMED, ctx=ctx, user_id=user.id, details={"domain": _domain(address)}
        )
        self.mail.queue_for(user, "security_notify_address_changed", address=address, added=True, when=self.clock.now())
        return address

    def remove(self, user: User, ctx: RequestContext) -> bool:
        """Forget the second address (confirmed or pending); the login address is told when a
        confirmed one stops receiving. False when there was none."""
        confirmed, pending = self.store.remove(user.id, self.clock.now())
        if confirmed is None and pending is None:
            return False
        removed = confirmed or pending or ""
        self.events.record_event(
            EventTag.NOTIFY_ADDRESS_REMOVED, ctx=ctx, user_id=user.id, details={"domain": _domain(removed)}
        )
        if confirmed is not None:
            self.mail.queue_for(
                user, "security_notify_address_changed", address=confirmed, added=False, when=self.clock.now(),
            )
        return True
