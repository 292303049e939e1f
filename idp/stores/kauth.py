"""kAuth state: enrolled devices in SQL; enrolment tokens, challenges and nonces in Redis."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import redis
from sqlalchemy import bindparam
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import update

from idp.kauth.model import Challenge
from idp.kauth.model import Device
from idp.stores.db import Database
from idp.stores.redis import Keys
from idp.stores.redis import unavailable_is_503
from idp.stores.tables_kauth import KauthDeviceRow


def _device(row: KauthDeviceRow) -> Device:
    return Device(
        id=row.id, user_id=row.user_id, name=row.name, platform=row.platform, public_key=row.public_key,
        created_at=row.created_at, last_seen_at=row.last_seen_at, removed_at=row.removed_at,
        removed_by=row.removed_by,
    )


_DEVICES = KauthDeviceRow.__table__
# Asked after every password (is kAuth one of the account's factors?): built once.
_COUNT_ACTIVE = select(func.count()).select_from(_DEVICES).where(
    _DEVICES.c.user_id == bindparam("user_id"), _DEVICES.c.removed_at.is_(None)
)

class SqlKauthDeviceStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, *, device_id: str, user_id: int, name: str, platform: str, public_key: str,
            now: dt.datetime) -> Device:
        row = KauthDeviceRow(
            id=device_id, user_id=user_id, name=name, platform=platform, public_key=public_key,
            created_at=now,
        )
        with self.db.transaction() as s:
            s.add(row)
            s.flush()
            return _device(row)

    def get(self, device_id: str) -> Device | None:
        with self.db.transaction() as s:
            row = s.get(KauthDeviceRow, device_id)
            return _device(row) if row else None

    def active_for_user(self, user_id: int) -> list[Device]:
        with self.db.transaction() as s:
            rows = s.scalars(
                select(KauthDeviceRow)
                .where(KauthDeviceRow.user_id == user_id, KauthDeviceRow.removed_at.is_(None))
                .order_by(KauthDeviceRow.created_at, KauthDeviceRow.id)
            )
            return [_device(r) for r in rows]

    def count_active(self, user_id: int) -> int:
        with self.db.read() as s:
            return int(s.scalar(_COUNT_ACTIVE, {"user_id": user_id}) or 0)

    def remove(self, device_id: str, *, now: dt.datetime, by: str) -> bool:
        """Forget the key of an active device; True only for the call that removed it."""
        with self.db.transaction() as s:
            result = s.execute(
                update(KauthDeviceRow)
                .where(KauthDeviceRow.id == device_id, KauthDeviceRow.removed_at.is_(None))
                .values(removed_at=now, removed_by=by, public_key=None)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def touch(self, device_id: str, now: dt.datetime) -> None:
        with self.db.transaction() as s:
            s.execute(update(KauthDeviceRow).where(KauthDeviceRow.id == device_id).values(last_seen_at=now))


# Create a challenge only when no other is pending (the pointer names a challenge whose expiry,
# by the service clock, has not passed) and the account is under its hourly cap; all in one step
# so that two sign-ins racing each other cannot both send a push.
_CREATE = """
local pending = redis.call('GET', KEYS[1])
if pending then
  local sep = string.find(pending, '|', 1, true)
  if sep and tonumber(string.sub(pending, sep + 1)) > tonumber(ARGV[1]) then
    return {'busy', string.sub(pending, 1, sep - 1)}
  end
end
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[2]))
if redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[3]) then
  return {'capped', ''}
end
redis.call('ZADD', KEYS[3], ARGV[1], ARGV[4])
redis.call('PEXPIRE', KEYS[3], ARGV[2])
redis.call('SET', KEYS[1], ARGV[4] .. '|' .. ARGV[5], 'EX', ARGV[6])
redis.call('SET', KEYS[2], ARGV[7], 'EX', ARGV[8])
return {'ok', ARGV[4]}
"""

# The first valid answer wins: the status moves from pending exactly once, before expiry.
_ANSWER = """
local raw = redis.call('GET', KEYS[1])
if not raw then return 'unknown' end
local ch = cjson.decode(raw)
if ch['status'] ~= 'pending' then return 'answered' end
if tonumber(ch['expires_ms']) <= tonumber(ARGV[1]) then return 'expired' end
ch['status'] = ARGV[2]
ch['device_id'] = ARGV[3]
ch['answered_ms'] = tonumber(ARGV[1])
redis.call('SET', KEYS[1], cjson.encode(ch), 'KEEPTTL')
local pending = redis.call('GET', KEYS[2])
if pending and string.sub(pending, 1, string.len(ch['id']) + 1) == ch['id'] .. '|' then
  redis.call('DEL', KEYS[2])
