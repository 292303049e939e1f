"""Storage of the OpenID Provider: clients, keys, consents, refresh tokens in SQL; codes,
pending authorization requests, revoked access tokens and session-to-client links in Redis."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import redis
from sqlalchemy import delete
from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from idp.errors import ConflictError
from idp.oidc.records import ClientRecord
from idp.oidc.records import ConsentRecord
from idp.oidc.records import KeyRecord
from idp.oidc.records import RefreshRecord
from idp.stores.db import Database
from idp.stores.redis import Keys
from idp.stores.redis import unavailable_is_503
from idp.stores.tables_oidc import OidcClientRow
from idp.stores.tables_oidc import OidcConsentRow
from idp.stores.tables_oidc import OidcKeyRow
from idp.stores.tables_oidc import OidcRefreshTokenRow


def _client(row: OidcClientRow) -> ClientRecord:
    return ClientRecord(
        client_id=row.client_id, name=row.name, kind=row.kind, secret_hash=row.secret_hash,
        redirect_uris=list(row.redirect_uris or []),
        post_logout_redirect_uris=list(row.post_logout_redirect_uris or []),
        backchannel_logout_uri=row.backchannel_logout_uri, scopes=list(row.scopes or []),
        grant_types=list(row.grant_types or []), skip_consent=row.skip_consent,
        always_refresh=row.always_refresh, access_token_lifetime=row.access_token_lifetime,
        refresh_token_lifetime=row.refresh_token_lifetime, id_token_alg=row.id_token_alg,
        created_at=row.created_at,
    )


def _refresh(row: OidcRefreshTokenRow) -> RefreshRecord:
    return RefreshRecord(
        id=row.id, family=row.family, client_id=row.client_id, user_id=row.user_id, scope=row.scope,
        auth_time=row.auth_time, acr=row.acr, sid=row.sid, expires_at=row.expires_at,
        used_at=row.used_at, revoked_at=row.revoked_at, created_at=row.created_at,
        amr=list(row.amr or []), claims=dict(row.claims or {}), acting=row.acting or None,
    )


class SqlClientStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def create(self, *, now: dt.datetime, **values: Any) -> ClientRecord:
        row = OidcClientRow(created_at=now, updated_at=now, **values)
        try:
            with self.db.transaction() as s:
                s.add(row)
                s.flush()
                return _client(row)
        except IntegrityError as exc:
            raise ConflictError("a client with this id already exists") from exc

    def get(self, client_id: str) -> ClientRecord | None:
        with self.db.transaction() as s:
            row = s.get(OidcClientRow, client_id)
            return _client(row) if row else None

    def all(self) -> list[ClientRecord]:
        with self.db.transaction() as s:
            return [_client(r) for r in s.scalars(select(OidcClientRow).order_by(OidcClientRow.client_id))]

    def set_secret_hash(self, client_id: str, secret_hash: str, now: dt.datetime) -> bool:
        with self.db.transaction() as s:
            result = s.execute(
                update(OidcClientRow).where(OidcClientRow.client_id == client_id)
                .values(secret_hash=secret_hash, updated_at=now)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def delete(self, client_id: str) -> bool:
        with self.db.transaction() as s:
            s.execute(delete(OidcConsentRow).where(OidcConsentRow.client_id == client_id))
            s.execute(delete(OidcRefreshTokenRow).where(OidcRefreshTokenRow.client_id == client_id))
            result = s.execute(delete(OidcClientRow).where(OidcClientRow.client_id == client_id))
            return bool(result.rowcount)  # type: ignore[attr-defined]


class SqlKeyStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, *, kid: str, alg: str, private_jwk: str, public_jwk: dict[str, Any], now: dt.datetime,
            activates_at: dt.datetime) -> None:
        with self.db.transaction() as s:
            s.add(OidcKeyRow(kid=kid, alg=alg, private_jwk=private_jwk, public_jwk=public_jwk, created_at=now,
                             activates_at=activates_at))

    def all(self) -> list[KeyRecord]:
        with self.db.transaction() as s:
            rows = s.scalars(select(OidcKeyRow).order_by(OidcKeyRow.created_at, OidcKeyRow.kid))
            return [
                KeyRecord(kid=r.kid, alg=r.alg, private_jwk=r.private_jwk, public_jwk=dict(r.public_jwk),
                          created_at=r.created_at, retired_at=r.retired_at,
                          activates_at=r.activates_at or r.created_at)
                for r in rows
            ]

    def retire(self, kids: list[str], at: dt.datetime) -> None:
        """Set when the keys stop signing (kept if already set: the first retirement holds)."""
        if not kids:
            return
        with self.db.transaction() as s:
            s.execute(
                update(OidcKeyRow).where(OidcKeyRow.kid.in_(kids), OidcKeyRow.retired_at.is_(None))
                .values(retired_at=at)
            )

    def prune(self, retired_before: dt.datetime) -> list[str]:
        with self.db.transaction() as s:
            kids = list(s.scalars(
                select(OidcKeyRow.kid).where(OidcKeyRow.retired_at.is_not(None),
                                             OidcKeyRow.retired_at < retired_before)
            ))
            if kids:
                s.execute(delete(OidcKeyRow).where(OidcKeyRow.kid.in_(kids)))
            return kids


class SqlConsentStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, user_id: int, client_id: str) -> ConsentRecord | None:
        with self.db.transaction() as s:
            row = s.get(OidcConsentRow, (user_id, client_id))
            return self._record(row) if row else None

    @staticmethod
    def _record(row: OidcConsentRow) -> ConsentRecord:
        return ConsentRecord(row.user_id, row.client_id, list(row.scopes or []), row.created_at, row.updated_at)

    def put(self, user_id: int, client_id: str, scopes: list[str], now: dt.datetime) -> None:
        with self.db.transaction() as s:
            row = s.get(OidcConsentRow, (user_id, client_id))
            if row is None:
                s.add(OidcConsentRow(user_id=user_id, client_id=client_id, scopes=scopes, created_at=now,
                                     updated_at=now))
            else:
                row.scopes = scopes
                row.updated_at = now

    def delete(self, user_id: int, client_id: str) -> bool:
        with self.db.transaction() as s:
            result = s.execute(delete(OidcConsentRow).where(
                OidcConsentRow.user_id == user_id, OidcConsentRow.client_id == client_id))
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def for_user(self, user_id: int) -> list[ConsentRecord]:
        with self.db.transaction() as s:
            rows = s.scalars(select(OidcConsentRow).where(OidcConsentRow.user_id == user_id)
                             .order_by(OidcConsentRow.updated_at.desc()))
            return [self._record(r) for r in rows]


class SqlRefreshTokenStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, *, token_hash: str, now: dt.datetime, **values: Any) -> int:
        values.setdefault("amr", [])
        values.setdefault("claims", {})
        with self.db.transaction() as s:
            # A Core INSERT: the ORM unit of work cost more than the statement on this hot path.
            result = s.execute(insert(OidcRefreshTokenRow.__table__)  # type: ignore[arg-type]
                               .values(token_hash=token_hash, created_at=now, **values))
            return int(result.inserted_primary_key[0])  # type: ignore[attr-defined]

    def by_hash(self, token_hash: str) -> RefreshRecord | None:
        with self.db.transaction() as s:
            row = s.scalar(select(OidcRefreshTokenRow).where(OidcRefreshTokenRow.token_hash == token_hash))
            return _refresh(row) if row else None

    def mark_used(self, token_id: int, now: dt.datetime) -> bool:
        """Spend a token once: only the first of two concurrent uses gets True."""
        with self.db.transaction() as s:
            result = s.execute(
                update(OidcRefreshTokenRow)
                .where(OidcRefreshTokenRow.id == token_id, OidcRefreshTokenRow.used_at.is_(None),
                       OidcRefreshTokenRow.revoked_at.is_(None))
                .values(used_at=now)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def set_access(self, token_id: int, jti: str, exp: int) -> None:
        with self.db.transaction() as s:
            s.execute(update(OidcRefreshTokenRow).where(OidcRefreshTokenRow.id == token_id)
                      .values(access_jti=jti, access_exp=exp))

    def _revoke(self, where: Any, now: dt.datetime) -> list[tuple[str, str, str | None, int | None]]:
        """Revoke matching live rows; returns (family, client_id, access_jti, access_exp) of each."""
        with self.db.transaction() as s:
            rows = list(s.execute(
                select(OidcRefreshTokenRow.family, OidcRefreshTokenRow.client_id,
                       OidcRefreshTokenRow.access_jti, OidcRefreshTokenRow.access_exp)
                .where(where, OidcRefreshTokenRow.revoked_at.is_(None))
            ))
            s.execute(update(OidcRefreshTokenRow).where(where, OidcRefreshTokenRow.revoked_at.is_(None))
                      .values(revoked_at=now))
            return [(r[0], r[1], r[2], r[3]) for r in rows]

    def revoke_family(self, family: str, now: dt.datetime) -> list[tuple[str, str, str | None, int | None]]:
        return self._revoke(OidcRefreshTokenRow.family == family, now)

    def revoke_for_user(
        self, user_id: int, now: dt.datetime, client_id: str | None = None
    ) -> list[tuple[str, str, str | None, int | None]]:
        where = OidcRefreshTokenRow.user_id == user_id
        if client_id is not None:
            where = where & (OidcRefreshTokenRow.client_id == client_id)
        return self._revoke(where, now)

    def live_clients(self, user_id: int, now: dt.datetime) -> dict[str, int]:
        """client_id -> number of live refresh-token families of the user."""
        with self.db.transaction() as s:
            rows = s.execute(
                select(OidcRefreshTokenRow.client_id, OidcRefreshTokenRow.family)
                .where(OidcRefreshTokenRow.user_id == user_id, OidcRefreshTokenRow.revoked_at.is_(None),
                       OidcRefreshTokenRow.used_at.is_(None), OidcRefreshTokenRow.expires_at > now)
            )
            out: dict[str, int] = {}
            for client_id, _family in rows:
                out[client_id] = out.get(client_id, 0) + 1
            return out


class RedisOidcStore:
    """Keys (all with a TTL): `<p>:oidc:code:<sha256>` (one authorization code, taken with GETDEL),
    `<p>:oidc:spent:<sha256>` (what a redeemed code produced, for reuse detection),
    `<p>:oidc:authreq:<sha256>` (an authorization request waiting for sign-in or consent),
    `<p>:oidc:denied:<jti>` (a revoked access token, until it expires) and
    `<p>:{u:<id>}:oidc:sid:<handle>` (clients that got tokens in one browser session)."""

    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self.r = client
        self.keys = keys

    @unavailable_is_503
    def put(self, kind: str, name: str, value: dict[str, Any], ttl: int) -> None:
        self.r.set(self.keys.oidc(kind, name), json.dumps(value), ex=max(1, ttl))

    @unavailable_is_503
    def get(self, kind: str, name: str) -> dict[str, Any] | None:
        raw = self.r.get(self.keys.oidc(kind, name))
        return json.loads(raw) if raw else None

    @unavailable_is_503
    def take(self, kind: str, name: str) -> dict[str, Any] | None:
        """Read and delete at once: of two concurrent takers only one gets the value."""
        raw = self.r.getdel(self.keys.oidc(kind, name))
        return json.loads(raw) if raw else None

    @unavailable_is_503
    def drop(self, kind: str, name: str) -> None:
        self.r.delete(self.keys.oidc(kind, name))

    @unavailable_is_503
    def deny(self, jti: str, ttl: int) -> None:
        if ttl > 0:
            self.r.set(self.keys.oidc("denied", jti), "1", ex=ttl)

    @unavailable_is_503
    def is_denied(self, jti: str) -> bool:
        return bool(self.r.exists(self.keys.oidc("denied", jti)))

    @unavailable_is_503
    def link_session(self, user_id: int, handle: str, client_id: str, ttl: int) -> None:
        key = self.keys.user(user_id, f"oidc:sid:{handle}")
        pipe = self.r.pipeline(transaction=False)
        pipe.sadd(key, client_id)
        pipe.expire(key, max(1, ttl))
        pipe.execute()

    @unavailable_is_503
    def take_session_clients(self, user_id: int, handle: str) -> list[str]:
        key = self.keys.user(user_id, f"oidc:sid:{handle}")
        pipe = self.r.pipeline(transaction=True)
        pipe.smembers(key)
        pipe.delete(key)
        members, _ = pipe.execute()
        return sorted(str(m) for m in members)


class SqlSubjects:
    """Accounts by their OIDC subject (the `sub` of tokens)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def by_subject(self, subject: str) -> Any:
        from idp.stores.models import UserRow
        from idp.stores.users import _user

        # Read at every call, never cached: a disabled account stops at once. One statement,
        # so no transaction around it (Database.read).
        with self.db.read() as conn:
            row = conn.execute(select(UserRow.__table__).where(UserRow.subject == subject)).first()
            return _user(row) if row else None  # type: ignore[arg-type]
