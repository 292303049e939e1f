"""Lockout: failed attempts counted per account in Redis against the account's own threshold."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Protocol

from idp.clock import Clock
from idp.events import EventRecorder
from idp.events import EventTag
from idp.events import Product
from idp.foundation.ratelimit import Hold
from idp.mail import MailService
from idp.model import RequestContext
from idp.model import User


class FailureCounter(Protocol):
    def key(self, user_id: int | None, login: str) -> str: ...
    def add(self, key: str, window: int) -> int: ...
    def get(self, key: str) -> int: ...
    def reset(self, key: str, *, give_back: tuple[str, str, str] | None = None) -> None: ...


class LockStore(Protocol):
    def lock(self, user_id: int, now: dt.datetime) -> bool: ...
    def unlock(self, user_id: int, now: dt.datetime) -> bool: ...


class LockoutService:
    """Every failure is counted (atomically, so parallel attempts lose none); the one that
    reaches the threshold locks the account in SQL, where it stays until unlocked."""

    def __init__(
        self, counter: FailureCounter, locks: LockStore, events: EventRecorder, mail: MailService,
        clock: Clock, *, window: int,
    ) -> None:
        self.counter, self.locks, self.events, self.mail = counter, locks, events, mail
        self.clock, self.window = clock, window
        self._unlock_link: Callable[[User, dt.datetime], str] | None = None

    def offer_unlock_links(self, link_for: Callable[[User, dt.datetime], str]) -> None:
        """Put a self-service unlock link in each lock mail, built by `link_for(account, locked_at)`
        (the security center's UnlockService, which itself needs this service, so it cannot be
        passed at construction). Without one, the mail names no link."""
        self._unlock_link = link_for

    def failures(self, user: User) -> int:
        return self.counter.get(self.counter.key(user.id, user.email))

    def register_failure(self, user: User | None, login: str, ctx: RequestContext) -> int:
        count = self.counter.add(self.counter.key(user.id if user else None, login), self.window)
        if user is not None and count >= user.lockout_threshold and user.locked_at is None:
            self._lock(user, count, ctx)
        return count

    def _lock(self, user: User, count: int, ctx: RequestContext) -> None:
        # The conditional update makes exactly one of many racing requests the locker.
        now = self.clock.now()
        if not self.locks.lock(user.id, now):
            return
        self.events.record_event(
            EventTag.LOCKOUT_LOCKED, ctx=ctx, user_id=user.id, product=Product.SIGNIN,
            details={"failures": count, "threshold": user.lockout_threshold},
        )
        self.mail.queue_for(
            user, "account_locked", failures=count, ip=ctx.ip,
            unlock_url=self._unlock_link(user, now) if self._unlock_link else "",
        )

    def register_success(self, user: User, *, release: Hold | None = None) -> None:
        """Forget the account's failures; with `release`, also give back the place the attempt
        held in a rate-limit window (the same round trip)."""
        give_back = (release.scope, release.subject, release.ticket) if release else None
        self.counter.reset(self.counter.key(user.id, user.email), give_back=give_back)

    def unlock(self, user: User, ctx: RequestContext, *, actor_id: int | None, how: str) -> bool:
        """Unlock and forget past failures; recorded with who did it (`how`: admin, link, cli)."""
        unlocked = self.locks.unlock(user.id, self.clock.now())
        self.counter.reset(self.counter.key(user.id, user.email))
        if unlocked:
            self.events.record_event(
                EventTag.LOCKOUT_UNLOCKED, ctx=ctx, user_id=user.id, actor_id=actor_id,
                details={"how": how},
            )
        return unlocked
