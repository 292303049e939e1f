"""Domain transfers and their failures in SQL (every change of status a compare-and-set), and
the webhook requests already seen, in Redis."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

import redis
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from idp.domains.model import CENT
from idp.domains.model import Failure
from idp.domains.model import Fee
from idp.domains.model import Reason
from idp.domains.model import Status
from idp.domains.model import Transfer
from idp.errors import ConflictError
from idp.stores.db import Database
from idp.stores.redis import Keys
from idp.stores.redis import unavailable_is_503
from idp.stores.tables_domains import DomainFailureRow
from idp.stores.tables_domains import DomainTransferRow


def _transfer(row: DomainTransferRow) -> Transfer:
    fee = None
    if row.fee_cents is not None and row.fee_currency in ("CHF", "EUR"):
        fee = Fee((Decimal(row.fee_cents) / 100).quantize(CENT), row.fee_currency)  # type: ignore[arg-type]
    return Transfer(
        id=row.id, org_id=row.org_id, domain=row.domain, status=Status(row.status), fee=fee,
        fee_charged=row.fee_charged, charged_at=row.charged_at, failures=row.failures,
        requested_by=row.requested_by, created_at=row.created_at, updated_at=row.updated_at,
        completed_at=row.completed_at,
    )


def _failure(row: DomainFailureRow) -> Failure:
    return Failure(
        transfer_id=row.transfer_id, number=row.number, reason=Reason(row.reason), detail=row.detail,
        source=row.source, created_at=row.created_at, resolved_at=row.resolved_at,
        resolved_how=row.resolved_how, resolved_by=row.resolved_by,
    )


def cents(fee: Fee) -> int:
    """The fee in cents, exactly (the amount has two decimals at most: the settings check it)."""
    value = fee.amount * 100
    if value != value.to_integral_value():
        raise ValueError("a fee has at most two decimals")
    return int(value)


class SqlDomainStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, *, org_id: int, domain: str, fee: Fee | None, auth_code: str, requested_by: int,
            now: dt.datetime) -> Transfer:
        """A requested transfer, its fee recorded as charged; ConflictError when the domain has
        an open transfer already (of any organisation)."""
        row = DomainTransferRow(
            org_id=org_id, domain=domain, open_domain=domain, status=Status.REQUESTED.value,
            fee_cents=cents(fee) if fee else None, fee_currency=fee.currency if fee else None,
            fee_charged=fee is not None, charged_at=now if fee else None, auth_code=auth_code, failures=0,
            requested_by=requested_by, created_at=now, updated_at=now,
        )
        try:
            with self.db.transaction() as s:
                s.add(row)
                s.flush()
                return _transfer(row)
        except IntegrityError as exc:
            raise ConflictError("this domain has an open transfer") from exc

    def delete(self, transfer_id: int) -> None:
        with self.db.transaction() as s:
            row = s.get(DomainTransferRow, transfer_id)
            if row is not None:
                s.delete(row)

    def get(self, transfer_id: int) -> Transfer | None:
        with self.db.read() as s:
            row = s.get(DomainTransferRow, transfer_id)
            return _transfer(row) if row is not None else None

    def open_by_domain(self, domain: str) -> Transfer | None:
        with self.db.read() as s:
            row = s.scalars(select(DomainTransferRow).where(DomainTransferRow.open_domain == domain)).first()
            return _transfer(row) if row is not None else None

    def transfers(self, org_id: int | None = None) -> list[Transfer]:
        """The newest first; every organisation's when `org_id` is None."""
        query = select(DomainTransferRow).order_by(DomainTransferRow.created_at.desc(), DomainTransferRow.id.desc())
        if org_id is not None:
            query = query.where(DomainTransferRow.org_id == org_id)
        with self.db.read() as s:
            return [_transfer(r) for r in s.scalars(query)]

    def failure(self, transfer_id: int, number: int) -> Failure | None:
        with self.db.read() as s:
            row = s.scalars(select(DomainFailureRow).where(
                DomainFailureRow.transfer_id == transfer_id, DomainFailureRow.number == number)).first()
            return _failure(row) if row is not None else None

    def last_failures(self, transfers: Iterable[Transfer]) -> dict[int, Failure]:
        """Each transfer's last failure, by transfer id (one query for a page)."""
        wanted = {(t.id, t.failures) for t in transfers if t.failures}
        if not wanted:
            return {}
        with self.db.read() as s:
            rows = s.scalars(select(DomainFailureRow).where(
                DomainFailureRow.transfer_id.in_({t for t, _n in wanted})))
            return {r.transfer_id: _failure(r) for r in rows if (r.transfer_id, r.number) in wanted}

    def auth_code(self, transfer_id: int) -> str | None:
        with self.db.read() as s:
            return s.scalar(select(DomainTransferRow.auth_code).where(DomainTransferRow.id == transfer_id))

    def set_auth_code(self, transfer_id: int, auth_code: str, now: dt.datetime) -> None:
        with self.db.transaction() as s:
            s.execute(update(DomainTransferRow).where(DomainTransferRow.id == transfer_id)
                      .values(auth_code=auth_code, updated_at=now))

    def move(self, transfer_id: int, *, were: Iterable[Status], to: Status, now: dt.datetime) -> bool:
        """Set the status if it is one of `were` (compare-and-set); completion also frees the
        domain for a later transfer and forgets the authorisation code."""
        values: dict[str, object] = {"status": to.value, "updated_at": now}
        if to is Status.COMPLETED:
            values |= {"open_domain": None, "auth_code": None, "completed_at": now}
        with self.db.transaction() as s:
            done = s.execute(update(DomainTransferRow).where(
                DomainTransferRow.id == transfer_id, DomainTransferRow.status.in_([w.value for w in were]),
            ).values(**values))
            return bool(done.rowcount)  # type: ignore[attr-defined]

    def add_failure(self, transfer_id: int, *, were: Iterable[Status], reason: Reason, detail: str | None,
                    source: str, now: dt.datetime) -> Failure | None:
        """The transfer becomes failed and its failure count grows by one, if its status is one of
        `were`; the failure row under the new number. None when the status had changed."""
        with self.db.transaction() as s:
            done = s.execute(update(DomainTransferRow).where(
                DomainTransferRow.id == transfer_id, DomainTransferRow.status.in_([w.value for w in were]),
            ).values(status=Status.FAILED.value, failures=DomainTransferRow.failures + 1, updated_at=now))
            if not done.rowcount:  # type: ignore[attr-defined]
                return None
            number = s.scalar(select(DomainTransferRow.failures).where(DomainTransferRow.id == transfer_id))
            row = DomainFailureRow(transfer_id=transfer_id, number=number, reason=reason.value, detail=detail,
                                   source=source, created_at=now)
            s.add(row)
            s.flush()
            return _failure(row)

    def claim_relaunch(self, transfer_id: int, number: int, *, by: int, how: str, now: dt.datetime) -> bool:
        """Failed → relaunched, only while `number` is the last failure and unresolved: one of
        two concurrent relaunches wins, the other gets False."""
        with self.db.transaction() as s:
            done = s.execute(update(DomainTransferRow).where(
                DomainTransferRow.id == transfer_id, DomainTransferRow.status == Status.FAILED.value,
                DomainTransferRow.failures == number,
            ).values(status=Status.RELAUNCHED.value, updated_at=now))
            if not done.rowcount:  # type: ignore[attr-defined]
                return False
            s.execute(update(DomainFailureRow).where(
                DomainFailureRow.transfer_id == transfer_id, DomainFailureRow.number == number,
            ).values(resolved_at=now, resolved_how=how, resolved_by=by))
            return True

    def release_relaunch(self, transfer_id: int, number: int, now: dt.datetime) -> None:
        """Undo `claim_relaunch` (the registrar did not take the relaunch): failed again, same failure."""
        with self.db.transaction() as s:
            s.execute(update(DomainTransferRow).where(
                DomainTransferRow.id == transfer_id, DomainTransferRow.status == Status.RELAUNCHED.value,
                DomainTransferRow.failures == number,
            ).values(status=Status.FAILED.value, updated_at=now))
            s.execute(update(DomainFailureRow).where(
                DomainFailureRow.transfer_id == transfer_id, DomainFailureRow.number == number,
            ).values(resolved_at=None, resolved_how=None, resolved_by=None))


class RedisWebhookReplays:
    """Webhook requests seen (by the digest of their timestamp and body), each for as long as
    its timestamp is accepted."""

    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self.r, self.keys = client, keys

    def _key(self, digest: str) -> str:
        return f"{self.keys.p}:domains:webhook:{digest}"

    @unavailable_is_503
    def first_time(self, digest: str, ttl: int) -> bool:
        return bool(self.r.set(self._key(digest), "1", nx=True, ex=ttl))

    @unavailable_is_503
    def forget(self, digest: str) -> None:
        self.r.delete(self._key(digest))
