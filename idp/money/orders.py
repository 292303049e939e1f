"""Orders: priced and settled with idp.money.pricing under the partnership the client is managed
under, paid by bank transfer (an operator marks them paid) or from the prepaid balance (at
once), cancelled while unpaid; cashback goes to the partner when an order is paid."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from decimal import Decimal

from idp.capability import ClientTerms
from idp.clock import Clock
from idp.errors import N_
from idp.errors import ConflictError
from idp.errors import NotFoundError
from idp.errors import ValidationError
from idp.events import EventTag
from idp.model import RequestContext
from idp.money.access import BillingAccess
from idp.money.access import Caller
from idp.money.amounts import parse_quantity
from idp.money.model import BalanceTooLowError
from idp.money.model import EntryKind
from idp.money.model import Order
from idp.money.model import OrderKind
from idp.money.model import OrderLine
from idp.money.model import OrderStatus
from idp.money.model import PayMethod
from idp.money.model import Reason
from idp.money.ports import LedgerStore
from idp.money.ports import OrderStore
from idp.money.pricing import Access
from idp.money.pricing import Actor
from idp.money.pricing import Catalogue
from idp.money.pricing import Currency
from idp.money.pricing import Partnership
from idp.money.pricing import Payer
from idp.money.pricing import Price
from idp.money.pricing import PriceError
from idp.money.pricing import price
from idp.money.pricing import settle

TermsHook = Callable[[int, dt.datetime], "ClientTerms | None"]
ZERO = Decimal("0.00")
CHANGED_MEANWHILE = N_("This order changed meanwhile; look at it again.")


@dataclass(frozen=True)
class OrderRequest:
    """An order as the form sends it (every field a string, checked here)."""

    product: str | None
    quantity: str | None
    currency: str | None
    method: str | None
    kind: str | None = OrderKind.ORDER.value


@dataclass(frozen=True)
class QuotedLine:
    line: OrderLine
    steps: Price  # how the price paid was made, step by step


@dataclass(frozen=True)
class Quote:
    """What an order will cost, shown before it is confirmed, and what placing it writes."""

    currency: Currency
    method: PayMethod
    kind: OrderKind
    lines: tuple[QuotedLine, ...]
    total: Decimal
    cashback: Decimal
    payer: Payer
    paying_org_id: int
    partner_org_id: int | None
    as_partner: bool
    balance: Decimal | None  # the paying balance, when the caller may see it

    def draft(self, org_id: int, user_id: int, now: dt.datetime) -> Order:
        paid = self.method is PayMethod.BALANCE
        return Order(
            id=0, org_id=org_id, currency=self.currency, kind=self.kind, method=self.method,
            status=OrderStatus.PAID if paid else OrderStatus.AWAITING_TRANSFER, payer=self.payer,
            paying_org_id=self.paying_org_id, partner_org_id=self.partner_org_id, as_partner=self.as_partner,
            placed_by=user_id, total=self.total, cashback=self.cashback, created_at=now,
            paid_at=now if paid else None, lines=tuple(q.line for q in self.lines),
        )


class PriceChangedError(ValidationError):
    """The price computed at confirmation differs from the one shown (the terms changed)."""

    def __init__(self, quote: Quote) -> None:
        super().__init__(N_("The price changed since it was shown (the partnership's terms changed): "
                            "check the new price and confirm again."))
        self.quote = quote


def partnership_of(terms: ClientTerms | None, product_code: str) -> Partnership | None:
    """The pricing module's view of the partnership a client is managed under."""
    if terms is None:
        return None
    return Partnership(
        access=Access.FULL if terms.full else Access.LIMITED,
        payer=Payer.PARTNER if terms.payer_is_partner else Payer.CLIENT,
        manages_product=terms.manages(product_code),
    )


