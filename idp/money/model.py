"""The money records as services and stores pass them: orders and their lines, ledger entries,
payouts. Amounts are `decimal.Decimal` with two places (the stores keep integer cents)."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from decimal import Decimal

from idp.errors import IdpError
from idp.money.pricing import Currency
from idp.money.pricing import Payer


class OrderStatus(enum.StrEnum):
    AWAITING_TRANSFER = "awaiting_transfer"
    PAID = "paid"
    CANCELLED = "cancelled"


class OrderKind(enum.StrEnum):
    ORDER = "order"
    RENEWAL = "renewal"


class PayMethod(enum.StrEnum):
    TRANSFER = "transfer"  # a bank transfer; an operator marks the order paid when it arrives
    BALANCE = "balance"  # the prepaid balance, debited at once


class EntryKind(enum.StrEnum):
    CREDIT = "credit"
    DEBIT = "debit"


class Reason(enum.StrEnum):
    """Why a ledger entry was written."""

    CASHBACK = "cashback"  # credit to a partner when its client's order is paid
    CANCELLATION_CREDIT = "cancellation_credit"  # a cancelled order's transfer, kept as balance
    ORDER_PAYMENT = "order_payment"  # debit: an order paid from the balance
    PAYOUT = "payout"  # debit when a payout is requested; credit back when it is rejected or withdrawn
    ADJUSTMENT = "adjustment"  # an operator's correction (`idp money adjust`)


class PayoutState(enum.StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"  # by the organisation, before an operator decided
    PAID = "paid"


class PayoutMethod(enum.StrEnum):
    BANK = "bank"  # an IBAN
    PAYPAL = "paypal"  # a PayPal address (an e-mail)


@dataclass(frozen=True)
class OrderLine:
    """One line as it was priced and settled when the order was placed."""

    product_code: str
    quantity: int
    unit_price: Decimal  # public unit price
    public: Decimal  # unit price x quantity
    partner_discount: Decimal  # percent applied (0 unless the partner's price applied)
    degressive_rate: Decimal  # percent applied
    total: Decimal  # what the line costs
    cashback: Decimal  # what the line gives the partner when the order is paid
    rule: str  # "public", "partner_discount" or "cashback" (idp.money.pricing.Settlement.rule)


@dataclass(frozen=True)
class Order:
    id: int
    org_id: int  # the client organisation the order is for
    currency: Currency
    kind: OrderKind
    method: PayMethod
    status: OrderStatus
    payer: Payer  # whose payment means pay it
    paying_org_id: int  # the organisation whose balance pays (or is credited back)
    partner_org_id: int | None  # the partnership the client was managed under, if any
    as_partner: bool  # placed by a partner person acting for the client
    placed_by: int | None  # the person (None: an operator)
    total: Decimal
    cashback: Decimal
    created_at: dt.datetime
    paid_at: dt.datetime | None = None
    cancelled_at: dt.datetime | None = None
    # The person said, cancelling, that their transfer is already on its way: the amount is
    # credited to the balance when an operator sees it arrive.
    transfer_sent: bool = False
    credited_at: dt.datetime | None = None
    lines: tuple[OrderLine, ...] = ()

    @property
    def reference(self) -> str:
        """What the bank transfer quotes, so the operator can tell which order it pays."""
        return f"ORDER-{self.id:06d}"


@dataclass(frozen=True)
class LedgerEntry:
    id: int
    org_id: int
    currency: Currency
    kind: EntryKind
    amount: Decimal  # always positive; `kind` says which way
    reason: Reason
    reference: str | None  # "order:12", "payout:3"
    note: str | None  # an operator's words (adjustments, rejections)
    actor_id: int | None  # who caused it (None: an operator, from the command line)
    created_at: dt.datetime

    @property
    def signed(self) -> Decimal:
        return self.amount if self.kind is EntryKind.CREDIT else -self.amount


@dataclass(frozen=True)
class Payout:
    id: int
    org_id: int
    currency: Currency
    amount: Decimal
    method: PayoutMethod
    destination_hint: str  # masked: "CH93 … 2957", "a…@example.com"
    state: PayoutState
    requested_by: int | None
    created_at: dt.datetime
    decided_at: dt.datetime | None = None
    paid_at: dt.datetime | None = None
    reason: str | None = None  # an operator's reason for a rejection


@dataclass(frozen=True)
class StoredPayout:
    """A payout with its destination still encrypted (only the operator's commands open it)."""

    payout: Payout
    destination_encrypted: str


class BalanceTooLowError(IdpError):
    """A debit larger than the account's balance (raised by the ledger store under its lock)."""

    status = 409
    code = "balance_too_low"
