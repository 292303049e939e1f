"""Security center storage: activity-log queries, notification choices (SQL), mail throttle (Redis)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Any

import redis
from sqlalchemy import String
from sqlalchemy import and_
from sqlalchemy import bindparam
from sqlalchemy import case
from sqlalchemy import cast
from sqlalchemy import func
from sqlalchemy import literal
from sqlalchemy import null
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.sql.elements import ColumnElement

from idp.model import Event
from idp.model import Role
from idp.model import User
from idp.stores.db import Database
from idp.stores.events import _event
from idp.stores.models import EventRow
from idp.stores.models import MembershipRow
from idp.stores.models import UserRow
from idp.stores.redis import Keys
from idp.stores.redis import unavailable_is_503
from idp.stores.tables_oidc import OidcClientRow
from idp.stores.tables_security import NotificationPrefRow
from idp.stores.users import _user


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class SqlActivityStore:
    """Reads the `events` table for one person or for the members of one organisation."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def _scope(self, user_id: int | None, org_id: int | None) -> list[ColumnElement[bool]]:
        if user_id is not None:
            return [EventRow.user_id == user_id]
        if org_id is not None:
            members = select(MembershipRow.user_id).where(MembershipRow.org_id == org_id)
            return [or_(EventRow.user_id.in_(members), EventRow.org_id == org_id)]
        return []

    def search(
        self, *, user_id: int | None, org_id: int | None, date_from: dt.datetime | None,
        date_to: dt.datetime | None, product: str | None, tag: str | None, text: str | None,
        offset: int, limit: int,
    ) -> tuple[list[Event], int]:
        where = self._scope(user_id, org_id)
        if date_from is not None:
            where.append(EventRow.created_at >= date_from)
        if date_to is not None:
            where.append(EventRow.created_at < date_to)
        if product:
            where.append(EventRow.product == product)
        if tag:
            where.append(EventRow.tag == tag)
        if text:
            pattern = _like(text)
            where.append(
                or_(
                    EventRow.tag.ilike(pattern, escape="\\"),
                    EventRow.ip.ilike(pattern, escape="\\"),
                    EventRow.device.ilike(pattern, escape="\\"),
                    EventRow.product.ilike(pattern, escape="\\"),
                    cast(EventRow.details, String).ilike(pattern, escape="\\"),
                )
            )
        with self.db.transaction() as s:
            total = int(s.scalar(select(func.count()).select_from(EventRow).where(*where)) or 0)
            rows = s.scalars(
                select(EventRow).where(*where)
                .order_by(EventRow.created_at.desc(), EventRow.id.desc())
                .offset(offset).limit(limit)
            )
            return [_event(r) for r in rows], total

    def distinct_values(self, column: str, *, user_id: int | None, org_id: int | None) -> list[str]:
        col = EventRow.product if column == "product" else EventRow.tag
        with self.db.transaction() as s:
            rows = s.scalars(select(col).where(*self._scope(user_id, org_id)).distinct().order_by(col))
            return [str(r) for r in rows if r]

    def names(
        self, user_ids: Collection[int], client_ids: Collection[str], *, org_id: int | None
    ) -> tuple[dict[int, tuple[str, str | None]], dict[str, str]]:
        """({account id: (display name, e-mail)}, {client id: application name}) of those that
        still exist, in one statement. The e-mail is given only for members of `org_id` (None
        for everyone when `org_id` is None): the log of an organisation names its own people."""
        parts: list[Any] = []
        if user_ids:
            if org_id is None:
                users = select(
                    literal("u"), cast(UserRow.id, String), UserRow.display_name, cast(null(), String)
                ).select_from(UserRow)
            else:
                member = and_(MembershipRow.user_id == UserRow.id, MembershipRow.org_id == org_id)
                users = select(
                    literal("u"), cast(UserRow.id, String), UserRow.display_name,
                    case((MembershipRow.user_id.is_not(None), UserRow.email), else_=cast(null(), String)),
                ).select_from(UserRow).outerjoin(MembershipRow, member)
            parts.append(users.where(UserRow.id.in_(sorted(user_ids))))
        if client_ids:
            parts.append(
                select(literal("c"), OidcClientRow.client_id, OidcClientRow.name, cast(null(), String))
                .where(OidcClientRow.client_id.in_(sorted(client_ids)))
            )
        people: dict[int, tuple[str, str | None]] = {}
        apps: dict[str, str] = {}
        if not parts:
            return people, apps
        with self.db.transaction() as s:
            statement = parts[0].union_all(*parts[1:]) if len(parts) > 1 else parts[0]
            for kind, key, name, email in s.execute(statement):
                if kind == "u":
                    people[int(key)] = (str(name), email)
                else:
                    apps[str(key)] = str(name)
        return people, apps


