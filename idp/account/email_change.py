"""Changing the login e-mail: a signed, expiring link to the new address confirms it; the old
address is told, with the way to secure the account."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from collections.abc import Sequence
from typing import Any
from typing import Protocol

from itsdangerous import BadData
from itsdangerous import URLSafeSerializer

from idp.account.passwords import sso_refusal
from idp.auth.service import PasswordPolicy
from idp.auth.service import normalise_login
from idp.clock import Clock
from idp.crypto import Purpose
from idp.crypto import derive
from idp.errors import N_
from idp.errors import ConflictError
from idp.errors import ValidationError
from idp.events import EventRecorder
from idp.events import EventTag
from idp.foundation.ratelimit import RateLimiter
from idp.mail import MailService
from idp.model import RequestContext
from idp.model import User

CONFIRM_PATH = "/profile/email/confirm/"
MAX_TOKEN = 600
NOT_VALID = N_("This confirmation link is not valid. Ask for a new one from your profile.")
EXPIRED = N_("This confirmation link has expired. Ask for a new one from your profile.")
USED = N_("This confirmation link was already used, or your e-mail address changed since it was sent.")
MANAGED = N_("Your organisation's directory manages your e-mail address: ask its administrators to change it there.")
TAKEN = N_("Another account uses this address now, so it cannot become yours.")


class EmailStore(Protocol):
    def get(self, user_id: int) -> User | None: ...
    def by_email(self, email: str) -> User | None: ...
    def set_email(self, user_id: int, email: str, now: dt.datetime, *, verified: bool = False) -> User: ...


def _key_of(email: str) -> str:
    """What the link binds to: the address the account had when it was sent (lower-cased, hashed,
    so the link does not carry it in clear)."""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]


class EmailChangeService:
    """A link is itsdangerous-signed `{u: account id, to: new address, from: digest of the old
    one, exp: expiry in s by the service's clock}`, with the e-mail-change key (HKDF, its own
    label). It is single-use without any state: once the address changes, `from` no longer
    matches, so this link and every other one sent before die. It confirms for its own account
    only (the signed-in one)."""

    def __init__(
        self, *, users: EmailStore, mail: MailService, events: EventRecorder, ratelimit: RateLimiter,
        clock: Clock, policies: Sequence[PasswordPolicy], secret: str, base_url: str, ttl: int,
        wizard_url: Callable[[], str],
    ) -> None:
        self.users, self.mail, self.events, self.ratelimit, self.clock = users, mail, events, ratelimit, clock
        # The sign-in's own list: an organisation that requires single sign-on owns its domain's addresses.
        self.policies, self.base_url, self.ttl, self.wizard_url = policies, base_url.rstrip("/"), ttl, wizard_url
        self.signer = URLSafeSerializer(derive(secret, Purpose.EMAIL_CHANGE), salt="idp-email-change")

    def owned_by_directory(self, user: User) -> bool:
        """The address belongs to an organisation's directory (its domain must sign in through
        single sign-on): the directory changes it, not this page."""
        return sso_refusal(self.policies, user.email)

    def request(self, user: User, new_email: str, *, ctx: RequestContext) -> str:
        """Mail a confirmation link to `new_email` and return the address as normalised. The
        page says the same whether or not another account has the address: that account's owner
        gets a mail saying so instead, and nobody learns who has an account."""
        if self.owned_by_directory(user):
            raise ValidationError(MANAGED, field="email")
        email = normalise_login(new_email)
        if email.lower() == user.email.lower():
            raise ValidationError(N_("This is already your e-mail address."), field="email")
        if sso_refusal(self.policies, email):
            raise ValidationError(N_("Addresses at this domain belong to an organisation's directory: sign in "
                                     "through its single sign-on instead."), field="email")
        self.ratelimit.check("email_change", str(user.id), limit=5, window=3600)
        other = self.users.by_email(email)
        if other is not None:
            self.mail.queue(email, "account_email_taken", locale=other.locale, timezone=other.timezone,
                            when=self.clock.now(), ip=ctx.ip)
            return email
        expires = int(self.clock.now().timestamp()) + self.ttl
        token = self.signer.dumps({"u": user.id, "to": email, "from": _key_of(user.email), "exp": expires})
        self.mail.queue(email, "account_email_confirm", locale=user.locale, timezone=user.timezone,
                        name=user.display_name, link=f"{self.base_url}{CONFIRM_PATH}{token}",
                        hours=max(1, self.ttl // 3600))
        return email

    def _read(self, user: User, token: str) -> str:
        if not token or len(token) > MAX_TOKEN:
            raise ValidationError(NOT_VALID)
        try:
            data: Any = self.signer.loads(token)
        except BadData as exc:
            raise ValidationError(NOT_VALID) from exc
        if not isinstance(data, dict) or data.get("u") != user.id or not isinstance(data.get("to"), str):
            # Another account's link: nothing says whose.
            raise ValidationError(NOT_VALID)
        if not isinstance(data.get("exp"), int) or data["exp"] < self.clock.now().timestamp():
            raise ValidationError(EXPIRED)
        if data.get("from") != _key_of(user.email):
            raise ValidationError(USED)
        return str(data["to"])

    def pending(self, user: User, token: str) -> str:
        """The address this link would make the account's, or ValidationError saying why not."""
        return self._read(user, token)

    def confirm(self, user: User, token: str, *, ctx: RequestContext) -> User:
        """Make the link's address the login e-mail (`account:email:changed`) and tell the old one."""
        email = self._read(user, token)
        if self.owned_by_directory(user) or sso_refusal(self.policies, email):
            raise ValidationError(MANAGED)
        old = user.email
        try:
            # The link was opened from the new address's mailbox: it is proven.
            changed = self.users.set_email(user.id, email, self.clock.now(), verified=True)
        except ConflictError as exc:
            raise ValidationError(TAKEN) from exc
        self.events.record_event(EventTag.EMAIL_CHANGED, ctx=ctx, user_id=user.id)
        self.mail.queue(old, "account_email_changed", locale=user.locale, timezone=user.timezone,
                        name=user.display_name, new_email=email, when=self.clock.now(), ip=ctx.ip,
                        wizard_url=self.wizard_url())
        return changed
