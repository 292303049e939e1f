"""The prepaid ledger in SQL: one account row per organisation and currency, locked by every write
to its ledger, and ledger rows that are only ever inserted.

The guarantee (docs/money.md): a debit reads the balance and writes its row while it holds the
account's lock, so concurrent debits of one account are serialised and the balance never goes
below zero. On PostgreSQL the lock is a row lock (`SELECT ... FOR UPDATE` on the account row,
held until the transaction ends; READ COMMITTED then reads every debit committed before it);
on SQLite, every transaction of `Database` begins with `BEGIN IMMEDIATE`, which takes the
database's write lock at once, so the same read-then-write runs one transaction at a time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from sqlalchemy import case
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from idp.money.amounts import from_cents
from idp.money.amounts import to_cents
from idp.money.model import BalanceTooLowError
from idp.money.model import EntryKind
from idp.money.model import LedgerEntry
from idp.money.model import Reason
from idp.money.pricing import Currency
from idp.stores.db import Database
from idp.stores.models import UserRow
from idp.stores.tables_money import LedgerEntryRow
from idp.stores.tables_money import MoneyAccountRow

_SIGNED = case((LedgerEntryRow.kind == EntryKind.CREDIT.value, LedgerEntryRow.amount_cents),
               else_=-LedgerEntryRow.amount_cents)


def _entry(row: LedgerEntryRow, org_id: int, currency: str) -> LedgerEntry:
    return LedgerEntry(
        id=row.id, org_id=org_id, currency=Currency(currency), kind=EntryKind(row.kind),
        amount=from_cents(row.amount_cents), reason=Reason(row.reason), reference=row.reference,
        note=row.note, actor_id=row.actor_id, created_at=row.created_at,
    )


class SqlLedgerStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- the lock --------------------------------------------------------------------------

    def _locked_account(self, s: Session, org_id: int, currency: Currency, now: dt.datetime) -> int:
        """The account's id, its row locked until the transaction ends (made on first use)."""
        values = {"org_id": org_id, "currency": currency.value, "created_at": now}
        table = MoneyAccountRow.__table__
        if self.db.dialect == "postgresql":
            s.execute(postgresql.insert(table).values(**values).on_conflict_do_nothing(  # type: ignore[arg-type]
                index_elements=["org_id", "currency"]))
        elif self.db.dialect == "sqlite":
            s.execute(sqlite.insert(table).values(**values).on_conflict_do_nothing(  # type: ignore[arg-type]
                index_elements=["org_id", "currency"]))
        else:  # pragma: no cover - the two backends the project supports
            raise RuntimeError(f"no ledger lock on {self.db.dialect}")
        # FOR UPDATE on PostgreSQL; SQLite renders none and already holds the write lock.
        account_id = s.scalar(
            select(MoneyAccountRow.id)
            .where(MoneyAccountRow.org_id == org_id, MoneyAccountRow.currency == currency.value)
            .with_for_update()
        )
        assert account_id is not None  # noqa: S101 - inserted or found just above
        return int(account_id)

    def lock(self, accounts: Iterable[tuple[int, Currency]], now: dt.datetime) -> None:
        """Lock several accounts for the rest of the transaction (a `Database.unit()`), always in
        the same order, so that two transactions touching the same two accounts cannot deadlock."""
        with self.db.transaction() as s:
            for org_id, currency in sorted(set(accounts), key=lambda a: (a[0], a[1].value)):
                self._locked_account(s, org_id, currency, now)

    # -- writes: inserts only ----------------------------------------------------------------

    def append(
        self, *, org_id: int, currency: Currency, kind: EntryKind, amount: Decimal, reason: Reason,
        reference: str | None, note: str | None, actor_id: int | None, now: dt.datetime,
    ) -> LedgerEntry:
        """Add a credit or a debit. Under the account's lock: a debit larger than the balance
        raises BalanceTooLowError and writes nothing."""
        cents = to_cents(amount)
        if cents <= 0:
            raise ValueError("a ledger entry moves a positive amount")
        with self.db.transaction() as s:
            account_id = self._locked_account(s, org_id, currency, now)
            if kind is EntryKind.DEBIT and self._sum(s, account_id) < cents:
                raise BalanceTooLowError("the balance does not cover this debit")
            row = LedgerEntryRow(
                account_id=account_id, kind=kind.value, amount_cents=cents, reason=reason.value,
                reference=reference, note=note, actor_id=actor_id, created_at=now,
            )
            s.add(row)
            s.flush()
            return _entry(row, org_id, currency.value)

    # -- reads ---------------------------------------------------------------------------------

    @staticmethod
    def _sum(s: Session, account_id: int) -> int:
        total = s.scalar(select(func.coalesce(func.sum(_SIGNED), 0)).where(LedgerEntryRow.account_id == account_id))
        return int(total or 0)

    def balance(self, org_id: int, currency: Currency) -> Decimal:
        with self.db.read() as s:
            total = s.scalar(
                select(func.coalesce(func.sum(_SIGNED), 0))
                .join(MoneyAccountRow, MoneyAccountRow.id == LedgerEntryRow.account_id)
                .where(MoneyAccountRow.org_id == org_id, MoneyAccountRow.currency == currency.value)
            )
        return from_cents(int(total or 0))

    def balances(self, org_id: int) -> dict[Currency, Decimal]:
        """Every currency the organisation has an account in, with its balance."""
        with self.db.read() as s:
            rows = s.execute(
                select(MoneyAccountRow.currency, func.coalesce(func.sum(_SIGNED), 0))
                .outerjoin(LedgerEntryRow, LedgerEntryRow.account_id == MoneyAccountRow.id)
                .where(MoneyAccountRow.org_id == org_id)
                .group_by(MoneyAccountRow.currency)
            ).all()
        return {Currency(currency): from_cents(int(total or 0)) for currency, total in rows}

    def entries(
        self, org_id: int, *, currency: Currency | None = None, kind: EntryKind | None = None,
        reason: Reason | None = None, date_from: dt.datetime | None = None, date_to: dt.datetime | None = None,
        offset: int = 0, limit: int = 50,
    ) -> tuple[list[LedgerEntry], int]:
        """One page of the organisation's entries, newest first, and how many match in all."""
        conditions = [MoneyAccountRow.org_id == org_id]
        if currency is not None:
            conditions.append(MoneyAccountRow.currency == currency.value)
        if kind is not None:
            conditions.append(LedgerEntryRow.kind == kind.value)
        if reason is not None:
            conditions.append(LedgerEntryRow.reason == reason.value)
        if date_from is not None:
            conditions.append(LedgerEntryRow.created_at >= date_from)
        if date_to is not None:
            conditions.append(LedgerEntryRow.created_at < date_to)
        joined = select(LedgerEntryRow, MoneyAccountRow.currency).join(
            MoneyAccountRow, MoneyAccountRow.id == LedgerEntryRow.account_id).where(*conditions)
        with self.db.read() as s:
            total = s.scalar(select(func.count()).select_from(joined.subquery()))
            rows = s.execute(
                joined.order_by(LedgerEntryRow.created_at.desc(), LedgerEntryRow.id.desc())
                .offset(offset).limit(limit)
            ).all()
        return [_entry(row, org_id, cur) for row, cur in rows], int(total or 0)

    def names(self, user_ids: Iterable[int]) -> dict[int, str]:
        """The display names of these accounts (deleted ones are missing)."""
        wanted = sorted(set(user_ids))
        if not wanted:
            return {}
        with self.db.read() as s:
            rows = s.execute(select(UserRow.id, UserRow.display_name).where(UserRow.id.in_(wanted))).all()
        return {int(i): str(name) for i, name in rows}
