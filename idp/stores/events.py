"""The activity log and the mail outbox in SQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import insert
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import update

from idp.model import Event
from idp.stores.db import Database
from idp.stores.models import EventRow
from idp.stores.models import OutboxRow


def _event(row: EventRow) -> Event:
    return Event(
        id=row.id,
        created_at=row.created_at,
        tag=row.tag,
        product=row.product,
        user_id=row.user_id,
        org_id=row.org_id,
        actor_id=row.actor_id,
        ip=row.ip,
        user_agent=row.user_agent,
        device=row.device,
        details=dict(row.details or {}),
    )


_INSERT = insert(EventRow.__table__)  # type: ignore[arg-type]


class SqlEventStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, **values: Any) -> Event:
        """Insert one event row (a Core INSERT: the ORM unit of work cost more than the
        statement). Inside a `Database.unit()` it commits with the rest of the unit."""
        values.setdefault("details", {})
        with self.db.transaction() as s:
            result = s.execute(_INSERT, values)
            event_id = int(result.inserted_primary_key[0])  # type: ignore[attr-defined]
        return Event(
            id=event_id, created_at=values["created_at"], tag=values["tag"], product=values["product"],
            user_id=values.get("user_id"), org_id=values.get("org_id"), actor_id=values.get("actor_id"),
            ip=values.get("ip"), user_agent=values.get("user_agent"), device=values.get("device"),
            details=dict(values["details"] or {}),
        )

    def anonymise(self, user_id: int, keep: Iterable[str]) -> int:
        """Strip the account's entries (and those it recorded acting for others) of where they
        came from (IP address, user agent, device); its own entries also lose every detail but
        those in `keep`. The rows and their numeric ids stay: an organisation's log still shows
        that a deleted person did something. Returns how many of its own entries changed."""
        kept = frozenset(keep)
        nowhere = {"ip": None, "user_agent": None, "device": None}
        with self.db.transaction() as s:
            s.execute(update(EventRow).where(EventRow.actor_id == user_id).values(**nowhere))
            rows = s.execute(select(EventRow.id, EventRow.details).where(EventRow.user_id == user_id)).all()
            if rows:  # one executemany for all the rows
                table = EventRow.__table__
                s.execute(
                    update(table).where(table.c.id == bindparam("event_id"))  # type: ignore[arg-type]
                    .values(**nowhere, details=bindparam("stripped")),
                    [{"event_id": event_id, "stripped": {k: v for k, v in (details or {}).items() if k in kept}}
                     for event_id, details in rows],
                )
            return len(rows)


class SqlOutboxStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add(
        self, *, to_addr: str, subject: str, body_text: str, now: dt.datetime, template: str | None = None
    ) -> int:
        with self.db.transaction() as s:
            row = OutboxRow(
                to_addr=to_addr,
                subject=subject,
                template=template,
                body_text=body_text,
                created_at=now,
                next_attempt_at=now,
                attempts=0,
            )
            s.add(row)
            s.flush()
            return row.id

    def due(self, now: dt.datetime, limit: int = 20) -> list[int]:
        with self.db.transaction() as s:
            return list(
                s.scalars(
                    select(OutboxRow.id)
                    .where(
                        OutboxRow.sent_at.is_(None),
                        OutboxRow.failed_at.is_(None),
                        OutboxRow.next_attempt_at <= now,
                        or_(OutboxRow.lease_until.is_(None), OutboxRow.lease_until < now),
                    )
                    .order_by(OutboxRow.id)
                    .limit(limit)
                )
            )

    def claim(self, message_id: int, now: dt.datetime, lease: dt.timedelta) -> dict[str, Any] | None:
        """Take a lease on one message so that only one worker of one process sends it."""
        with self.db.transaction() as s:
            result = s.execute(
                update(OutboxRow)
                .where(
                    OutboxRow.id == message_id,
                    OutboxRow.sent_at.is_(None),
                    OutboxRow.failed_at.is_(None),
                    or_(OutboxRow.lease_until.is_(None), OutboxRow.lease_until < now),
                )
                .values(lease_until=now + lease, attempts=OutboxRow.attempts + 1)
            )
            if not result.rowcount:  # type: ignore[attr-defined]
                return None
            row = s.get(OutboxRow, message_id)
            if row is None:
                return None
            return {
                "id": row.id,
                "to": row.to_addr,
                "subject": row.subject,
                "body": row.body_text,
                "attempts": row.attempts,
                "created_at": row.created_at,
            }

    def mark_sent(self, message_id: int, now: dt.datetime) -> None:
        """Delivered: the body goes (it may hold an unlock link or a code); the metadata stays."""
        with self.db.transaction() as s:
            s.execute(
                update(OutboxRow)
                .where(OutboxRow.id == message_id)
                .values(sent_at=now, lease_until=None, last_error=None, body_text=None)
            )

    def mark_failed(
        self, message_id: int, *, error: str, retry_at: dt.datetime | None, now: dt.datetime
    ) -> None:
        """A failed attempt: retried at `retry_at`, or, without one, given up and its body dropped."""
        values: dict[str, Any] = {"lease_until": None, "last_error": error[:500]}
        if retry_at is None:
            values["failed_at"] = now
            values["body_text"] = None
        else:
            values["next_attempt_at"] = retry_at
        with self.db.transaction() as s:
            s.execute(update(OutboxRow).where(OutboxRow.id == message_id).values(**values))

    def purge(self, before: dt.datetime) -> int:
        """Delete the messages delivered or given up before `before`; how many went."""
        with self.db.transaction() as s:
            result = s.execute(
                delete(OutboxRow).where(or_(OutboxRow.sent_at < before, OutboxRow.failed_at < before))
            )
            return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def pending_count(self) -> int:
        """Messages still to send (neither sent nor given up)."""
        with self.db.transaction() as s:
            query = select(func.count()).select_from(OutboxRow).where(
                OutboxRow.sent_at.is_(None), OutboxRow.failed_at.is_(None)
            )
            return int(s.scalar(query) or 0)