end
return 'ok'
"""

# The browser uses an answer once: mark it consumed and return it, in one step.
_CONSUME = """
local raw = redis.call('GET', KEYS[1])
if not raw then return false end
local ch = cjson.decode(raw)
if ch['consumed'] then return false end
if ch['status'] == 'pending' then return raw end
ch['consumed'] = true
redis.call('SET', KEYS[1], cjson.encode(ch), 'KEEPTTL')
return raw
"""

# Forget a pending challenge (expired by the service clock, or abandoned), if it is still the one.
_DROP_PENDING = """
local pending = redis.call('GET', KEYS[1])
if pending and string.sub(pending, 1, string.len(ARGV[1]) + 1) == ARGV[1] .. '|' then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
"""


def _challenge(raw: str | None) -> Challenge | None:
    if not raw:
        return None
    data = json.loads(raw)
    data.pop("consumed", None)
    return Challenge(**data)


class RedisKauthStore:
    """Keys: `<p>:kauth:enrol:<token digest>` (single-use token), `<p>:{u:<id>}:kauth:enrolment:<handle>`
    (what the browser polls), `<p>:{u:<id>}:kauth:pending` (the one pending challenge),
    `<p>:{u:<id>}:kauth:ch:<id>` (a challenge), `<p>:{u:<id>}:kauth:sent` (challenges of the last
    hour), `<p>:kauth:nonce:{d:<device>}:<nonce>` (request nonces). Every key has a TTL."""

    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self.r = client
        self.keys = keys
        self._create = client.register_script(_CREATE)
        self._answer = client.register_script(_ANSWER)
        self._consume = client.register_script(_CONSUME)
        self._drop = client.register_script(_DROP_PENDING)

    def _enrol_key(self, digest: str) -> str:
        return f"{self.keys.p}:kauth:enrol:{digest}"

    # -- enrolment ------------------------------------------------------------------------

    @unavailable_is_503
    def put_enrolment(self, digest: str, record: dict[str, Any], *, user_id: int, handle: str, ttl: int) -> None:
        # Two keys in two Cluster slots (the device presents the token without knowing the
        # account, so the token's key cannot carry the account's hash tag): not a transaction,
        # which a Cluster refuses across slots. None is needed: the token and the handle reach
        # the person only once both writes succeeded, and a key left alone by a failed call
        # is never named to anyone and expires with its TTL.
        pipe = self.r.pipeline(transaction=False)
        pipe.set(self._enrol_key(digest), json.dumps(record), ex=ttl)
        pipe.set(self.keys.user(user_id, f"kauth:enrolment:{handle}"), "pending", ex=ttl)
        pipe.execute()

    @unavailable_is_503
    def take_enrolment(self, digest: str) -> dict[str, Any] | None:
        """Read and delete: an enrolment token works once."""
        raw = self.r.getdel(self._enrol_key(digest))
        return json.loads(raw) if raw else None

    @unavailable_is_503
    def set_enrolment_status(self, user_id: int, handle: str, value: str, ttl: int) -> None:
        self.r.set(self.keys.user(user_id, f"kauth:enrolment:{handle}"), value, ex=ttl)

    @unavailable_is_503
    def enrolment_status(self, user_id: int, handle: str) -> str | None:
        value = self.r.get(self.keys.user(user_id, f"kauth:enrolment:{handle}"))
        return str(value) if value is not None else None

    # -- request nonces -------------------------------------------------------------------

    @unavailable_is_503
    def claim_nonce(self, device_id: str, nonce: str, ttl: int) -> bool:
        """True the first time this device uses this nonce within `ttl` seconds."""
        key = f"{self.keys.p}:kauth:nonce:{{d:{device_id}}}:{nonce}"
        return bool(self.r.set(key, "1", nx=True, ex=ttl))

    # -- challenges -----------------------------------------------------------------------

    @unavailable_is_503
    def create_challenge(self, challenge: Challenge, *, cap: int, window_ms: int, keep: int) -> tuple[str, str]:
        """('ok', id), ('busy', id of the pending one) or ('capped', '')."""
        uid = challenge.user_id
        record = json.dumps(challenge.__dict__)
        ttl = max(1, (challenge.expires_ms - challenge.created_ms) // 1000 + 1)
        status, ident = self._create(
            keys=[self.keys.user(uid, "kauth:pending"), self.keys.user(uid, f"kauth:ch:{challenge.id}"),
                  self.keys.user(uid, "kauth:sent")],
            args=[challenge.created_ms, window_ms, cap, challenge.id, challenge.expires_ms, ttl, record, keep],
        )
        return str(status), str(ident)

    @unavailable_is_503
    def get_challenge(self, user_id: int, challenge_id: str) -> Challenge | None:
        raw = self.r.get(self.keys.user(user_id, f"kauth:ch:{challenge_id}"))
        return _challenge(str(raw) if raw is not None else None)

    @unavailable_is_503
    def pending_id(self, user_id: int) -> str | None:
        raw = self.r.get(self.keys.user(user_id, "kauth:pending"))
        return str(raw).split("|", 1)[0] if raw else None

    @unavailable_is_503
    def answer(self, user_id: int, challenge_id: str, *, status: str, device_id: str, now_ms: int) -> str:
        """'ok', 'unknown', 'answered' or 'expired'; atomic, so of two racing answers one wins."""
        return str(self._answer(
            keys=[self.keys.user(user_id, f"kauth:ch:{challenge_id}"), self.keys.user(user_id, "kauth:pending")],
            args=[now_ms, status, device_id],
        ))

    @unavailable_is_503
    def consume(self, user_id: int, challenge_id: str) -> Challenge | None:
        """The challenge; a concluded one is returned to one caller only (the browser uses it once)."""
        return _challenge(self._consume(keys=[self.keys.user(user_id, f"kauth:ch:{challenge_id}")]))

    @unavailable_is_503
    def drop_pending(self, user_id: int, challenge_id: str) -> None:
        self._drop(keys=[self.keys.user(user_id, "kauth:pending")], args=[challenge_id])

    @unavailable_is_503
    def sent_in_window(self, user_id: int, *, now_ms: int, window_ms: int) -> int:
        return int(self.r.zcount(self.keys.user(user_id, "kauth:sent"), now_ms - window_ms, "+inf"))
