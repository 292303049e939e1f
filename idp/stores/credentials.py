"""App passwords and API tokens in SQL (keyed hashes only), and forward-auth failure counts in Redis."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import redis
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from idp.errors import ConflictError
from idp.stores.db import Database
from idp.stores.redis import Keys
from idp.stores.redis import unavailable_is_503
from idp.stores.tables_credentials import ApiTokenRow
from idp.stores.tables_credentials import AppPasswordRow

# A secret in use by a polling client would otherwise cost one SQL write per request.
LAST_USED_PRECISION = dt.timedelta(minutes=1)


def _app_password(row: AppPasswordRow) -> dict[str, Any]:
    return {
        "id": row.id, "user_id": row.user_id, "name": row.name, "created_at": row.created_at,
        "last_used_at": row.last_used_at, "last_used_ip": row.last_used_ip, "revoked_at": row.revoked_at,
        "secret_hash": row.secret_hash,
    }


def _api_token(row: ApiTokenRow) -> dict[str, Any]:
    return {
        "id": row.id, "user_id": row.user_id, "name": row.name, "hint": row.hint,
        "scopes": list(row.scopes or []), "created_at": row.created_at, "expires_at": row.expires_at,
        "last_used_at": row.last_used_at, "last_used_ip": row.last_used_ip, "revoked_at": row.revoked_at,
        "secret_hash": row.secret_hash,
    }


def _first(rows: Sequence[Any], hashes: Sequence[str]) -> Any:
    # In the order of `hashes` (the current key's first), whatever order SQL returned them in.
    by_hash = {row.secret_hash: row for row in rows}
    return next((by_hash[h] for h in hashes if h in by_hash), None)


class SqlCredentialStore:
    """Rows of both kinds; a secret is found by its keyed hash (unique index), never by scanning."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- app passwords ------------------------------------------------------------------

    def add_app_password(self, *, user_id: int, name: str, secret_hash: str, now: dt.datetime) -> dict[str, Any]:
        row = AppPasswordRow(user_id=user_id, name=name, secret_hash=secret_hash, created_at=now)
        try:
            with self.db.transaction() as s:
                s.add(row)
                s.flush()
                return _app_password(row)
        except IntegrityError as exc:  # a 120-bit collision: practically never
            raise ConflictError("try again") from exc

    def app_passwords(self, user_id: int) -> list[dict[str, Any]]:
        with self.db.transaction() as s:
            rows = s.scalars(
                select(AppPasswordRow)
                .where(AppPasswordRow.user_id == user_id, AppPasswordRow.revoked_at.is_(None))
                .order_by(AppPasswordRow.created_at.desc(), AppPasswordRow.id.desc())
            )
            return [_app_password(r) for r in rows]

    def app_password_by_hash(self, secret_hashes: Sequence[str]) -> dict[str, Any] | None:
        """The row whose hash is one of `secret_hashes` (the same secret under each server key)."""
        with self.db.transaction() as s:
            rows = s.scalars(select(AppPasswordRow).where(AppPasswordRow.secret_hash.in_(secret_hashes))).all()
            row = _first(rows, secret_hashes)
            return _app_password(row) if row else None

    def rekey_app_password(self, item_id: int, old_hash: str, new_hash: str) -> None:
        """Store the hash under the current key in place of the one under an earlier key."""
        with self.db.transaction() as s:
            s.execute(
                update(AppPasswordRow)
                .where(AppPasswordRow.id == item_id, AppPasswordRow.secret_hash == old_hash)
                .values(secret_hash=new_hash)
            )

    def count_app_passwords(self, user_id: int) -> int:
        with self.db.transaction() as s:
            return int(s.scalar(
                select(func.count()).select_from(AppPasswordRow)
                .where(AppPasswordRow.user_id == user_id, AppPasswordRow.revoked_at.is_(None))
            ) or 0)

    def revoke_app_password(self, user_id: int, item_id: int, now: dt.datetime) -> dict[str, Any] | None:
        """Revoke one live app password of this user; None when there is no such live one."""
        with self.db.transaction() as s:
            row = s.get(AppPasswordRow, item_id)
            if row is None or row.user_id != user_id or row.revoked_at is not None:
                return None
            row.revoked_at = now
            s.flush()
            return _app_password(row)

    def app_password_used(self, item_id: int, now: dt.datetime, ip: str) -> None:
        with self.db.transaction() as s:
            s.execute(
                update(AppPasswordRow)
                .where(
                    AppPasswordRow.id == item_id,
                    or_(AppPasswordRow.last_used_at.is_(None),
                        AppPasswordRow.last_used_at < now - LAST_USED_PRECISION),
                )
                .values(last_used_at=now, last_used_ip=ip[:64])
            )

    # -- API tokens -----------------------------------------------------------------------

    def add_api_token(
        self, *, user_id: int, name: str, hint: str, secret_hash: str, scopes: list[str],
        now: dt.datetime, expires_at: dt.datetime,
    ) -> dict[str, Any]:
        row = ApiTokenRow(
            user_id=user_id, name=name, hint=hint, secret_hash=secret_hash, scopes=scopes,
            created_at=now, expires_at=expires_at,
        )
        try:
            with self.db.transaction() as s:
                s.add(row)
                s.flush()
                return _api_token(row)
        except IntegrityError as exc:
            raise ConflictError("try again") from exc

    def api_tokens(self, user_id: int) -> list[dict[str, Any]]:
        with self.db.transaction() as s:
            rows = s.scalars(
                select(ApiTokenRow)
                .where(ApiTokenRow.user_id == user_id, ApiTokenRow.revoked_at.is_(None))
                .order_by(ApiTokenRow.created_at.desc(), ApiTokenRow.id.desc())
            )
            return [_api_token(r) for r in rows]

    def api_token_by_hash(self, secret_hashes: Sequence[str]) -> dict[str, Any] | None:
        """The row whose hash is one of `secret_hashes` (the same secret under each server key)."""
        with self.db.transaction() as s:
            rows = s.scalars(select(ApiTokenRow).where(ApiTokenRow.secret_hash.in_(secret_hashes))).all()
            row = _first(rows, secret_hashes)
            return _api_token(row) if row else None

    def rekey_api_token(self, item_id: int, old_hash: str, new_hash: str) -> None:
        """Store the hash under the current key in place of the one under an earlier key."""
        with self.db.transaction() as s:
            s.execute(
                update(ApiTokenRow)
                .where(ApiTokenRow.id == item_id, ApiTokenRow.secret_hash == old_hash)
                .values(secret_hash=new_hash)
            )

    def count_api_tokens(self, user_id: int, now: dt.datetime) -> int:
        with self.db.transaction() as s:
            return int(s.scalar(
                select(func.count()).select_from(ApiTokenRow)
                .where(ApiTokenRow.user_id == user_id, ApiTokenRow.revoked_at.is_(None),
                       ApiTokenRow.expires_at > now)
            ) or 0)

    def revoke_api_token(self, user_id: int, item_id: int, now: dt.datetime) -> dict[str, Any] | None:
        with self.db.transaction() as s:
            row = s.get(ApiTokenRow, item_id)
            if row is None or row.user_id != user_id or row.revoked_at is not None:
                return None
            row.revoked_at = now
            s.flush()
            return _api_token(row)

    def api_token_used(self, item_id: int, now: dt.datetime, ip: str) -> None:
        with self.db.transaction() as s:
            s.execute(
                update(ApiTokenRow)
                .where(
                    ApiTokenRow.id == item_id,
                    or_(ApiTokenRow.last_used_at.is_(None), ApiTokenRow.last_used_at < now - LAST_USED_PRECISION),
                )
                .values(last_used_at=now, last_used_ip=ip[:64])
            )

    # -- both ---------------------------------------------------------------------------

    def revoke_all(self, user_id: int, now: dt.datetime) -> tuple[int, int]:
        """Revoke every live app password and API token of the user: (app passwords, tokens)."""
        with self.db.transaction() as s:
            apps = s.execute(
                update(AppPasswordRow)
                .where(AppPasswordRow.user_id == user_id, AppPasswordRow.revoked_at.is_(None))
                .values(revoked_at=now)
            )
            tokens = s.execute(
                update(ApiTokenRow)
                .where(ApiTokenRow.user_id == user_id, ApiTokenRow.revoked_at.is_(None))
                .values(revoked_at=now)
            )
            return int(apps.rowcount), int(tokens.rowcount)  # type: ignore[attr-defined]


# Refuse before verifying, then count after a failure, so a client that stops recovers.
_ADD_FAILURE = """
local n = redis.call('INCR', KEYS[1])
if n == 1 or redis.call('TTL', KEYS[1]) < 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
end
return n
"""


class RedisCredentialFailures:
    """Failed credential checks per client IP (`<p>:rl:credential_failures:{<ip>}`, TTL = the window)."""

    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self.r = client
        self.keys = keys
        self._add = client.register_script(_ADD_FAILURE)

    def _key(self, ip: str) -> str:
        return self.keys.ratelimit("credential_failures", ip)

    @unavailable_is_503
    def count(self, ip: str) -> tuple[int, int]:
        """(failures so far, seconds until the window ends)."""
        pipe = self.r.pipeline(transaction=False)
        pipe.get(self._key(ip))
        pipe.ttl(self._key(ip))
        raw, ttl = pipe.execute()
        return int(raw or 0), max(1, int(ttl or 1))

    @unavailable_is_503
    def add(self, ip: str, window: int) -> int:
        return int(self._add(keys=[self._key(ip)], args=[window]))
