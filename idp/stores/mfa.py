"""Second-factor state: credentials in SQL, short-lived challenges and pending enrolments in Redis."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import redis
from sqlalchemy import bindparam
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from idp.mfa.model import Credential
from idp.mfa.model import Enrolment
from idp.mfa.model import TotpRecord
from idp.stores.db import Database
from idp.stores.redis import Keys
from idp.stores.redis import unavailable_is_503
from idp.stores.tables_mfa import MfaAccountRow
from idp.stores.tables_mfa import RecoveryCodeRow
from idp.stores.tables_mfa import TotpRow
from idp.stores.tables_mfa import WebAuthnCredentialRow


def _credential(row: WebAuthnCredentialRow) -> Credential:
    return Credential(
        id=row.id, user_id=row.user_id, credential_id=row.credential_id, public_key=bytes(row.public_key),
        sign_count=row.sign_count, kind=row.kind, name=row.name, created_at=row.created_at,
        last_used_at=row.last_used_at, aaguid=row.aaguid, backup_eligible=row.backup_eligible,
        transports=[str(t) for t in row.transports or []],
    )


def _enrolment() -> Any:
    user_id: Any = bindparam("user_id")

    def one(column: Any, table: Any, *where: Any) -> Any:
        return select(column).select_from(table).where(table.c.user_id == user_id, *where).scalar_subquery()

    totp, keys, codes = TotpRow.__table__, WebAuthnCredentialRow.__table__, RecoveryCodeRow.__table__
    return select(
        one(func.count(), totp), one(func.max(totp.c.last_used_at), totp),
        one(func.count(), keys), one(func.max(keys.c.last_used_at), keys),
        one(func.count(), codes, codes.c.used_at.is_(None)),
    )


# Built once: building and keying this statement cost more than running it.
_ENROLMENT = _enrolment()


class SqlMfaStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- WebAuthn user handle -------------------------------------------------------------

    def handle(self, user_id: int, *, new_handle: str, now: dt.datetime) -> str:
        """The account's WebAuthn user handle, created on first use."""
        with self.db.transaction() as s:
            row = s.get(MfaAccountRow, user_id)
            if row is not None:
                return row.webauthn_handle
        try:
            with self.db.transaction() as s:
                s.add(MfaAccountRow(user_id=user_id, webauthn_handle=new_handle, created_at=now))
        except IntegrityError:
            pass  # created by a concurrent request: read theirs
        with self.db.transaction() as s:
            return s.get_one(MfaAccountRow, user_id).webauthn_handle

    def user_by_handle(self, handle: str) -> int | None:
        with self.db.transaction() as s:
            return s.scalar(select(MfaAccountRow.user_id).where(MfaAccountRow.webauthn_handle == handle))

    def enrolment(self, user_id: int) -> Enrolment:
        """Every second factor of the account, in one statement (the sign-in asks after each
        password)."""
        with self.db.read() as s:
            row = s.execute(_ENROLMENT, {"user_id": user_id}).one()
        return Enrolment(totp=bool(row[0]), totp_last_used=row[1], keys=int(row[2] or 0), keys_last_used=row[3],
                         codes_left=int(row[4] or 0))

    # -- TOTP -----------------------------------------------------------------------------

    def get_totp(self, user_id: int) -> TotpRecord | None:
        with self.db.read() as s:
            row = s.get(TotpRow, user_id)
            if row is None:
                return None
            return TotpRecord(row.user_id, row.secret_enc, row.last_step, row.created_at, row.last_used_at)

    def set_totp(self, user_id: int, *, secret_enc: str, step: int, now: dt.datetime) -> None:
        """Store (or replace) the account's TOTP seed; the confirming code's step counts as used."""
        with self.db.transaction() as s:
            s.execute(delete(TotpRow).where(TotpRow.user_id == user_id))
            s.add(TotpRow(user_id=user_id, secret_enc=secret_enc, last_step=step, created_at=now, last_used_at=now))

    def advance_totp(self, user_id: int, step: int, now: dt.datetime) -> bool:
        """Record `step` as used only if it is later than every step used before.

        One conditional UPDATE: the database serialises concurrent writers on the row, so of
        two requests racing with the same code exactly one sees a row updated.
        """
        with self.db.transaction() as s:
            result = s.execute(
                update(TotpRow)
                .where(TotpRow.user_id == user_id, TotpRow.last_step < step)
                .values(last_step=step, last_used_at=now)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def delete_totp(self, user_id: int) -> bool:
        with self.db.transaction() as s:
            return bool(s.execute(delete(TotpRow).where(TotpRow.user_id == user_id)).rowcount)  # type: ignore[attr-defined]

    # -- WebAuthn credentials ----------------------------------------------------------------

    def add_credential(
        self, user_id: int, *, credential_id: str, public_key: bytes, sign_count: int, kind: str, name: str,
        aaguid: str, backup_eligible: bool, transports: list[str], now: dt.datetime,
    ) -> Credential | None:
        """None when this credential is already registered (to any account)."""
        row = WebAuthnCredentialRow(
            user_id=user_id, credential_id=credential_id, public_key=public_key, sign_count=sign_count,
            kind=kind, name=name, aaguid=aaguid, backup_eligible=backup_eligible, transports=transports,
            created_at=now, last_used_at=None,
        )
        try:
            with self.db.transaction() as s:
                s.add(row)
                s.flush()
                return _credential(row)
        except IntegrityError:
            return None

    def credentials(self, user_id: int) -> list[Credential]:
        with self.db.read() as s:
            rows = s.scalars(
                select(WebAuthnCredentialRow)
                .where(WebAuthnCredentialRow.user_id == user_id)
                .order_by(WebAuthnCredentialRow.created_at, WebAuthnCredentialRow.id)
            ).all()
            return [_credential(r) for r in rows]

    def credential(self, credential_id: str) -> Credential | None:
        with self.db.transaction() as s:
            row = s.scalar(select(WebAuthnCredentialRow).where(WebAuthnCredentialRow.credential_id == credential_id))
            return _credential(row) if row else None

    def record_use(self, cred_id: int, *, old_count: int, new_count: int, now: dt.datetime) -> bool:
        """Store the new sign counter only if nobody stored another since it was read."""
        with self.db.transaction() as s:
            result = s.execute(
                update(WebAuthnCredentialRow)
                .where(WebAuthnCredentialRow.id == cred_id, WebAuthnCredentialRow.sign_count == old_count)
                .values(sign_count=new_count, last_used_at=now)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def rename(self, user_id: int, cred_id: int, name: str) -> bool:
        with self.db.transaction() as s:
            result = s.execute(
                update(WebAuthnCredentialRow)
                .where(WebAuthnCredentialRow.id == cred_id, WebAuthnCredentialRow.user_id == user_id)
                .values(name=name)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def delete_credential(self, user_id: int, cred_id: int) -> bool:
        with self.db.transaction() as s:
            result = s.execute(
                delete(WebAuthnCredentialRow).where(
                    WebAuthnCredentialRow.id == cred_id, WebAuthnCredentialRow.user_id == user_id
                )
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    # -- recovery codes -----------------------------------------------------------------------

    def replace_codes(self, user_id: int, digests: list[str], now: dt.datetime) -> None:
        """The new set replaces the old one in one transaction: old codes stop working at once."""
        with self.db.transaction() as s:
            s.execute(delete(RecoveryCodeRow).where(RecoveryCodeRow.user_id == user_id))
            s.add_all([RecoveryCodeRow(user_id=user_id, code_digest=d, created_at=now, used_at=None) for d in digests])

    def use_code(self, user_id: int, digest: str, now: dt.datetime) -> bool:
        """Burn an unused code; False when it is unknown or already used (atomic: one winner)."""
        with self.db.transaction() as s:
            result = s.execute(
                update(RecoveryCodeRow)
                .where(
                    RecoveryCodeRow.user_id == user_id,
                    RecoveryCodeRow.code_digest == digest,
                    RecoveryCodeRow.used_at.is_(None),
                )
                .values(used_at=now)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def codes_left(self, user_id: int) -> int:
        with self.db.read() as s:
            return int(
                s.scalar(
                    select(func.count())
                    .select_from(RecoveryCodeRow)
                    .where(RecoveryCodeRow.user_id == user_id, RecoveryCodeRow.used_at.is_(None))
                )
                or 0
            )

    def has_codes(self, user_id: int) -> bool:
        with self.db.transaction() as s:
            return s.scalar(select(RecoveryCodeRow.id).where(RecoveryCodeRow.user_id == user_id).limit(1)) is not None

    def delete_codes(self, user_id: int) -> None:
        with self.db.transaction() as s:
            s.execute(delete(RecoveryCodeRow).where(RecoveryCodeRow.user_id == user_id))

    def delete_all(self, user_id: int) -> None:
        """Every second factor of the account and its WebAuthn user handle (account deletion)."""
        with self.db.transaction() as s:
            for table in (TotpRow, WebAuthnCredentialRow, RecoveryCodeRow, MfaAccountRow):
                s.execute(delete(table).where(table.user_id == user_id))


class RedisMfaStore:
    """Single-use, expiring values: WebAuthn challenges, pending enrolments, freshly shown codes.

    Keys: `<p>:{u:<id>}:mfa:<what>` for a signed-in account's values, and
    `<p>:mfa:<what>:<sha256(token)>` for values bound to a sign-in flow or a browser.
    """

    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self.r = client
        self.keys = keys

    def user_key(self, user_id: int, what: str) -> str:
        return self.keys.user(user_id, f"mfa:{what}")

    def token_key(self, what: str, token: str) -> str:
        return f"{self.keys.p}:mfa:{what}:{hashlib.sha256(token.encode()).hexdigest()}"

    @unavailable_is_503
    def put(self, key: str, value: str, ttl: int) -> None:
        self.r.set(key, value, ex=ttl)

    @unavailable_is_503
    def get(self, key: str) -> str | None:
        value: Any = self.r.get(key)
        return str(value) if value is not None else None

    @unavailable_is_503
    def take(self, key: str) -> str | None:
        """Read and delete in one step: a challenge is answered at most once."""
        value: Any = self.r.getdel(key)
        return str(value) if value is not None else None

    @unavailable_is_503
    def delete(self, key: str) -> None:
        self.r.delete(key)
