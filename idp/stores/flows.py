"""Short-lived state of in-progress flows (sign-in) in Redis, stored as JSON with a TTL."""

from __future__ import annotations

import json
from typing import Any

import redis

from idp.stores.redis import Keys
from idp.stores.redis import unavailable_is_503


class RedisFlowStore:
    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self.r = client
        self.keys = keys

    @unavailable_is_503
    def put(self, digest: str, state: dict[str, Any], ttl: int) -> None:
        self.r.set(self.keys.flow(digest), json.dumps(state), ex=ttl)

    @unavailable_is_503
    def get(self, digest: str) -> dict[str, Any] | None:
        raw = self.r.get(self.keys.flow(digest))
        return json.loads(raw) if raw else None

    @unavailable_is_503
    def replace(self, digest: str, state: dict[str, Any]) -> bool:
        """Overwrite a flow that still exists, keeping its remaining lifetime."""
        return bool(self.r.set(self.keys.flow(digest), json.dumps(state), xx=True, keepttl=True))

    @unavailable_is_503
    def take(self, digest: str) -> dict[str, Any] | None:
        """Read and delete in one step: a flow completes at most once."""
        raw = self.r.getdel(self.keys.flow(digest))
        return json.loads(raw) if raw else None
