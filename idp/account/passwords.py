"""The account's own password: the rules for a new one, changing it (current password first), and
setting a first one on an account that signs in through its organisation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from idp.auth.service import PasswordPolicy
from idp.clock import Clock
from idp.errors import N_
from idp.errors import PasswordLockedError
from idp.errors import RateLimitedError
from idp.errors import ValidationError
from idp.events import EventRecorder
from idp.events import EventTag
from idp.foundation.breached import BreachedPasswordCheck
from idp.foundation.lockout import LockoutService
from idp.foundation.passwords import MAX_PASSWORD_LENGTH
from idp.foundation.passwords import Passwords
from idp.foundation.ratelimit import RateLimiter
from idp.foundation.sessions import BrowserSession
from idp.foundation.sessions import SessionService
from idp.mail import MailService
from idp.model import RequestContext
from idp.model import User
from idp.standing import Act
from idp.standing import may
from idp.useragent import describe

CHANGED_BEFORE = N_("Your password was changed meanwhile. Reload the page and try again.")


class PasswordStore(Protocol):
    def get(self, user_id: int) -> User | None: ...
    def swap_password_hash(self, user_id: int, old_hash: str | None, new_hash: str, now: dt.datetime) -> bool: ...


@dataclass(frozen=True)
class Limits:
    """Failed current passwords allowed per window: from one IP, and from one IP on the account
    (the sign-in's own limits, `ratelimit.signin_*`, shared with it)."""

    ip: int
    account_ip: int
    window: int


@dataclass(frozen=True)
class Rules:
    """What a new password must be: the length rules (`Passwords.check_new`), not the e-mail, not
    common or breached (the same check as the compromised-password wizard), typed the same twice,
    and, when the current one is known, different from it. Each refusal names the field."""

    passwords: Passwords
    breached: BreachedPasswordCheck

    def check(self, user: User, new: str, confirm: str, *, current: str | None = None) -> None:
        if not new:
            raise ValidationError(N_("Choose a new password."), field="new_password")
        if len(new) > MAX_PASSWORD_LENGTH or len(confirm) > MAX_PASSWORD_LENGTH:
            raise ValidationError(N_("This password is too long."), field="new_password")
        try:
            self.passwords.check_new(new, email=user.email)
        except ValidationError as exc:
            exc.field = "new_password"
            raise
        if current is not None and new == current:
            raise ValidationError(N_("The new password must differ from the current one."), field="new_password")
        if self.breached.is_breached(new):
            raise ValidationError(
                N_("This password is too common: it appears in lists of leaked passwords. Choose another."),
                field="new_password",
            )
        if not confirm:
            raise ValidationError(N_("Type the new password a second time."), field="confirm")
        if new != confirm:
            raise ValidationError(N_("The two new passwords differ."), field="confirm")


def sso_refusal(policies: Sequence[PasswordPolicy], login: str) -> bool:
    """Whether a sign-in policy (an organisation that requires single sign-on for the address's
    domain) refuses this login a password: the same question the e-mail step of sign-in asks."""
    return any(policy.check(login) is not None for policy in policies)


class PasswordService:
    """Changes the signed-in owner's password, and sets a first one where the rules allow.

    Each change records one `account:password:changed` (details `how`: change or set) and mails
    the owner: when, from where, and the compromised-password wizard if it was not them."""

    def __init__(
        self, *, users: PasswordStore, rules: Rules, lockout: LockoutService, ratelimit: RateLimiter,
        sessions: SessionService, events: EventRecorder, mail: MailService, clock: Clock,
        policies: Sequence[PasswordPolicy], limits: Limits, wizard_url: Callable[[], str],
    ) -> None:
        self.users, self.rules, self.lockout, self.ratelimit = users, rules, lockout, ratelimit
        self.sessions, self.events, self.mail, self.clock = sessions, events, mail, clock
        # The sign-in's own list (SignInService.password_policies), filled by the capabilities.
        self.policies, self.limits, self.wizard_url = policies, limits, wizard_url

    def kind(self, user: User) -> str:
        """Which page the account gets: "change" (it has a password), "set" (it has none and may
        have one) or "sso" (none, and its organisation requires single sign-on for its address)."""
        if user.password_hash is not None:
            return "change"
        return "sso" if sso_refusal(self.policies, user.email) else "set"

    def change(
        self, user: User, session: BrowserSession, *, current: str, new: str, confirm: str,
        sign_out_others: bool, ctx: RequestContext,
    ) -> int:
        """Replace the password after checking the current one; returns the other sessions ended.

        The new password's rules come first, so a refused new password costs no attempt. A
        wrong current password then counts as a failed sign-in attempt: toward the account's
        lockout, and against the sign-in limits per IP and per (IP, account), which refuse with
        RateLimitedError before the hash is verified. A locked password raises
        PasswordLockedError (the owner unlocks it with the e-mailed link or resets it). This
        session stays signed in; with `sign_out_others`, every other one ends."""
        if user.password_hash is None:
            raise ValidationError(N_("Your account has no password to change."), field="current_password")
        if not current:
            raise ValidationError(N_("Enter your current password."), field="current_password")
        if len(current) > MAX_PASSWORD_LENGTH:
            raise ValidationError(N_("This password is too long."), field="current_password")
        if not may(user, Act.PASSWORD):
            raise PasswordLockedError("the password is locked until the account is unlocked")
        self.rules.check(user, new, confirm, current=current)
        self._verify_current(user, current, ctx)
        return self._store(user, new, ctx, how="change", sign_out_all_but=session if sign_out_others else None)

    def set_first(self, user: User, *, new: str, confirm: str, ctx: RequestContext) -> None:
        """Give an account without a password its first one (the page asks for a recent
        authentication first: there is no current password to prove it is the owner). Refused
        when the organisation requires single sign-on for the address, as sign-in would refuse
        the password anyway."""
        if user.password_hash is not None:
            raise ValidationError(N_("Your account already has a password: change it instead."), field="new_password")
        if sso_refusal(self.policies, user.email):
            raise ValidationError(SSO_ONLY, field="new_password")
        self.rules.check(user, new, confirm)
        self._store(user, new, ctx, how="set", sign_out_all_but=None)

    def _verify_current(self, user: User, current: str, ctx: RequestContext) -> None:
        limits = self.limits
        held = self.ratelimit.hold("signin", ctx.ip, limit=limits.ip, window=limits.window)
        try:
            self.ratelimit.hold_account(user.id, user.email, ctx.ip, limit=limits.account_ip, window=limits.window)
        except RateLimitedError:
            self.ratelimit.release(held)
            raise
        if not self.rules.passwords.verify(user.password_hash, current).ok:
            self.events.record_event(
                EventTag.PASSWORD_CHANGE_FAILED, ctx=ctx, user_id=user.id, details={"reason": "current_password"}
            )
            self.lockout.register_failure(user, user.email, ctx)
            raise ValidationError(N_("Your current password is wrong."), field="current_password")
        self.lockout.register_success(user, release=held)

    def _store(
        self, user: User, new: str, ctx: RequestContext, *, how: str, sign_out_all_but: BrowserSession | None,
    ) -> int:
        """Store the new hash if nobody changed it meanwhile; with `sign_out_all_but`, end every
        other session. Records the change and mails the owner; returns the sessions ended."""
        now = self.clock.now()
        if not self.users.swap_password_hash(user.id, user.password_hash, self.rules.passwords.hash(new), now):
            raise ValidationError(CHANGED_BEFORE, field="new_password")
        ended = 0
        if sign_out_all_but is not None:
            ended = self.sessions.end_all(
                user.id, ctx, keep=sign_out_all_but, actor_id=user.id, reason="password_changed"
            )
        self.events.record_event(
            EventTag.PASSWORD_CHANGED, ctx=ctx, user_id=user.id, actor_id=user.id,
            details={"by": "owner", "how": how, "other_sessions_ended": ended},
        )
        self.mail.queue_for(
            user, "account_password_changed", when=now, ip=ctx.ip, device=describe(ctx.user_agent),
            first=how == "set", sessions_ended=ended, wizard_url=self.wizard_url(),
        )
        return ended


SSO_ONLY = N_(
    "Your organisation requires single sign-on for your address: you sign in through it, and your"
    " account cannot have a password here. Your organisation's directory manages your password."
)
