"""Per-IP rate limits (sliding windows in Redis) that stop password spraying across accounts, and
the per-(IP, account) limit that slows guessing one account from one network."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from idp.clock import Clock
from idp.errors import RateLimitedError


class RateLimitStore(Protocol):
    def hit(self, scope: str, subject: str, *, limit: int, window_ms: int, now_ms: int) -> int: ...
    def take(self, scope: str, subject: str, *, limit: int, window_ms: int, now_ms: int) -> tuple[int, str]: ...
    def give_back(self, scope: str, subject: str, ticket: str) -> None: ...
    def take_account_ip(
        self, user_id: int | None, login: str, ip: str, *, limit: int, window_ms: int, now_ms: int
    ) -> int: ...
    def give_back_account_ip(self, user_id: int | None, login: str, ip: str) -> None: ...


@dataclass(frozen=True)
class Hold:
    """A place taken in a window by one attempt, before its outcome is known; given back with
    `RateLimiter.release` when the attempt proves not to be a failure."""

    scope: str
    subject: str
    ticket: str


def _seconds(retry_ms: int) -> int:
    return max(1, -(-retry_ms // 1000))


class RateLimiter:
    def __init__(self, store: RateLimitStore, clock: Clock) -> None:
        self.store, self.clock = store, clock

    def _now_ms(self) -> int:
        return int(self.clock.now().timestamp() * 1000)

    def check(self, scope: str, subject: str, *, limit: int, window: int) -> None:
        """Count one hit; raise RateLimitedError (with seconds to wait) past `limit` per `window` s."""
        retry_ms = self.store.hit(scope, subject, limit=limit, window_ms=window * 1000, now_ms=self._now_ms())
        if retry_ms:
            raise RateLimitedError(retry_after=_seconds(retry_ms))

    def hold(self, scope: str, subject: str, *, limit: int, window: int) -> Hold:
        """Take a place for an attempt whose outcome is not known yet; raise RateLimitedError
        past `limit` per `window` s. Taking it first keeps the count exact under parallel
        attempts: each holds its place while it runs, and only failures keep theirs."""
        retry_ms, ticket = self.store.take(scope, subject, limit=limit, window_ms=window * 1000, now_ms=self._now_ms())
        if retry_ms:
            raise RateLimitedError(retry_after=_seconds(retry_ms))
        return Hold(scope, subject, ticket)

    def release(self, held: Hold) -> None:
        """Give the place back: the attempt succeeded, or was no attempt at all."""
        self.store.give_back(held.scope, held.subject, held.ticket)

    def hold_account(self, user_id: int | None, login: str, ip: str, *, limit: int, window: int) -> None:
        """Count an attempt on one account (by id, or by login when it names none) from one IP;
        raise RateLimitedError past `limit` in `window` s from that IP's first failure. The count
        is forgotten with the account's failures (a success, an unlock)."""
        retry_ms = self.store.take_account_ip(
            user_id, login, ip, limit=limit, window_ms=window * 1000, now_ms=self._now_ms()
        )
        if retry_ms:
            raise RateLimitedError(retry_after=_seconds(retry_ms))

    def release_account(self, user_id: int | None, login: str, ip: str) -> None:
        self.store.give_back_account_ip(user_id, login, ip)
