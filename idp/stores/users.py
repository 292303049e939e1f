"""Users in SQL (organisations and their members: idp.stores.orgs)."""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import bindparam
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from idp.errors import ConflictError
from idp.errors import NotFoundError
from idp.model import User
from idp.model import UserStatus
from idp.stores.db import Database
from idp.stores.models import UserRow


def email_key(email: str) -> str:
    return email.strip().lower()


def _user(row: UserRow) -> User:
    return User(
        id=row.id,
        subject=row.subject,
        email=row.email,
        display_name=row.display_name,
        password_hash=row.password_hash,
        status=UserStatus(row.status),
        locale=row.locale,
        lockout_threshold=row.lockout_threshold,
        locked_at=row.locked_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
        timezone=row.timezone,
        given_name=row.given_name,
        family_name=row.family_name,
        avatar_version=row.avatar_version,
        phone_number=row.phone_number,
        email_verified_at=row.email_verified_at,
    )


# The statements of the sign-in's path, built once: building and keying a statement cost more
# than running it (Core statements on the table, no ORM loading).
_USERS = UserRow.__table__
_BY_ID = select(_USERS).where(_USERS.c.id == bindparam("id"))
_BY_EMAIL_KEY = select(_USERS).where(_USERS.c.email_key == bindparam("key"))


class SqlUserStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def create(
        self,
        *,
        email: str,
        display_name: str,
        password_hash: str | None,
        now: dt.datetime,
        locale: str | None = None,
        lockout_threshold: int = 10,
        status: UserStatus = UserStatus.ACTIVE,
        given_name: str | None = None,
        family_name: str | None = None,
        email_verified: bool = False,
    ) -> User:
        row = UserRow(
            subject=secrets.token_urlsafe(24),
            email=email.strip(),
            email_key=email_key(email),
            display_name=display_name,
            password_hash=password_hash,
            status=status.value,
            given_name=given_name,
            family_name=family_name,
            locale=locale,
            lockout_threshold=lockout_threshold,
            password_changed_at=now if password_hash else None,
            email_verified_at=now if email_verified else None,
            created_at=now,
            updated_at=now,
        )
        try:
            with self.db.transaction() as s:
                s.add(row)
                s.flush()
                return _user(row)
        except IntegrityError as exc:
            raise ConflictError("an account with this e-mail already exists") from exc

    def get(self, user_id: int) -> User | None:
        with self.db.read() as s:
            row = s.execute(_BY_ID, {"id": user_id}).first()
            return _user(row) if row else None  # type: ignore[arg-type]

    def by_email(self, email: str) -> User | None:
        with self.db.read() as s:
            row = s.execute(_BY_EMAIL_KEY, {"key": email_key(email)}).first()
            return _user(row) if row else None  # type: ignore[arg-type]

    def page(self, *, limit: int = 100, offset: int = 0) -> list[User]:
        with self.db.transaction() as s:
            rows = s.scalars(select(UserRow).order_by(UserRow.id).limit(limit).offset(offset))
            return [_user(r) for r in rows]

    def count(self) -> int:
        with self.db.transaction() as s:
            return int(s.scalar(select(func.count()).select_from(UserRow)) or 0)

    def _update(self, user_id: int, now: dt.datetime, **values: object) -> User:
        with self.db.transaction() as s:
            row = s.get(UserRow, user_id)
            if row is None:
                raise NotFoundError("no such account")
            for name, value in values.items():
                setattr(row, name, value)
            row.updated_at = now
            s.flush()
            return _user(row)

    def set_password_hash(self, user_id: int, password_hash: str, now: dt.datetime) -> User:
        return self._update(user_id, now, password_hash=password_hash, password_changed_at=now)

    def replace_password_hash(self, user_id: int, old_hash: str, new_hash: str) -> bool:
        """Swap a hash for a rehash of the same password, only if nobody changed it meanwhile."""
        with self.db.transaction() as s:
            result = s.execute(
                update(UserRow)
                .where(UserRow.id == user_id, UserRow.password_hash == old_hash)
                .values(password_hash=new_hash)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def swap_password_hash(self, user_id: int, old_hash: str | None, new_hash: str, now: dt.datetime) -> bool:
        """Set a new password only if the stored hash is still `old_hash` (None: no password):
        of two racing changes, or two uses of one reset link, exactly one wins."""
        same = UserRow.password_hash.is_(None) if old_hash is None else UserRow.password_hash == old_hash
        with self.db.transaction() as s:
            result = s.execute(
                update(UserRow).where(UserRow.id == user_id, same)
                .values(password_hash=new_hash, password_changed_at=now, updated_at=now)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def set_status(self, user_id: int, status: UserStatus, now: dt.datetime) -> User:
        return self._update(user_id, now, status=status.value)

    def replace_pending(
        self, user_id: int, old_hash: str | None, *, password_hash: str, display_name: str,
        given_name: str | None, family_name: str | None, locale: str | None, now: dt.datetime,
    ) -> bool:
        """A new sign-up for an address whose account is still pending takes its place: only if
        it is still pending and nobody replaced it meanwhile (compare-and-set on the hash)."""
        same = UserRow.password_hash.is_(None) if old_hash is None else UserRow.password_hash == old_hash
        with self.db.transaction() as s:
            result = s.execute(
                update(UserRow)
                .where(UserRow.id == user_id, UserRow.status == UserStatus.PENDING.value, same)
                .values(password_hash=password_hash, display_name=display_name, given_name=given_name,
                        family_name=family_name, locale=locale, password_changed_at=now, created_at=now,
                        updated_at=now)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def activate(self, user_id: int, password_hash: str | None, now: dt.datetime) -> bool:
        """Pending to active, only if still pending with this password: a link activates once."""
        same = UserRow.password_hash.is_(None) if password_hash is None else UserRow.password_hash == password_hash
        with self.db.transaction() as s:
            result = s.execute(
                update(UserRow)
                .where(UserRow.id == user_id, UserRow.status == UserStatus.PENDING.value, same)
                # The owner proved the address and the password: failed attempts before do not stand.
                .values(status=UserStatus.ACTIVE.value, locked_at=None, email_verified_at=now, updated_at=now)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def delete_pending(self, signed_up_before: dt.datetime) -> int:
        """Delete the accounts still pending that signed up before the moment; how many."""
        with self.db.transaction() as s:
            result = s.execute(
                delete(UserRow)
                .where(UserRow.status == UserStatus.PENDING.value, UserRow.created_at < signed_up_before)
            )
            return int(result.rowcount)  # type: ignore[attr-defined]

    def set_locale(self, user_id: int, locale: str | None, now: dt.datetime) -> User:
        return self._update(user_id, now, locale=locale)

    def set_timezone(self, user_id: int, timezone: str | None, now: dt.datetime) -> User:
        return self._update(user_id, now, timezone=timezone)

    def set_email(self, user_id: int, email: str, now: dt.datetime, *, verified: bool = False) -> User:
        """A new login e-mail, proven by a link sent to it when `verified`; ConflictError when
        another account has it (any case)."""
        try:
            return self._update(user_id, now, email=email.strip(), email_key=email_key(email),
                                email_verified_at=now if verified else None)
        except IntegrityError as exc:
            raise ConflictError("an account with this e-mail already exists") from exc

    def set_names(
        self, user_id: int, *, given_name: str | None, family_name: str | None, display_name: str, now: dt.datetime
    ) -> User:
        return self._update(user_id, now, given_name=given_name, family_name=family_name, display_name=display_name)

    def set_lockout_threshold(self, user_id: int, threshold: int, now: dt.datetime) -> User:
        return self._update(user_id, now, lockout_threshold=threshold)

    def delete(self, user_id: int) -> bool:
        """Delete the account's row; its picture, phones, memberships and every capability's
        rows go with it (foreign keys ON DELETE CASCADE). False when it was gone already."""
        with self.db.transaction() as s:
            result = s.execute(delete(UserRow).where(UserRow.id == user_id))
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def lock(self, user_id: int, now: dt.datetime) -> bool:
        """Mark the account locked; True only for the call that locked it."""
        with self.db.transaction() as s:
            result = s.execute(
                update(UserRow)
                .where(UserRow.id == user_id, UserRow.locked_at.is_(None))
                .values(locked_at=now, updated_at=now)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def unlock(self, user_id: int, now: dt.datetime) -> bool:
        with self.db.transaction() as s:
            result = s.execute(
                update(UserRow)
                .where(UserRow.id == user_id, UserRow.locked_at.is_not(None))
                .values(locked_at=None, updated_at=now)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]
