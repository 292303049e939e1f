"""The sign-in limits: attempts from one IP, and from one IP on one account, held before the
password is verified and kept only by failures."""

from __future__ import annotations

from idp.errors import RateLimitedError
from idp.foundation.lockout import LockoutService
from idp.foundation.ratelimit import Hold
from idp.foundation.ratelimit import RateLimiter
from idp.model import User


class SignInLimits:
    """Failed password attempts allowed per window: from one IP (`ip_limit`), and from one IP on
    one account (`account_ip_limit`, ratelimit.signin_per_account_ip). Successes are not counted:
    an office behind one address signs in all day."""

    def __init__(
        self, ratelimit: RateLimiter, lockout: LockoutService, *, ip_limit: int, ip_window: int,
        account_ip_limit: int,
    ) -> None:
        self.ratelimit, self.lockout = ratelimit, lockout
        self.ip_limit, self.ip_window, self.account_ip_limit = ip_limit, ip_window, account_ip_limit

    def hold(self, ip: str) -> Hold:
        """Take this attempt's place among the IP's (RateLimitedError past the limit)."""
        return self.ratelimit.hold("signin", ip, limit=self.ip_limit, window=self.ip_window)

    def release(self, held: Hold) -> None:
        """Give the place back: no password was tried after all."""
        self.ratelimit.release(held)

    def hold_account(self, user: User | None, login: str, ip: str, held: Hold) -> None:
        """Count this attempt on the account from this IP, or give the per-IP place back and
        raise RateLimitedError. A login that names no account is counted by its digest: the
        answer, and the work before it, are the same as for an account."""
        try:
            self.ratelimit.hold_account(
                user.id if user else None, login, ip, limit=self.account_ip_limit, window=self.ip_window
            )
        except RateLimitedError:
            self.ratelimit.release(held)  # a refused attempt is not counted, so one who stops recovers
            raise

    def succeeded(self, user: User, held: Hold) -> None:
        """The right password: this attempt was no failure, and the account's failures (from
        every IP) are forgotten, as after an unlock (one round trip)."""
        self.lockout.register_success(user, release=held)
