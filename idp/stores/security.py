"""Security center storage: activity-log queries, notification choices, addresses and known sign-in
places (SQL), mail throttle (Redis)."""

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
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import literal
from sqlalchemy import null
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import CursorResult
from sqlalchemy.sql.elements import ColumnElement

from idp.model import Event
from idp.stores.db import Database
from idp.stores.events import _event
from idp.stores.models import EventRow
from idp.stores.models import MembershipRow
from idp.stores.models import UserRow
from idp.stores.redis import Keys
from idp.stores.redis import unavailable_is_503
from idp.stores.tables_oidc import OidcClientRow
from idp.stores.tables_security import KnownPlaceRow
from idp.stores.tables_security import NotificationPrefRow


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


_PREF_ROWS = NotificationPrefRow.__table__
# The kinds of `security_known_places.kind`: a browser (the keyed digest of its device cookie) or a
# network (a prefix).
PLACE_KINDS = ("device", "network")
# (on_success, on_failure, on_new, confirmed second address)
Prefs = tuple[bool, bool, bool, str | None]
_PLACES = KnownPlaceRow.__table__
_USER: Any = bindparam("user_id")
# Read after every failed sign-in (does this person want mail about it?): built once.
_PREFS = select(
    _PREF_ROWS.c.on_success, _PREF_ROWS.c.on_failure, _PREF_ROWS.c.on_new, _PREF_ROWS.c.address,
).where(_PREF_ROWS.c.user_id == _USER)


def _places_of(kind: str) -> ColumnElement[bool]:
    return and_(_PLACES.c.user_id == _USER, _PLACES.c.kind == kind)


# Read after every successful sign-in, in one statement: the choice (no row: the defaults), and
# for each kind of place how many the account has and when this one was last seen (NULL: never).
_AFTER_SIGNIN = select(
    _PREF_ROWS.c.on_success, _PREF_ROWS.c.on_failure, _PREF_ROWS.c.on_new, _PREF_ROWS.c.address,
    *(
        column
        for kind in PLACE_KINDS
        for column in (
            select(func.count()).select_from(_PLACES).where(_places_of(kind)).scalar_subquery(),
            select(_PLACES.c.last_seen).where(_places_of(kind), _PLACES.c.place == bindparam(kind))
            .scalar_subquery(),
        )
    ),
).select_from(select(literal(1).label("one")).subquery().outerjoin(_PREF_ROWS, _PREF_ROWS.c.user_id == _USER))


PLACE_REFRESH = dt.timedelta(days=1)
# Places a kind may hold past its bound before the oldest go (one DELETE per PRUNE_SLACK new ones).
PRUNE_SLACK = 10
_UPSERT: dict[str, Any] = {}


def _aware(moment: dt.datetime | str) -> dt.datetime:
    """A last_seen as an aware UTC datetime (a scalar subquery may hand SQLite's text back)."""
    if isinstance(moment, str):
        moment = dt.datetime.fromisoformat(moment)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _cursor(result: Any) -> CursorResult[Any]:
    return result  # type: ignore[no-any-return]  # a DML statement returns a CursorResult


def _prefs(row: Any) -> Prefs:
    return bool(row[0]), bool(row[1]), bool(row[2]), row[3]


