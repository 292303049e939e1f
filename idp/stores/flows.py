"""Short-lived state of in-progress flows (sign-in) in Redis, stored as JSON with a TTL."""

from __future__ import annotations

import json
from typing import Any

import redis

from idp.stores.redis import Keys
from idp.stores.redis import unavailable_is_503

# Read a flow, its remaining lifetime, and delete it, in one step (one key: any Cluster slot).
_CLAIM = """
local state = redis.call('GET', KEYS[1])
if not state then
  return false
end
local ttl = redis.call('PTTL', KEYS[1])
redis.call('DEL', KEYS[1])
return {state, ttl}
"""


class RedisFlowStore:
    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self.r = client
        self.keys = keys
        self._claim = client.register_script(_CLAIM)

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
    def claim(self, digest: str) -> tuple[dict[str, Any], int] | None:
        """Hold a flow for one attempt: its state and remaining milliseconds, and it is gone
        until `give_back` (so a racing attempt finds nothing)."""
        found = self._claim(keys=[self.keys.flow(digest)])
        if not found:
            return None
        raw, ttl_ms = found
        return json.loads(raw), int(ttl_ms)

    @unavailable_is_503
    def give_back(self, digest: str, state: dict[str, Any], ttl_ms: int) -> None:
        """Put a claimed flow back with the lifetime it had left (none left: it stays gone)."""
        if ttl_ms > 0:
            self.r.set(self.keys.flow(digest), json.dumps(state), px=ttl_ms, nx=True)

    @unavailable_is_503
    def take(self, digest: str) -> dict[str, Any] | None:
        """Read and delete in one step: a flow completes at most once."""
        raw = self.r.getdel(self.keys.flow(digest))
        return json.loads(raw) if raw else None
