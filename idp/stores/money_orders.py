"""Orders and payouts in SQL. Each change of state is a compare-and-set on the state it starts
from, so two operators (or an operator and the person) cannot both act on one order or payout:
one of them changes it, the other is told it changed meanwhile."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import update

from idp.money.amounts import from_cents
from idp.money.amounts import to_cents
from idp.money.model import Order
from idp.money.model import OrderKind
from idp.money.model import OrderLine
from idp.money.model import OrderStatus
from idp.money.model import PayMethod
from idp.money.model import Payout
from idp.money.model import PayoutMethod
from idp.money.model import PayoutState
from idp.money.model import StoredPayout
from idp.money.pricing import Currency
from idp.money.pricing import Payer
from idp.stores.db import Database
from idp.stores.tables_money import OrderLineRow
from idp.stores.tables_money import OrderRow
from idp.stores.tables_money import PayoutRow

BP = Decimal(100)  # hundredths of a percent in a percent


def _line(row: OrderLineRow) -> OrderLine:
    return OrderLine(
        product_code=row.product_code, quantity=row.quantity, unit_price=from_cents(row.unit_cents),
        public=from_cents(row.public_cents), partner_discount=Decimal(row.partner_discount_bp) / BP,
        degressive_rate=Decimal(row.degressive_bp) / BP, total=from_cents(row.total_cents),
        cashback=from_cents(row.cashback_cents), rule=row.rule,
    )


def _order(row: OrderRow, lines: list[OrderLineRow] | None = None) -> Order:
    return Order(
        id=row.id, org_id=row.org_id, currency=Currency(row.currency), kind=OrderKind(row.kind),
        method=PayMethod(row.method), status=OrderStatus(row.status), payer=Payer(row.payer),
        paying_org_id=row.paying_org_id, partner_org_id=row.partner_org_id, as_partner=row.as_partner,
        placed_by=row.placed_by, total=from_cents(row.total_cents), cashback=from_cents(row.cashback_cents),
        created_at=row.created_at, paid_at=row.paid_at, cancelled_at=row.cancelled_at,
        transfer_sent=row.transfer_sent, credited_at=row.credited_at,
        lines=tuple(_line(line) for line in sorted(lines or [], key=lambda r: r.position)),
    )


def _bp(percent: Decimal) -> int:
    scaled = percent * BP
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{percent} % has more than two decimals")
    return int(scaled)


class SqlOrderStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, draft: Order) -> Order:
        """Insert the order and its lines (the draft's id is ignored)."""
        with self.db.transaction() as s:
            row = OrderRow(
                org_id=draft.org_id, currency=draft.currency.value, kind=draft.kind.value,
                method=draft.method.value, status=draft.status.value, payer=draft.payer.value,
                paying_org_id=draft.paying_org_id, partner_org_id=draft.partner_org_id,
                as_partner=draft.as_partner, placed_by=draft.placed_by, total_cents=to_cents(draft.total),
                cashback_cents=to_cents(draft.cashback), transfer_sent=False, created_at=draft.created_at,
                paid_at=draft.paid_at, cancelled_at=None, credited_at=None,
            )
            s.add(row)
            s.flush()
            lines = [
                OrderLineRow(
                    order_id=row.id, position=i, product_code=line.product_code, quantity=line.quantity,
                    unit_cents=to_cents(line.unit_price), public_cents=to_cents(line.public),
                    partner_discount_bp=_bp(line.partner_discount), degressive_bp=_bp(line.degressive_rate),
                    total_cents=to_cents(line.total), cashback_cents=to_cents(line.cashback), rule=line.rule,
                )
                for i, line in enumerate(draft.lines)
            ]
            s.add_all(lines)
            s.flush()
            return _order(row, lines)

    def get(self, order_id: int) -> Order | None:
        with self.db.read() as s:
            row = s.get(OrderRow, order_id)
            if row is None:
                return None
            lines = list(s.scalars(select(OrderLineRow).where(OrderLineRow.order_id == order_id)))
            return _order(row, lines)

    def of_org(self, org_id: int, *, offset: int = 0, limit: int = 50) -> tuple[list[Order], int]:
        """One page of the organisation's orders, newest first, with their lines, and the count."""
        with self.db.read() as s:
            total = s.scalar(select(func.count()).select_from(OrderRow).where(OrderRow.org_id == org_id))
            rows = list(s.scalars(
                select(OrderRow).where(OrderRow.org_id == org_id)
                .order_by(OrderRow.created_at.desc(), OrderRow.id.desc()).offset(offset).limit(limit)
            ))
            return self._with_lines(s, rows), int(total or 0)

    def with_status(self, status: OrderStatus | None, *, limit: int = 200) -> list[Order]:
        """The operator's list: orders in this status (all when None), oldest first."""
        with self.db.read() as s:
            query = select(OrderRow).order_by(OrderRow.id).limit(limit)
            if status is not None:
                query = query.where(OrderRow.status == status.value)
            return self._with_lines(s, list(s.scalars(query)))

    @staticmethod
    def _with_lines(s: Any, rows: list[OrderRow]) -> list[Order]:
        if not rows:
            return []
        by_order: dict[int, list[OrderLineRow]] = {}
        for line in s.scalars(select(OrderLineRow).where(OrderLineRow.order_id.in_([r.id for r in rows]))):
            by_order.setdefault(line.order_id, []).append(line)
        return [_order(r, by_order.get(r.id, [])) for r in rows]

    def change(self, order_id: int, *, was: OrderStatus, **values: Any) -> bool:
        """Set `values` (status, paid_at, cancelled_at, transfer_sent) if the order is still in
        state `was`; False when it is not (someone acted first)."""
        fields = {k: (v.value if isinstance(v, OrderStatus) else v) for k, v in values.items()}
        with self.db.transaction() as s:
            result = s.execute(
                update(OrderRow).where(OrderRow.id == order_id, OrderRow.status == was.value).values(**fields)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def mark_credited(self, order_id: int, now: dt.datetime) -> bool:
        """Record that a cancelled order's transfer was credited to the balance: once only."""
        with self.db.transaction() as s:
            result = s.execute(
                update(OrderRow).where(
                    OrderRow.id == order_id, OrderRow.status == OrderStatus.CANCELLED.value,
                    OrderRow.credited_at.is_(None),
                ).values(credited_at=now)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]


def _payout(row: PayoutRow) -> Payout:
    return Payout(
        id=row.id, org_id=row.org_id, currency=Currency(row.currency), amount=from_cents(row.amount_cents),
        method=PayoutMethod(row.method), destination_hint=row.destination_hint, state=PayoutState(row.state),
        requested_by=row.requested_by, created_at=row.created_at, decided_at=row.decided_at,
        paid_at=row.paid_at, reason=row.reason,
    )


class SqlPayoutStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add(
        self, *, org_id: int, currency: Currency, amount: Decimal, method: PayoutMethod, destination_encrypted: str,
        destination_hint: str, requested_by: int | None, now: dt.datetime,
    ) -> Payout:
        with self.db.transaction() as s:
            row = PayoutRow(
                org_id=org_id, currency=currency.value, amount_cents=to_cents(amount), method=method.value,
                destination_encrypted=destination_encrypted, destination_hint=destination_hint,
                state=PayoutState.REQUESTED.value, requested_by=requested_by, reason=None, created_at=now,
                decided_at=None, paid_at=None,
            )
            s.add(row)
            s.flush()
            return _payout(row)

    def get(self, payout_id: int) -> StoredPayout | None:
        with self.db.read() as s:
            row = s.get(PayoutRow, payout_id)
            return StoredPayout(_payout(row), row.destination_encrypted) if row is not None else None

    def of_org(self, org_id: int, *, limit: int = 100) -> list[Payout]:
        with self.db.read() as s:
            rows = s.scalars(
                select(PayoutRow).where(PayoutRow.org_id == org_id)
                .order_by(PayoutRow.created_at.desc(), PayoutRow.id.desc()).limit(limit)
            )
            return [_payout(r) for r in rows]

    def in_state(self, state: PayoutState | None, *, limit: int = 200) -> list[Payout]:
        with self.db.read() as s:
            query = select(PayoutRow).order_by(PayoutRow.id).limit(limit)
            if state is not None:
                query = query.where(PayoutRow.state == state.value)
            return [_payout(r) for r in s.scalars(query)]

    def change(self, payout_id: int, *, was: PayoutState, state: PayoutState, **values: Any) -> bool:
        """Move the payout from `was` to `state` (with decided_at, paid_at, reason); False when
        it is no longer in `was`."""
        with self.db.transaction() as s:
            result = s.execute(
                update(PayoutRow).where(PayoutRow.id == payout_id, PayoutRow.state == was.value)
                .values(state=state.value, **values)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]
