"""Single sign-on state: connections, domains and links in SQL; upstream flow state and mailbox codes in Redis."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

import redis
from sqlalchemy import bindparam
from sqlalchemy import delete
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from idp.errors import ConflictError
from idp.errors import NotFoundError
from idp.federation.model import Connection
from idp.federation.model import Link
from idp.stores.db import Database
from idp.stores.redis import Keys
from idp.stores.redis import unavailable_is_503
from idp.stores.tables_federation import FedConnectionRow
from idp.stores.tables_federation import FedDomainRow
from idp.stores.tables_federation import FedLinkRow

CONNECTION_FIELDS = (
    "kind", "name", "tenant_id", "issuer", "client_id", "secret_enc", "cert_key_enc", "cert_thumbprint",
    "jit_enabled", "jit_role", "password_allowed", "enabled",
)


def _connection(row: FedConnectionRow, domains: list[str]) -> Connection:
    return Connection(
        id=row.id, org_id=row.org_id, kind=row.kind, name=row.name, tenant_id=row.tenant_id,
        issuer=row.issuer, client_id=row.client_id, secret_enc=row.secret_enc, cert_key_enc=row.cert_key_enc,
        cert_thumbprint=row.cert_thumbprint, jit_enabled=row.jit_enabled, jit_role=row.jit_role,
        password_allowed=row.password_allowed, enabled=row.enabled, domains=tuple(sorted(domains)),
        created_at=row.created_at, updated_at=row.updated_at,
    )


def _link(row: FedLinkRow) -> Link:
    return Link(
        id=row.id, user_id=row.user_id, connection_id=row.connection_id, namespace=row.namespace,
        subject=row.subject, label=row.label, created_at=row.created_at, last_used_at=row.last_used_at,
    )


_DOMAINS = FedDomainRow.__table__
_DOMAIN_OWNER = select(_DOMAINS.c.connection_id).where(_DOMAINS.c.domain == bindparam("domain"))


class SqlFederationStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def _domains(self, s: Any, connection_id: int) -> list[str]:
        return list(s.scalars(select(FedDomainRow.domain).where(FedDomainRow.connection_id == connection_id)))

    def save_connection(
        self, *, connection_id: int | None, org_id: int, domains: list[str], now: dt.datetime, **values: Any
    ) -> Connection:
        """Create or update a connection and replace its domains; a domain of another connection
        raises ConflictError (one domain routes to one directory)."""
        try:
            with self.db.transaction() as s:
                if connection_id is None:
                    row = FedConnectionRow(org_id=org_id, created_at=now, updated_at=now, **values)
                    s.add(row)
                    s.flush()
                else:
                    found = s.get(FedConnectionRow, connection_id)
                    if found is None or found.org_id != org_id:
                        raise NotFoundError("no such connection")
                    row = found
                    for name, value in values.items():
                        setattr(row, name, value)
                    row.updated_at = now
                for domain in domains:
                    owner = s.get(FedDomainRow, domain)
                    if owner is not None and owner.connection_id != row.id:
                        raise ConflictError(f"the domain {domain} belongs to another connection")
                s.execute(delete(FedDomainRow).where(FedDomainRow.connection_id == row.id))
                s.flush()
                for domain in domains:
                    s.add(FedDomainRow(domain=domain, connection_id=row.id))
                s.flush()
                return _connection(row, domains)
        except IntegrityError as exc:
            raise ConflictError("a domain belongs to another connection") from exc

    def set_enabled(self, connection_id: int, enabled: bool, now: dt.datetime) -> Connection:
        with self.db.transaction() as s:
            row = s.get(FedConnectionRow, connection_id)
            if row is None:
                raise NotFoundError("no such connection")
            row.enabled = enabled
            row.updated_at = now
            s.flush()
            return _connection(row, self._domains(s, row.id))

    def get(self, connection_id: int) -> Connection | None:
        with self.db.transaction() as s:
            row = s.get(FedConnectionRow, connection_id)
            return _connection(row, self._domains(s, row.id)) if row else None

    def by_domain(self, domain: str) -> Connection | None:
        with self.db.read() as s:
            # Asked at each sign-in's e-mail and password steps; most domains have none.
            connection_id = s.scalar(_DOMAIN_OWNER, {"domain": domain})
            if connection_id is None:
                return None
            row = s.get(FedConnectionRow, connection_id)
            return _connection(row, self._domains(s, row.id)) if row else None

    def of_org(self, org_id: int) -> list[Connection]:
        with self.db.transaction() as s:
            rows = s.scalars(
                select(FedConnectionRow).where(FedConnectionRow.org_id == org_id).order_by(FedConnectionRow.id)
            )
            return [_connection(r, self._domains(s, r.id)) for r in rows]

    def all(self) -> list[Connection]:
        with self.db.transaction() as s:
            rows = s.scalars(select(FedConnectionRow).order_by(FedConnectionRow.id))
            return [_connection(r, self._domains(s, r.id)) for r in rows]

    # -- links ---------------------------------------------------------------------------

    def link_of(self, namespace: str, subject: str) -> Link | None:
        with self.db.transaction() as s:
            row = s.scalar(select(FedLinkRow).where(FedLinkRow.namespace == namespace, FedLinkRow.subject == subject))
            return _link(row) if row else None

    def add_link(
        self, *, user_id: int, connection_id: int, namespace: str, subject: str, label: str, now: dt.datetime
    ) -> Link:
        row = FedLinkRow(
            user_id=user_id, connection_id=connection_id, namespace=namespace, subject=subject,
            label=label[:320], created_at=now, last_used_at=now,
        )
        try:
            with self.db.transaction() as s:
                s.add(row)
                s.flush()
                return _link(row)
        except IntegrityError as exc:
            raise ConflictError("this identity is already linked to an account") from exc

    def touch_link(self, link_id: int, now: dt.datetime, *, label: str | None = None) -> None:
        """Note a use of the link; with `label`, also replace what the owner sees it as."""
        with self.db.transaction() as s:
            row = s.get(FedLinkRow, link_id)
            if row is not None:
                row.last_used_at = now
                if label is not None:
                    row.label = label[:320]

    def links_of(self, user_id: int) -> list[Link]:
        with self.db.transaction() as s:
            rows = s.scalars(select(FedLinkRow).where(FedLinkRow.user_id == user_id).order_by(FedLinkRow.id))
            return [_link(r) for r in rows]

    def remove_link(self, user_id: int, link_id: int) -> Link | None:
        with self.db.transaction() as s:
            row = s.get(FedLinkRow, link_id)
            if row is None or row.user_id != user_id:
                return None
            link = _link(row)
            s.delete(row)
            return link


# A pending link is a hash {record: JSON, attempts: n} under one key, so that one script sees
# both. Storing it gives the key its lifetime in the same step: no key is left without a TTL.
_PUT_PENDING = """
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'record', ARGV[1], 'attempts', 0)
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 1
"""

# Spend one attempt at the code, atomically: parallel guesses each get their own number, and no
# more than ARGV[1] of them ever see the record. The last allowed one takes the record away, so
# it decides alone whatever the code it brings.
_SPEND_ATTEMPT = """
local record = redis.call('HGET', KEYS[1], 'record')
if not record then
  return false
