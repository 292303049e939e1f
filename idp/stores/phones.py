"""Phone numbers in SQL; their confirmation codes in Redis (one key per number, single use)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import redis
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from idp.errors import ConflictError
from idp.model import Phone
from idp.stores.db import Database
from idp.stores.models import PhoneRow
from idp.stores.models import UserRow
from idp.stores.redis import Keys
from idp.stores.redis import unavailable_is_503


def _phone(row: PhoneRow) -> Phone:
    return Phone(id=row.id, user_id=row.user_id, label=row.label, number=row.number,
                 verified_at=row.verified_at, created_at=row.created_at)


class SqlPhoneStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def list(self, user_id: int) -> list[Phone]:
        with self.db.read() as s:
            rows = s.scalars(select(PhoneRow).where(PhoneRow.user_id == user_id).order_by(PhoneRow.id))
            return [_phone(r) for r in rows]

    def count(self, user_id: int) -> int:
        with self.db.read() as s:
            return int(s.scalar(select(func.count()).where(PhoneRow.user_id == user_id)) or 0)

    def get(self, user_id: int, phone_id: int) -> Phone | None:
        """The phone only if it is this account's: another person's id reads as none."""
        with self.db.read() as s:
            row = s.scalar(select(PhoneRow).where(PhoneRow.id == phone_id, PhoneRow.user_id == user_id))
            return _phone(row) if row else None

    def add(self, user_id: int, *, label: str, number: str, now: dt.datetime) -> Phone:
        row = PhoneRow(user_id=user_id, label=label, number=number, verified_at=None, created_at=now)
        try:
            with self.db.transaction() as s:
                s.add(row)
                s.flush()
                return _phone(row)
        except IntegrityError as exc:
            raise ConflictError("this account already has this number") from exc

    def confirm(self, user_id: int, phone_id: int, now: dt.datetime) -> bool:
        with self.db.transaction() as s:
            result = s.execute(update(PhoneRow).where(PhoneRow.id == phone_id, PhoneRow.user_id == user_id)
                               .values(verified_at=now))
            _claimed_number(s, user_id)
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def remove(self, user_id: int, phone_id: int) -> bool:
        with self.db.transaction() as s:
            result = s.execute(delete(PhoneRow).where(PhoneRow.id == phone_id, PhoneRow.user_id == user_id))
            _claimed_number(s, user_id)
            return bool(result.rowcount)  # type: ignore[attr-defined]


def _claimed_number(s: Session, user_id: int) -> None:
    """The account row's phone_number: its first confirmed number (by age), in the same transaction."""
    first = (select(PhoneRow.number).where(PhoneRow.user_id == user_id, PhoneRow.verified_at.is_not(None))
             .order_by(PhoneRow.id).limit(1).scalar_subquery())
    s.execute(update(UserRow).where(UserRow.id == user_id).values(phone_number=first))


# KEYS[1] the code's hash; ARGV[1] the digest typed, ARGV[2] the attempts allowed. Counts the
# attempt, deletes the code when it matches or when the attempts are used up. One key: one slot.
_CHECK = """
local stored = redis.call('HGET', KEYS[1], 'd')
if not stored then return 'missing' end
if stored == ARGV[1] then redis.call('DEL', KEYS[1]); return 'ok' end
local n = redis.call('HINCRBY', KEYS[1], 'n', 1)
if n >= tonumber(ARGV[2]) then redis.call('DEL', KEYS[1]); return 'exhausted' end
return 'wrong'
"""


class RedisPhoneCodes:
    """Key `<p>:{u:<id>}:phone:<phone id>:code`: the code's keyed digest and the wrong attempts."""

    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self.r, self.keys = client, keys
        self._check: Any = client.register_script(_CHECK)

    def _key(self, user_id: int, phone_id: int) -> str:
        return self.keys.user(user_id, f"phone:{phone_id}:code")

    @unavailable_is_503
    def put(self, user_id: int, phone_id: int, digest: str, ttl: int) -> None:
        key = self._key(user_id, phone_id)
        pipe = self.r.pipeline(transaction=True)
        pipe.delete(key)
        pipe.hset(key, mapping={"d": digest, "n": 0})
        pipe.expire(key, ttl)
        pipe.execute()

    @unavailable_is_503
    def check(self, user_id: int, phone_id: int, digest: str, attempts: int) -> str:
        """'ok' (and the code is gone), 'wrong', 'exhausted' (and the code is gone) or 'missing'."""
        answer = self._check(keys=[self._key(user_id, phone_id)], args=[digest, attempts])
        return answer.decode() if isinstance(answer, bytes) else str(answer)

    @unavailable_is_503
    def forget(self, user_id: int, phone_id: int) -> None:
        self.r.delete(self._key(user_id, phone_id))
