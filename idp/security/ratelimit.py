"""Per-IP rate limits (sliding windows in Redis) that stop password spraying across accounts."""

from __future__ import annotations

from typing import Protocol

from idp.clock import Clock
from idp.errors import RateLimitedError


class RateLimitStore(Protocol):
    def hit(self, scope: str, subject: str, *, limit: int, window_ms: int, now_ms: int) -> int: ...


class RateLimiter:
    def __init__(self, store: RateLimitStore, clock: Clock) -> None:
        self.store, self.clock = store, clock

    def check(self, scope: str, subject: str, *, limit: int, window: int) -> None:
        """Count one hit; raise RateLimitedError (with seconds to wait) past `limit` per `window` s."""
        now_ms = int(self.clock.now().timestamp() * 1000)
        retry_ms = self.store.hit(scope, subject, limit=limit, window_ms=window * 1000, now_ms=now_ms)
        if retry_ms:
            raise RateLimitedError(retry_after=max(1, -(-retry_ms // 1000)))