class SqlMemberStore:
    """Members of an organisation with their accounts (for its administrators' pages)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def members(self, org_id: int) -> list[tuple[User, Role]]:
        with self.db.transaction() as s:
            rows = s.execute(
                select(UserRow, MembershipRow.role)
                .join(MembershipRow, MembershipRow.user_id == UserRow.id)
                .where(MembershipRow.org_id == org_id)
                .order_by(UserRow.email_key)
            )
            return [(_user(u), Role(role)) for u, role in rows]

    def role_of(self, user_id: int, org_id: int) -> Role | None:
        with self.db.transaction() as s:
            row = s.get(MembershipRow, (user_id, org_id))
            return Role(row.role) if row else None


_PREF_ROWS = NotificationPrefRow.__table__
# Read after every sign-in (does this person want mail about it?): built once.
_PREFS = select(_PREF_ROWS.c.on_success, _PREF_ROWS.c.on_failure).where(_PREF_ROWS.c.user_id == bindparam("user_id"))


class SqlNotificationPrefStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, user_id: int) -> tuple[bool, bool] | None:
        """(on_success, on_failure), or None when the person kept the defaults."""
        with self.db.read() as s:
            row = s.execute(_PREFS, {"user_id": user_id}).first()
            return (bool(row.on_success), bool(row.on_failure)) if row else None

    def set(self, user_id: int, *, on_success: bool, on_failure: bool, now: dt.datetime) -> None:
        with self.db.transaction() as s:
            row = s.get(NotificationPrefRow, user_id)
            if row is None:
                s.add(NotificationPrefRow(
                    user_id=user_id, on_success=on_success, on_failure=on_failure, updated_at=now,
                ))
            else:
                row.on_success, row.on_failure, row.updated_at = on_success, on_failure, now


# Count every failure; the first one once the gate's time has passed opens it again and takes
# the count, so one mail covers every failure since the previous mail. The gate holds the time
# (from the service's clock) until which mail is held back. Both keys share the user's hash tag,
# so the script touches one Cluster slot.
_FAILED_GATE = """
local n = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
local held = tonumber(redis.call('GET', KEYS[2]) or '0')
if held <= tonumber(ARGV[1]) then
  redis.call('SET', KEYS[2], tonumber(ARGV[1]) + tonumber(ARGV[2]), 'EX', ARGV[3])
  redis.call('DEL', KEYS[1])
  return n
end
return 0
"""


class RedisNotifyThrottle:
    """Keys: `<p>:{u:<id>}:notify:failed:count` (failures not yet mailed) and
    `<p>:{u:<id>}:notify:failed:gate` (until when mail is held back); both expire after `keep`."""

    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self.r = client
        self.keys = keys
        self._gate = client.register_script(_FAILED_GATE)

    @unavailable_is_503
    def failed(self, user_id: int, *, now: int, window: int, keep: int) -> int:
        """0 while mail is held back; else the number of failures the mail sent now summarises."""
        count = self.keys.user(user_id, "notify:failed:count")
        gate = self.keys.user(user_id, "notify:failed:gate")
        return int(self._gate(keys=[count, gate], args=[now, window, max(keep, window)]))