end
local n = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
if n >= tonumber(ARGV[1]) then
  redis.call('DEL', KEYS[1])
end
return {n, record}
"""


class RedisFederationStore:
    """Upstream flow state keyed by a digest of `state` (the form_post callback carries no
    cookie), and pending links waiting for a mailbox code. Every key has a TTL."""

    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self.r = client
        self.keys = keys
        self._put_pending = client.register_script(_PUT_PENDING)
        self._spend = client.register_script(_SPEND_ATTEMPT)

    def _state_key(self, state: str) -> str:
        return f"{self.keys.p}:fed:state:{hashlib.sha256(state.encode()).hexdigest()}"

    def _pending_key(self, pending_id: str) -> str:
        # The digest is the key's hash tag: anything kept later about this code (in another key)
        # lands in the same Redis Cluster slot, where one script may use both.
        return f"{self.keys.p}:fed:pending:{{{hashlib.sha256(pending_id.encode()).hexdigest()}}}"

    @unavailable_is_503
    def put_state(self, state: str, record: dict[str, Any], ttl: int) -> None:
        self.r.set(self._state_key(state), json.dumps(record), ex=ttl)

    @unavailable_is_503
    def has_state(self, state: str) -> bool:
        return bool(self.r.exists(self._state_key(state)))

    @unavailable_is_503
    def take_state(self, state: str) -> dict[str, Any] | None:
        """Read and delete at once: a state is redeemed at most once (a replayed callback finds nothing)."""
        raw = self.r.getdel(self._state_key(state))
        return json.loads(raw) if raw else None

    @unavailable_is_503
    def put_pending(self, pending_id: str, record: dict[str, Any], ttl: int) -> None:
        """A pending link, with no attempt spent yet, for `ttl` seconds."""
        self._put_pending(keys=[self._pending_key(pending_id)], args=[json.dumps(record), ttl])

    @unavailable_is_503
    def spend_attempt(self, pending_id: str, allowed: int) -> tuple[dict[str, Any], int] | None:
        """Count one attempt at the pending link's code and return its record with the attempt's
        number (1 for the first), or None when there is no such link (expired, used, or its
        attempts spent). Atomic: of any number of concurrent attempts, at most `allowed` get the
        record; the attempt numbered `allowed` removes the link for everyone after it."""
        found = self._spend(keys=[self._pending_key(pending_id)], args=[allowed])
        if not found:
            return None
        attempt, raw = found
        return json.loads(raw), int(attempt)

    @unavailable_is_503
    def take_pending(self, pending_id: str) -> bool:
        """Remove the pending link; True for the one caller that removed it (a code is used once)."""
        return bool(self.r.delete(self._pending_key(pending_id)))

    def _resume_key(self, resume_id: str) -> str:
        return f"{self.keys.p}:fed:resume:{hashlib.sha256(resume_id.encode()).hexdigest()}"

    @unavailable_is_503
    def put_resume(self, resume_id: str, params: dict[str, str], ttl: int) -> None:
        """A form_post callback parked for one same-site round trip (to get the browser's cookies)."""
        self.r.set(self._resume_key(resume_id), json.dumps(params), ex=ttl)

    @unavailable_is_503
    def take_resume(self, resume_id: str) -> dict[str, str] | None:
        raw = self.r.getdel(self._resume_key(resume_id))
        return json.loads(raw) if raw else None
