"""Money tied to organisations and partners: partner pricing and cashback, orders, the prepaid
ledger and payouts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from idp.capability import Slot

if TYPE_CHECKING:
    from idp.money.access import BillingAccess
    from idp.money.ledger import LedgerService
    from idp.money.orders import OrderService
    from idp.money.payouts import PayoutService


@dataclass(frozen=True)
class Money:
    """The money services (built in idp.money.capability)."""

    access: BillingAccess
    orders: OrderService
    ledger: LedgerService
    payouts: PayoutService


MONEY: Slot[Money] = Slot("money")
