"""Forgot your password? A signed, expiring, single-use link e-mailed to the address, bound to the
password it replaces; using it sets a new password and signs nobody in."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import time
from collections.abc import Callable
from collections.abc import Sequence
from contextlib import AbstractContextManager
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any
from typing import Protocol

from idp.account.passwords import Rules
from idp.account.passwords import sso_refusal
from idp.auth.service import PasswordPolicy
from idp.auth.service import normalise_login
from idp.clock import Clock
from idp.crypto import Purpose
from idp.crypto import derive
from idp.errors import N_
from idp.errors import ValidationError
from idp.events import EventRecorder
from idp.events import EventTag
from idp.events import Product
from idp.foundation.links import AccountLinks
from idp.foundation.lockout import LockoutService
from idp.foundation.ratelimit import RateLimiter
from idp.foundation.sessions import SessionService
from idp.mail import MailService
from idp.model import RequestContext
from idp.model import User
from idp.model import UserStatus
from idp.standing import Act
from idp.standing import may
from idp.useragent import describe

RESET_PATH = "/login/reset/"
FORGOT_PATH = "/login/forgot"
NOT_VALID = N_("This password reset link is not valid. Ask for a new one.")
EXPIRED = N_("This password reset link has expired. Ask for a new one.")
USED = N_("This password reset link has already been used, or your password was changed since it was sent. Ask for a new one if you need it.")  # noqa: E501


class ResetLinkError(ValidationError):
    """The link cannot set a password: forged, altered, expired, used, or the password changed
    since it was sent, or the account can no longer use one."""


class ResetStore(Protocol):
    def get(self, user_id: int) -> User | None: ...
    def by_email(self, email: str) -> User | None: ...
    def swap_password_hash(self, user_id: int, old_hash: str | None, new_hash: str, now: dt.datetime) -> bool: ...


@dataclass(frozen=True)
class ResetLimits:
    """Requests for a link allowed per window: from one IP, and for one address (counted by its
    digest, whether or not an account has it); submissions of a link per window from one IP."""

    per_ip: int = 20
    per_address: int = 5
    window: int = 3600
    submit_per_ip: int = 30
    # Seconds a request for a link takes at least, so that the one outbox row written for an
    # account (1 to 3 ms measured) is lost in the wait; with `per_address` samples an hour
    # whatever the IPs, timing cannot tell whether an address has an account.
    floor: float = 0.05


class PasswordResetService:
    """A link is `<user id>.<signed [password fingerprint, expiry s]>`, signed by itsdangerous
    (HMAC-SHA256) with the instance's reset-link key and a salt naming the account's id and
    e-mail, as the unlock link is (idp.security.unlock).

    The fingerprint is a keyed hash of the password hash the link replaces. Any change of the
    password (this link, another link, the change page, the wizard, an administrator) gives the
    account a new hash (argon2 salts every one), so every link sent before stops working without
    any storage; the change itself is a compare-and-set on that hash, so of two submissions of
    one link exactly one wins."""

    def __init__(
        self, *, users: ResetStore, rules: Rules, lockout: LockoutService, ratelimit: RateLimiter,
        sessions: SessionService, events: EventRecorder, mail: MailService, clock: Clock,
        policies: Sequence[PasswordPolicy], secret: str, base_url: str, ttl: int, wizard_url: Callable[[], str],
        limits: ResetLimits = ResetLimits(), unit: Callable[[], AbstractContextManager[None]] = nullcontext,
    ) -> None:
        self.users, self.rules, self.lockout, self.ratelimit = users, rules, lockout, ratelimit
        self.sessions, self.events, self.mail, self.clock = sessions, events, mail, clock
        self.policies, self.base_url, self.ttl, self.limits = policies, base_url, ttl, limits
        self.wizard_url, self.unit = wizard_url, unit
        self._sleep: Callable[[float], None] = lambda seconds: time.sleep(seconds) if seconds > 0 else None
        self._key = derive(secret, Purpose.PASSWORD_RESET_LINK)
        self._links = AccountLinks(self._key, "idp password reset link", clock, ttl)

    # -- the link ---------------------------------------------------------------------------


    def _fingerprint(self, password_hash: str | None) -> str:
        return hmac.new(self._key, (password_hash or "no password").encode(), hashlib.sha256).hexdigest()[:32]

    def token_for(self, user: User) -> str:
        return self._links.make(user, self._fingerprint(user.password_hash))

    def link_for(self, user: User) -> str:
        return self.base_url + RESET_PATH + self.token_for(user)


    def check(self, token: str) -> User:
        """The account this link may set a password for, or ResetLinkError: a link altered, for
        another account or an earlier address, or signed with another key is not valid; one past
        its expiry has expired; one whose password changed since (its own use included) is used.
        A disabled account, or one whose organisation now requires single sign-on, gets "not
        valid" too."""
        verified = self._links.read(token, self.users.get, str)
        if verified is None:
            raise ResetLinkError(NOT_VALID)
        user, fingerprint, expires = verified
        if not may(user, Act.PASSWORD_RESET) or sso_refusal(self.policies, user.email):
            raise ResetLinkError(NOT_VALID)
        if expires <= self.clock.now().timestamp():
            raise ResetLinkError(EXPIRED)
        if not hmac.compare_digest(fingerprint, self._fingerprint(user.password_hash)):
            raise ResetLinkError(USED)
        return user

    # -- asking for it ----------------------------------------------------------------------

    def request(self, login: str, ctx: RequestContext) -> None:
        """Mail a reset link to `login` when an account may use one; the caller shows the same
        page whatever happened, and the work done is the same: limits, one account lookup, one
        link signed, one event written and one mail rendered in one transaction, and the whole
        takes at least `limits.floor` seconds (the outbox row is the one difference).

        - an active or locked account gets the link (a reset lifts the lock);
        - an address whose organisation requires single sign-on gets a mail saying to sign in
          through the organisation (there is no password to reset);
        - an unknown address, a disabled or a deleted account gets nothing (the event keeps only
          a digest of an unknown address).
        Raises RateLimitedError past the limits per IP and per address, whether or not an
        account has it, and ValidationError for what is not an e-mail address."""
        started = time.monotonic()
        try:
            self._request(normalise_login(login), ctx)
        finally:
            self._sleep(self.limits.floor - (time.monotonic() - started))

    def _request(self, login: str, ctx: RequestContext) -> None:
        digest = hashlib.sha256(login.lower().encode()).hexdigest()
        limits = self.limits
        self.ratelimit.check("reset", ctx.ip, limit=limits.per_ip, window=limits.window)
        self.ratelimit.check("reset_address", digest, limit=limits.per_address, window=limits.window)
        user = self.users.by_email(login)
        sso = sso_refusal(self.policies, login)
        eligible = user is not None and may(user, Act.PASSWORD_RESET)
        # The link is signed whoever asks, so that an unknown address costs the same work.
        link = self.base_url + RESET_PATH + self.token_for(user if user is not None else _NOBODY)
        sent = "sso" if eligible and sso else "link" if eligible else "none"
        with self.unit():
            self.events.record_event(
                EventTag.PASSWORD_RESET_REQUESTED, ctx=ctx, user_id=user.id if user else None,
                product=Product.SIGNIN,
                details={"sent": sent} | ({} if user else {"login_digest": digest[:16]}),
            )
            values: dict[str, Any] = {"ip": ctx.ip, "when": self.clock.now(), "ttl_minutes": self.ttl // 60}
            if user is None or not eligible:
                # Rendered and dropped: only the outbox row is missing from the work.
                self.mail.render("account_password_reset_link", reset_url=link, name="", **values)
            elif sso:
                login_url = self.base_url + "/login"
                self.mail.queue_for(user, "account_password_reset_sso", login_url=login_url, **values)
            else:
                self.mail.queue_for(user, "account_password_reset_link", reset_url=link, **values)

    # -- using it ---------------------------------------------------------------------------

    def reset(self, token: str, *, new: str, confirm: str, ctx: RequestContext) -> User:
        """Set the new password behind a valid link (the same rules as a change, but no current
        password: the link proves the mailbox). Then every session of the account ends, its lock
        and counted failures are cleared, one `account:password:reset` is recorded and the owner
        mailed. Nobody is signed in: the next sign-in still asks for the second factor.

        Rate-limited per IP; a refused genuine link is recorded against its account."""
        self.ratelimit.check("reset_submit", ctx.ip, limit=self.limits.submit_per_ip, window=self.limits.window)
        try:
            user = self.check(token)
        except ResetLinkError:
            self._refused(token, ctx)
            raise
        self.rules.check(user, new, confirm)
        now = self.clock.now()
        if not self.users.swap_password_hash(user.id, user.password_hash, self.rules.passwords.hash(new), now):
            self._refused(token, ctx)
            raise ResetLinkError(USED)
        ended = self.sessions.end_all(user.id, ctx, actor_id=user.id, reason="password_reset")
        unlocked = self.lockout.unlock(user, ctx, actor_id=user.id, how="reset")
        self.events.record_event(
            EventTag.PASSWORD_RESET, ctx=ctx, user_id=user.id, actor_id=user.id,
            details={"sessions_ended": ended, "unlocked": unlocked, "first": user.password_hash is None},
        )
        self.mail.queue_for(
            user, "account_password_reset_done", when=now, ip=ctx.ip, device=describe(ctx.user_agent),
            sessions_ended=ended, forgot_url=self.base_url + FORGOT_PATH, wizard_url=self.wizard_url(),
        )
        return user

    def _refused(self, token: str, ctx: RequestContext) -> None:
        # Only a genuine link (expired, used, or of an account that may no longer use it) is
        # recorded: a forged one names an account the forger chose.
        verified = self._links.read(token, self.users.get, str)
        if verified is not None:
            self.events.record_event(
                EventTag.PASSWORD_RESET_LINK_REFUSED, ctx=ctx, user_id=verified[0].id, product=Product.SIGNIN
            )


# Signs the link of an address without an account (never sent), so that both cost the same.
_NOBODY = User(
    id=0, subject="", email="nobody@invalid", display_name="", password_hash=None,
    status=UserStatus.DISABLED, locale=None,
    lockout_threshold=0, locked_at=None, created_at=dt.datetime(1970, 1, 1, tzinfo=dt.UTC),
    updated_at=dt.datetime(1970, 1, 1, tzinfo=dt.UTC),
)
