"""Self-service unlock: a signed, single-use, expiring link e-mailed to the owner of a locked account."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from idp.clock import Clock
from idp.crypto import Purpose
from idp.crypto import derive
from idp.errors import N_
from idp.errors import ValidationError
from idp.events import EventRecorder
from idp.events import EventTag
from idp.foundation.breached import BreachedPasswordCheck
from idp.foundation.breached import refuse_breached
from idp.foundation.links import AccountLinks
from idp.foundation.lockout import LockoutService
from idp.foundation.passwords import Passwords
from idp.foundation.ratelimit import RateLimiter
from idp.model import RequestContext
from idp.model import User

UNLOCK_PATH = "/unlock/"
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
USED = N_("This unlock link has already been used, or the account is no longer locked.")


class UnlockLinkError(ValidationError):
    """The link cannot unlock anything: forged, altered, for another account, expired or used."""


class UserLookup(Protocol):
    def get(self, user_id: int) -> User | None: ...


class PasswordSetter(Protocol):
    def set_password(
        self, user: User, password: str, *, ctx: RequestContext = ..., actor_id: int | None = None
    ) -> User: ...


def _micros(when: dt.datetime) -> int:
    # Exact integer arithmetic: the lock time must compare equal after a round trip through SQL.
    return (when - EPOCH) // dt.timedelta(microseconds=1)


class UnlockService:
    """A link is `<user id>.<signed [lock time µs, expiry s]>`, signed by itsdangerous (HMAC-SHA256)
    with the instance's unlock-link key and a salt naming the account's id and e-mail, so the
    signature holds for that account only, and only while its e-mail is the one written to.

    It is single-use without any storage: it names the lock it was issued for, and redeeming it
    lifts that lock, so the same link (and every link of an earlier lock) finds nothing to unlock
    afterwards. The expiry is in the signed payload and read against the injected clock."""

    def __init__(
        self, *, users: UserLookup, accounts: PasswordSetter, passwords: Passwords, lockout: LockoutService,
        ratelimit: RateLimiter, breached: BreachedPasswordCheck, events: EventRecorder, clock: Clock,
        secret: str, base_url: str, ttl: int, ip_limit: int, ip_window: int,
    ) -> None:
        self.users, self.accounts, self.passwords, self.lockout = users, accounts, passwords, lockout
        self.ratelimit, self.breached, self.events, self.clock = ratelimit, breached, events, clock
        self._links = AccountLinks(derive(secret, Purpose.UNLOCK_LINK), "idp unlock link", clock, ttl)
        self.base_url, self.ttl, self.ip_limit, self.ip_window = base_url, ttl, ip_limit, ip_window


    def token_for(self, user: User, locked_at: dt.datetime) -> str:
        return self._links.make(user, _micros(locked_at))


    def link_for(self, user: User, locked_at: dt.datetime) -> str:
        """The URL put in the account_locked mail (LockoutService calls this when it locks)."""
        return self.base_url + UNLOCK_PATH + self.token_for(user, locked_at)

    def check(self, token: str) -> User:
        """The locked account this link may unlock, or UnlockLinkError.

        A changed user id, lock time or expiry, a link for another account or an earlier
        e-mail address, and one signed with another key are all refused as not valid."""
        verified = self._links.read(token, self.users.get, int)
        if verified is None:
            raise UnlockLinkError(N_("This unlock link is not valid."))
        user, locked, expires = verified
        if expires <= self.clock.now().timestamp():
            raise UnlockLinkError(
                N_("This unlock link has expired. Sign in to get a new one, or ask an administrator.")
            )
        if user.locked_at is None or _micros(user.locked_at) != locked:
            raise UnlockLinkError(USED)
        return user

    def redeem(
        self, token: str, ctx: RequestContext, *, new_password: str | None = None,
        current_password: str | None = None,
    ) -> User:
        """Unlock the account behind the link, after the person set a new password or confirmed
        the current one. Rate-limited per IP; a refused link is recorded against its account."""
        self.ratelimit.check("unlock", ctx.ip, limit=self.ip_limit, window=self.ip_window)
        try:
            user = self.check(token)
        except UnlockLinkError:
            self._refused(token, ctx)
            raise
        if new_password:
            self.passwords.check_new(new_password, email=user.email)
            refuse_breached(self.breached, new_password)
        else:
            if not current_password:
                raise ValidationError(
                    N_("Enter your current password, or choose a new one."), field="current_password"
                )
            if not self.passwords.verify(user.password_hash, current_password).ok:
                raise ValidationError(N_("Wrong password."), field="current_password")
        # The conditional unlock makes one of two racing submissions of the same link the winner.
        if not self.lockout.unlock(user, ctx, actor_id=user.id, how="link"):
            raise UnlockLinkError(USED)
        if new_password:
            user = self.accounts.set_password(user, new_password, ctx=ctx, actor_id=user.id)
        return user

    def _refused(self, token: str, ctx: RequestContext) -> None:
        # Only a genuine link (expired or used) is recorded: a forged one names an account the
        # forger chose, and must not write to that person's log.
        verified = self._links.read(token, self.users.get, int)
        if verified is not None:
            self.events.record_event(EventTag.UNLOCK_LINK_REFUSED, ctx=ctx, user_id=verified[0].id)
