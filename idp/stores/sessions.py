"""Browser sessions in Redis: one hash per session plus a per-user index for listing and ending them."""

from __future__ import annotations

import json
from typing import Any

import redis

from idp.stores.redis import Keys
from idp.stores.redis import unavailable_is_503

_JSON_FIELDS = ("amr", "extra", "methods", "acting")


def _encode(record: dict[str, Any]) -> Any:
    out = {}
    for name, value in record.items():
        out[name] = json.dumps(value) if name in _JSON_FIELDS else str(value)
    return out


def _decode(raw: Any) -> dict[str, Any]:
    out: dict[str, Any] = dict(raw)
    for name in _JSON_FIELDS:
        if name in out:
            out[name] = json.loads(out[name])
    for name in ("user_id", "created", "last_seen", "auth_time", "expires"):
        if name in out:
            out[name] = int(out[name])
    return out


class RedisSessionStore:
    """Keys: `<p>:sess:<digest>` (HASH, TTL = idle timeout capped by the absolute lifetime) and
    `<p>:{u:<id>}:sessions` (ZSET digest -> absolute expiry, TTL = the longest expiry).

    The digest is the SHA-256 of the cookie's session id: a copy of Redis does not hand out
    cookies that work.
    """

    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self.r = client
        self.keys = keys

    def _index(self, user_id: int) -> str:
        return self.keys.user(user_id, "sessions")

    @unavailable_is_503
    def create(self, digest: str, record: dict[str, Any], *, ttl: int, expires: int) -> None:
        user_id = int(record["user_id"])
        index = self._index(user_id)
        pipe = self.r.pipeline(transaction=False)
        pipe.hset(self.keys.session(digest), mapping=_encode(record | {"expires": expires}))
        pipe.expire(self.keys.session(digest), ttl)
        pipe.zadd(index, {digest: expires})
        # The index lives as long as its longest-lived session.
        pipe.expireat(index, expires, gt=True)
        pipe.expireat(index, expires, nx=True)
        pipe.execute()

    @unavailable_is_503
    def get(self, digest: str) -> dict[str, Any] | None:
        raw = self.r.hgetall(self.keys.session(digest))
        return _decode(raw) if raw else None

    @unavailable_is_503
    def touch(self, digest: str, *, last_seen: int, ip: str, ttl: int) -> bool:
        key = self.keys.session(digest)
        pipe = self.r.pipeline(transaction=True)
        pipe.exists(key)
        pipe.hset(key, mapping={"last_seen": str(last_seen), "ip": ip})
        pipe.expire(key, ttl)
        exists, *_ = pipe.execute()
        if not exists:
            # The record expired between read and write: drop the stray fields just written.
            self.r.delete(key)
        return bool(exists)

    @unavailable_is_503
    def update(self, digest: str, fields: dict[str, Any]) -> bool:
        """Set fields of a live session (its TTL unchanged); False, with nothing left behind,
        when the record is gone (ended, or expired between the caller's read and this write)."""
        key = self.keys.session(digest)
        pipe = self.r.pipeline(transaction=True)
        pipe.exists(key)
        pipe.hset(key, mapping=_encode(fields))
        exists, _set = pipe.execute()
        if not exists:
            # The HSET made a record of these fields alone, without a TTL: drop it.
            self.r.delete(key)
        return bool(exists)

    @unavailable_is_503
    def delete(self, digest: str, user_id: int) -> bool:
        # The record first, the index entry only once the record is gone: the two live in two
        # Cluster slots, and an index entry dropped for a record that survived (its master hung,
        # its replica took over) would leave a live session that no one can list or end.
        deleted = self.r.delete(self.keys.session(digest))
        self.r.zrem(self._index(user_id), digest)
        return bool(deleted)

    @unavailable_is_503
    def list_for_user(self, user_id: int, now: int) -> list[tuple[str, dict[str, Any]]]:
        index = self._index(user_id)
        self.r.zremrangebyscore(index, "-inf", now)
        digests = [str(d) for d in self.r.zrange(index, 0, -1)]
        if not digests:
            return []
        pipe = self.r.pipeline(transaction=False)
        for digest in digests:
            pipe.hgetall(self.keys.session(digest))
        found, gone = [], []
        for digest, raw in zip(digests, pipe.execute(), strict=True):
            (found.append((digest, _decode(raw))) if raw else gone.append(digest))
        if gone:
            # Idle-expired records leave their index entry behind; tidy it here.
            self.r.zrem(index, *gone)
        return found

    @unavailable_is_503
    def delete_all(self, user_id: int, *, keep: str | None = None) -> list[str]:
        index = self._index(user_id)
        digests = [str(d) for d in self.r.zrange(index, 0, -1) if d != keep]
        if digests:
            # The records first (any slots), the index entries only once they are all gone
            # (see `delete`): a failure leaves every session still listed, to be ended again.
            pipe = self.r.pipeline(transaction=False)
            for digest in digests:
                pipe.delete(self.keys.session(digest))
            pipe.execute()
            self.r.zrem(index, *digests)
        return digests