class SqlNotificationPrefStore:
    """Each person's choice and second address (`security_notification_prefs`), and the devices
    and networks each account signed in from (`security_known_places`)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, user_id: int) -> Prefs | None:
        """The choice and the confirmed second address, or None when the person kept the defaults."""
        with self.db.read() as s:
            row = s.execute(_PREFS, {"user_id": user_id}).first()
            return _prefs(row) if row else None

    def _row(self, s: Any, user_id: int, now: dt.datetime) -> NotificationPrefRow:
        row = s.get(NotificationPrefRow, user_id)
        if row is None:
            row = NotificationPrefRow(user_id=user_id, on_success=False, on_failure=True, on_new=False, updated_at=now)
            s.add(row)
        return row  # type: ignore[no-any-return]

    def set(self, user_id: int, *, on_success: bool, on_failure: bool, on_new: bool, now: dt.datetime) -> None:
        with self.db.transaction() as s:
            row = self._row(s, user_id, now)
            row.on_success, row.on_failure, row.on_new, row.updated_at = on_success, on_failure, on_new, now

    # -- the second address ------------------------------------------------------------

    def addresses(self, user_id: int) -> tuple[str | None, str | None, str | None]:
        """(confirmed address, pending address, the pending link's nonce)."""
        with self.db.transaction() as s:
            row = s.get(NotificationPrefRow, user_id)
            return (row.address, row.pending_address, row.pending_nonce) if row else (None, None, None)

    def set_pending(self, user_id: int, address: str, nonce: str, now: dt.datetime) -> None:
        with self.db.transaction() as s:
            row = self._row(s, user_id, now)
            row.pending_address, row.pending_nonce, row.updated_at = address, nonce, now

    def confirm(self, user_id: int, address: str, nonce: str, now: dt.datetime) -> bool:
        """Make the pending address the confirmed one, if it is still `address` under `nonce`;
        conditional, so one of two racing confirmations wins and a link works once."""
        rows = _PREF_ROWS
        with self.db.transaction() as s:
            done = s.execute(
                update(NotificationPrefRow)
                .where(rows.c.user_id == user_id, rows.c.pending_address == address, rows.c.pending_nonce == nonce)
                .values(address=address, pending_address=None, pending_nonce=None, updated_at=now)
            )
            return bool(_cursor(done).rowcount)

    def remove(self, user_id: int, now: dt.datetime) -> tuple[str | None, str | None]:
        """Forget both the confirmed and the pending address; returns what they were."""
        with self.db.transaction() as s:
            row = s.get(NotificationPrefRow, user_id)
            if row is None:
                return None, None
            was = (row.address, row.pending_address)
            row.address = row.pending_address = row.pending_nonce = None
            row.updated_at = now
            return was

    # -- known devices and networks ------------------------------------------------------

    def signed_in(
        self, user_id: int, places: dict[str, str], *, now: dt.datetime, keep: int,
    ) -> tuple[Prefs | None, list[str], bool]:
        """After a successful sign-in from `places` ({kind: digest or prefix}): (the choice or
        None, the kinds whose place was not known, whether the account knew no place at all).
        One statement when the places are known and were seen within `PLACE_REFRESH`; then a
        second records what is new or stale, and a third when a new place pushes its kind
        `PRUNE_SLACK` past `keep` (then the oldest go, down to `keep`)."""
        with self.db.transaction() as s:
            row = s.execute(_AFTER_SIGNIN, {"user_id": user_id, **{k: places.get(k, "") for k in PLACE_KINDS}}).one()
            seen = {kind: (int(row[4 + 2 * i]), row[5 + 2 * i]) for i, kind in enumerate(PLACE_KINDS)}
            first = all(count == 0 for count, _last in seen.values())
            new = [kind for kind in PLACE_KINDS if kind in places and seen[kind][1] is None]
            # A known place's last_seen is moved on at most once per PLACE_REFRESH: the most recent
            # places are the ones kept, and a day is fine enough for that.
            stale = now - PLACE_REFRESH
            due = {k: v for k, v in places.items() if seen[k][1] is None or _aware(seen[k][1]) < stale}
            if due:
                s.execute(self._upsert(), [{"user_id": user_id, "kind": kind, "place": place, "now": now}
                                           for kind, place in sorted(due.items())])
            for kind in new:
                # Pruned in batches: a kind may grow PRUNE_SLACK past `keep`, then goes back to it.
                if seen[kind][0] + 1 > keep + PRUNE_SLACK:
                    s.execute(_PRUNE, {"user_id": user_id, "kind": kind, "keep": keep})
            prefs = _prefs(row) if row[0] is not None else None
            return prefs, new, first

    def _upsert(self) -> Any:
        """One INSERT ... ON CONFLICT, built once per dialect with bound parameters (so it is
        compiled once), run for each place due."""
        dialect = self.db.dialect
        if dialect not in _UPSERT:
            insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
            base = insert(KnownPlaceRow).values(
                user_id=bindparam("user_id"), kind=bindparam("kind"), place=bindparam("place"),
                first_seen=bindparam("now"), last_seen=bindparam("now"),
            )
            _UPSERT[dialect] = base.on_conflict_do_update(
                index_elements=["user_id", "kind", "place"], set_={"last_seen": base.excluded.last_seen},
            )
        return _UPSERT[dialect]

    def places(self, user_id: int) -> list[tuple[str, str]]:
        """(kind, digest or prefix) of every place kept for the account."""
        with self.db.transaction() as s:
            rows = s.execute(select(_PLACES.c.kind, _PLACES.c.place).where(_PLACES.c.user_id == user_id))
            return [(str(kind), str(place)) for kind, place in rows]


_KEPT = (
    select(_PLACES.c.id).where(_PLACES.c.user_id == _USER, _PLACES.c.kind == bindparam("kind"))
    .order_by(_PLACES.c.last_seen.desc(), _PLACES.c.id.desc()).limit(bindparam("keep"))
)
_PRUNE = delete(KnownPlaceRow).where(
    _PLACES.c.user_id == _USER, _PLACES.c.kind == bindparam("kind"), _PLACES.c.id.not_in(_KEPT),
)


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
