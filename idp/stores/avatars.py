"""People's pictures in SQL: the bytes of each size, and the version on the account row."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import bindparam
from sqlalchemy import delete
from sqlalchemy import select
from sqlalchemy import update

from idp.stores.db import Database
from idp.stores.models import AvatarRow
from idp.stores.models import UserRow

_BY_SUBJECT = (
    select(AvatarRow.version, AvatarRow.small, AvatarRow.large)
    .join(UserRow, UserRow.id == AvatarRow.user_id)
    .where(UserRow.subject == bindparam("subject"))
)


class SqlAvatarStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def put(self, user_id: int, *, small: bytes, large: bytes, now: dt.datetime) -> int:
        """Store a new picture and return its version: the upload's second, and always above the
        one it replaces, so a cached old address never shows the new picture nor the reverse."""
        with self.db.transaction() as s:
            row = s.get(AvatarRow, user_id)
            version = max(int(now.timestamp()), row.version + 1 if row else 0)
            if row is None:
                s.add(AvatarRow(user_id=user_id, version=version, small=small, large=large, updated_at=now))
            else:
                row.version, row.small, row.large, row.updated_at = version, small, large, now
            s.execute(update(UserRow).where(UserRow.id == user_id).values(avatar_version=version, updated_at=now))
            return version

    def remove(self, user_id: int, now: dt.datetime) -> bool:
        with self.db.transaction() as s:
            gone = s.execute(delete(AvatarRow).where(AvatarRow.user_id == user_id)).rowcount  # type: ignore[attr-defined]
            s.execute(update(UserRow).where(UserRow.id == user_id).values(avatar_version=None, updated_at=now))
            return bool(gone)

    def by_subject(self, subject: str) -> tuple[int, bytes, bytes] | None:
        """(version, small, large) of the account with this OpenID subject, or None."""
        with self.db.read() as s:
            row = s.execute(_BY_SUBJECT, {"subject": subject}).first()
            return (int(row[0]), bytes(row[1]), bytes(row[2])) if row else None