class OrderService:
    def __init__(
        self, *, orders: OrderStore, ledger: LedgerStore, access: BillingAccess, catalogue: Catalogue,
        clock: Clock, unit: Callable[[], AbstractContextManager[None]], max_quantity: int,
        terms: Callable[[], TermsHook | None] = lambda: None, page_size: int = 50,
    ) -> None:
        self.orders, self.ledger, self.access, self.catalogue = orders, ledger, access, catalogue
        self.clock, self.unit, self.max_quantity, self.page_size = clock, unit, max_quantity, page_size
        # The partners capability's hook, read at each call (None when it is not installed).
        self.terms = terms

    def products(self) -> list[str]:
        return sorted(self.catalogue.products)

    # -- pricing -------------------------------------------------------------------------------

    def _parse(self, request: OrderRequest) -> tuple[str, int, Currency, PayMethod, OrderKind]:
        code = (request.product or "").strip()[:40]
        if code not in self.catalogue.products:
            raise ValidationError(N_("Choose a product from the list."), field="product")
        quantity = parse_quantity(request.quantity, maximum=self.max_quantity)
        try:
            currency = Currency((request.currency or "").strip())
        except ValueError as exc:
            raise ValidationError(N_("Choose CHF or EUR."), field="currency") from exc
        try:
            method = PayMethod((request.method or "").strip())
        except ValueError as exc:
            raise ValidationError(N_("Choose how to pay: bank transfer or prepaid balance."), field="method") from exc
        try:
            kind = OrderKind((request.kind or OrderKind.ORDER.value).strip())
        except ValueError as exc:
            raise ValidationError(N_("Choose a new order or a renewal."), field="kind") from exc
        return code, quantity, currency, method, kind

    def quote(self, caller: Caller, request: OrderRequest) -> Quote:
        """The price of the order for this caller, under the partnership read now. Changes nothing."""
        code, quantity, currency, method, kind = self._parse(request)
        hook = self.terms()
        terms = hook(caller.org.id, self.clock.now()) if hook is not None else None
        actor = Actor.PARTNER if caller.as_partner else Actor.CLIENT
        try:
            settled = settle(self.catalogue, code, quantity, currency, actor=actor,
                             partnership=partnership_of(terms, code))
            steps = price(self.catalogue, code, quantity, currency, partner=settled.rule == "partner_discount")
        except PriceError as exc:
            raise ValidationError(N_("This product is not sold in %(currency)s."), field="currency",
                                  currency=currency.value) from exc
        assert steps.total == settled.paid  # noqa: S101 - the pricing module's own invariant
        cashback = settled.cashback if terms is not None else ZERO
        line = OrderLine(
            product_code=code, quantity=quantity, unit_price=self.catalogue.product(code).prices[currency],
            public=steps.public, partner_discount=steps.partner_discount, degressive_rate=steps.degressive_rate,
            total=settled.paid, cashback=cashback, rule=settled.rule,
        )
        paying = terms.partner_org_id if terms is not None and settled.payer is Payer.PARTNER else caller.org.id
        own = paying == caller.org.id or (caller.delegation is not None and caller.delegation.partner_org_id == paying)
        balance = self.ledger.balance(paying, currency) if method is PayMethod.BALANCE and own else None
        return Quote(
            currency=currency, method=method, kind=kind, lines=(QuotedLine(line, steps),), total=settled.paid,
            cashback=cashback, payer=settled.payer, paying_org_id=paying,
            partner_org_id=terms.partner_org_id if terms is not None else None, as_partner=caller.as_partner,
            balance=balance,
        )

    # -- placing -------------------------------------------------------------------------------

    def place(self, caller: Caller, request: OrderRequest, shown_total: str | None, ctx: RequestContext) -> Order:
        """Place the order at the price shown (`shown_total`); PriceChangedError, carrying the new
        quote, when the price is no longer that. Paid from the balance: the debit, the order and
        the partner's cashback are written in one transaction under the accounts' locks, or
        nothing is (ValidationError when the balance does not cover it)."""
        quote = self.quote(caller, request)
        if shown_total is None or shown_total.strip() != f"{quote.total:.2f}":
            raise PriceChangedError(quote)
        now = self.clock.now()
        try:
            with self.unit():
                if quote.method is PayMethod.BALANCE:
                    self.ledger.lock(self._accounts(quote.paying_org_id, quote.partner_org_id, quote), now)
                order = self.orders.add(quote.draft(caller.org.id, caller.user.id, now))
                if order.status is OrderStatus.PAID:
                    self._debit(order, caller.user.id, now)
                self.access.record(EventTag.MONEY_ORDER_PLACED, ctx, caller, _details(order))
                if order.status is OrderStatus.PAID:
                    self._cashback(order, caller.user.id, ctx, now)
        except BalanceTooLowError as exc:
            raise ValidationError(N_("The prepaid balance does not cover this order; pay it by bank transfer."),
                                  field="method") from exc
        return order

    def _accounts(self, paying: int, partner: int | None, quote: Quote | Order) -> list[tuple[int, Currency]]:
        accounts = [(paying, quote.currency)]
        if partner is not None and quote.cashback > 0:
            accounts.append((partner, quote.currency))
        return accounts

    def _debit(self, order: Order, actor_id: int | None, now: dt.datetime) -> None:
        if order.total > 0:
            self.ledger.append(
                org_id=order.paying_org_id, currency=order.currency, kind=EntryKind.DEBIT, amount=order.total,
                reason=Reason.ORDER_PAYMENT, reference=f"order:{order.id}", note=None, actor_id=actor_id, now=now,
            )

    def _cashback(self, order: Order, actor_id: int | None, ctx: RequestContext, now: dt.datetime) -> None:
        """The partner's cashback for a paid order, credited to its prepaid account."""
        if order.partner_org_id is None or order.cashback <= 0:
            return
        self.ledger.append(
            org_id=order.partner_org_id, currency=order.currency, kind=EntryKind.CREDIT, amount=order.cashback,
            reason=Reason.CASHBACK, reference=f"order:{order.id}", note=None, actor_id=actor_id, now=now,
        )
        self.access.record_operator(
            EventTag.MONEY_CASHBACK_CREDITED, ctx, order.partner_org_id, actor_id=actor_id,
            details={"order_id": order.id, "client_org_id": order.org_id, "amount": f"{order.cashback:.2f}",
                     "currency": order.currency.value},
        )

    # -- reading -------------------------------------------------------------------------------

    def page(self, caller: Caller, page: int = 1) -> tuple[list[Order], int]:
        page = max(1, min(page, 1_000_000))
        return self.orders.of_org(caller.org.id, offset=(page - 1) * self.page_size, limit=self.page_size)

    def order(self, caller: Caller, order_id: int) -> Order:
        """One of the organisation's orders; NotFoundError for any other id."""
        found = self.orders.get(order_id)
        if found is None or found.org_id != caller.org.id:
            raise NotFoundError("no such order")
        return found

    # -- cancelling ------------------------------------------------------------------------------

    def cancel(self, caller: Caller, order_id: int, transfer_sent: bool, ctx: RequestContext) -> Order:
        """Cancel an order awaiting its transfer. When the person says the transfer is already on
        its way (`transfer_sent`), the amount is credited to the prepaid balance once an operator
        sees it arrive (`idp money order-cancel --refund-to-balance`), never on their word alone."""
        order = self.order(caller, order_id)
        if order.status is not OrderStatus.AWAITING_TRANSFER:
            raise ValidationError(N_("Only an order awaiting its bank transfer can be cancelled."))
        now = self.clock.now()
        with self.unit():
            if not self.orders.change(order.id, was=OrderStatus.AWAITING_TRANSFER, status=OrderStatus.CANCELLED,
                                      cancelled_at=now, transfer_sent=transfer_sent):
                raise ValidationError(CHANGED_MEANWHILE)
            self.access.record(EventTag.MONEY_ORDER_CANCELLED, ctx, caller,
                               _details(order) | {"transfer_sent": transfer_sent})
        return dataclasses.replace(order, status=OrderStatus.CANCELLED, cancelled_at=now, transfer_sent=transfer_sent)

    # -- the operator's acts (idp money ...) ------------------------------------------------------

    def with_status(self, status: OrderStatus | None) -> list[Order]:
        return self.orders.with_status(status)

    def _get(self, order_id: int) -> Order:
        found = self.orders.get(order_id)
        if found is None:
            raise NotFoundError(f"no order {order_id}")
        return found

    def mark_paid(self, order_id: int, ctx: RequestContext) -> Order:
        """The bank transfer arrived: the order is paid, and the partner's cashback credited."""
        order = self._get(order_id)
        if order.status is OrderStatus.PAID:
            raise ConflictError(f"order {order_id} is already paid")
        if order.status is OrderStatus.CANCELLED:
            raise ConflictError(f"order {order_id} is cancelled: if its transfer arrived, credit it to the "
                                "balance with `idp money order-cancel --refund-to-balance`")
        now = self.clock.now()
        with self.unit():
            self.ledger.lock(self._accounts(order.paying_org_id, order.partner_org_id, order), now)
            if not self.orders.change(order.id, was=OrderStatus.AWAITING_TRANSFER, status=OrderStatus.PAID,
                                      paid_at=now):
                raise ConflictError(f"order {order_id} changed meanwhile")
            paid = dataclasses.replace(order, status=OrderStatus.PAID, paid_at=now)
            self.access.record_operator(EventTag.MONEY_ORDER_PAID, ctx, order.org_id, _details(paid))
            self._cashback(paid, None, ctx, now)
        return paid

    def operator_cancel(self, order_id: int, refund_to_balance: bool, ctx: RequestContext) -> Order:
        """Cancel an order awaiting its transfer; with `refund_to_balance` (the money arrived),
        credit its amount to the paying organisation's balance. A cancelled order whose transfer
        arrives later is credited the same way, once."""
        order = self._get(order_id)
        now = self.clock.now()
        if order.status is OrderStatus.PAID:
            raise ConflictError(f"order {order_id} is paid; paid orders are not cancelled")
        if order.status is OrderStatus.CANCELLED and not refund_to_balance:
            raise ConflictError(f"order {order_id} is already cancelled")
        with self.unit():
            if order.status is OrderStatus.AWAITING_TRANSFER:
                if not self.orders.change(order.id, was=OrderStatus.AWAITING_TRANSFER, status=OrderStatus.CANCELLED,
                                          cancelled_at=now, transfer_sent=refund_to_balance):
                    raise ConflictError(f"order {order_id} changed meanwhile")
                order = dataclasses.replace(order, status=OrderStatus.CANCELLED, cancelled_at=now)
                self.access.record_operator(EventTag.MONEY_ORDER_CANCELLED, ctx, order.org_id,
                                            _details(order) | {"credited": refund_to_balance})
            elif refund_to_balance:
                self.access.record_operator(EventTag.MONEY_ORDER_CREDITED, ctx, order.org_id, _details(order))
            if refund_to_balance:
                if not self.orders.mark_credited(order.id, now):
                    raise ConflictError(f"order {order_id}'s transfer is already credited to the balance")
                if order.total > 0:
                    self.ledger.append(
                        org_id=order.paying_org_id, currency=order.currency, kind=EntryKind.CREDIT,
                        amount=order.total, reason=Reason.CANCELLATION_CREDIT, reference=f"order:{order.id}",
                        note=None, actor_id=None, now=now,
                    )
                order = dataclasses.replace(order, credited_at=now)
        return order


def _details(order: Order) -> dict[str, object]:
    return {
        "order_id": order.id, "total": f"{order.total:.2f}", "currency": order.currency.value,
        "method": order.method.value, "payer": order.payer.value, "kind": order.kind.value,
        "lines": [f"{line.quantity} x {line.product_code}" for line in order.lines],
    }
