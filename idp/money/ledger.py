"""The prepaid account as people read it: the balance per currency, the ledger filtered and
paged, its CSV export; and the operator's adjustments."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from decimal import Decimal

from idp.clock import Clock
from idp.errors import N_
from idp.errors import ValidationError
from idp.events import EventTag
from idp.model import RequestContext
from idp.money import csvfile
from idp.money.access import BillingAccess
from idp.money.access import Caller
from idp.money.amounts import parse_amount
from idp.money.model import BalanceTooLowError
from idp.money.model import EntryKind
from idp.money.model import LedgerEntry
from idp.money.model import Reason
from idp.money.ports import LedgerStore
from idp.money.pricing import Currency

MAX_NOTE = 300
MAX_PAGE = 1_000_000


@dataclass(frozen=True)
class LedgerFilter:
    """The ledger page's filters, as its form read them (dates, and choices still as text)."""

    date_from: dt.date | None = None
    date_to: dt.date | None = None
    kind: str | None = None  # "credit", "debit"
    reason: str | None = None  # a Reason
    currency: str | None = None


@dataclass(frozen=True)
class LedgerPage:
    entries: list[LedgerEntry]
    total: int
    page: int
    pages: int
    names: dict[int, str]  # who the entries name, by account id

    def who(self, entry: LedgerEntry) -> str | None:
        """The person's name; None for an operator (no person)."""
        if entry.actor_id is None:
            return None
        return self.names.get(entry.actor_id, "")


def _choice(value: str | None, kind: type[EntryKind] | type[Reason] | type[Currency], field: str) -> object:
    if not value:
        return None
    try:
        return kind(value)
    except ValueError as exc:
        raise ValidationError(N_("Choose a value from the list."), field=field) from exc


class LedgerService:
    def __init__(
        self, *, ledger: LedgerStore, access: BillingAccess, clock: Clock,
        unit: Callable[[], AbstractContextManager[None]], max_amount: Decimal, page_size: int = 50,
        export_limit: int = 10_000,
    ) -> None:
        self.ledger, self.access, self.clock, self.unit = ledger, access, clock, unit
        self.max_amount, self.page_size, self.export_limit = max_amount, page_size, export_limit

    def balances(self, caller: Caller) -> dict[Currency, Decimal]:
        """Every currency, zero where the organisation has no entry yet."""
        return {c: Decimal("0.00") for c in Currency} | self.ledger.balances(caller.org.id)

    def _query(self, flt: LedgerFilter) -> dict[str, object]:
        start = dt.datetime.combine(flt.date_from, dt.time(), tzinfo=dt.UTC) if flt.date_from else None
        end = (dt.datetime.combine(flt.date_to + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
               if flt.date_to and flt.date_to < dt.date.max else None)
        if flt.date_from and flt.date_to and flt.date_to < flt.date_from:
            raise ValidationError(N_("The end date must not be before the start date."), field="date_to")
        return {
            "kind": _choice(flt.kind, EntryKind, "kind"), "reason": _choice(flt.reason, Reason, "reason"),
            "currency": _choice(flt.currency, Currency, "currency"), "date_from": start, "date_to": end,
        }

    def page(self, caller: Caller, flt: LedgerFilter, page: int = 1) -> LedgerPage:
        """One page of entries, newest first. Dates are whole days in UTC (`date_to` included)."""
        query = self._query(flt)
        page = max(1, min(page, MAX_PAGE))
        entries, total = self.ledger.entries(
            caller.org.id, offset=(page - 1) * self.page_size, limit=self.page_size, **query,  # type: ignore[arg-type]
        )
        pages = max(1, -(-total // self.page_size))
        return LedgerPage(entries, total, page, pages, self.ledger.names(e.actor_id for e in entries if e.actor_id))

    def export_csv(self, caller: Caller, flt: LedgerFilter, ctx: RequestContext) -> str:
        """The matching entries (at most `export_limit`, newest first) as CSV; the export is
        recorded in the activity log."""
        query = self._query(flt)
        entries, _total = self.ledger.entries(caller.org.id, offset=0, limit=self.export_limit, **query)  # type: ignore[arg-type]
        names = self.ledger.names(e.actor_id for e in entries if e.actor_id)
        body = csvfile.write(
            ["time_utc", "kind", "reason", "amount", "currency", "reference", "note", "by"],
            ([e.created_at.astimezone(dt.UTC).isoformat(timespec="seconds"), e.kind.value, e.reason.value,
              f"{e.amount:.2f}", e.currency.value, e.reference or "", e.note or "",
              "operator" if e.actor_id is None else names.get(e.actor_id, "deleted account")]
             for e in entries),
        )
        self.access.record(EventTag.MONEY_LEDGER_EXPORTED, ctx, caller, {"rows": len(entries)})
        return body

    # -- the operator's acts ---------------------------------------------------------------------

    def adjust(
        self, slug: str, currency: str, amount: str, *, debit: bool, note: str, ctx: RequestContext,
    ) -> LedgerEntry:
        """An operator's correction, with its reason in `note`; a debit never takes the balance
        below zero (ValidationError)."""
        org = self.access.by_slug(slug)
        try:
            cur = Currency(currency.strip().upper())
        except ValueError as exc:
            raise ValidationError(N_("Choose CHF or EUR."), field="currency") from exc
        value = parse_amount(amount, maximum=self.max_amount)
        note = " ".join(note.split())
        if not note or len(note) > MAX_NOTE:
            raise ValidationError(N_("Say why, in 1 to %(max)s characters."), field="note", max=MAX_NOTE)
        kind = EntryKind.DEBIT if debit else EntryKind.CREDIT
        try:
            with self.unit():
                entry = self.ledger.append(
                    org_id=org.id, currency=cur, kind=kind, amount=value, reason=Reason.ADJUSTMENT,
                    reference=None, note=note, actor_id=None, now=self.clock.now(),
                )
                self.access.record_operator(EventTag.MONEY_BALANCE_ADJUSTED, ctx, org.id, {
                    "kind": kind.value, "amount": f"{value:.2f}", "currency": cur.value, "note": note,
                })
        except BalanceTooLowError as exc:
            raise ValidationError(N_("The balance does not cover this debit.")) from exc
        return entry

    def balance_of(self, slug: str) -> dict[Currency, Decimal]:
        """For the operator's commands."""
        org = self.access.by_slug(slug)
        return {c: Decimal("0.00") for c in Currency} | self.ledger.balances(org.id)
