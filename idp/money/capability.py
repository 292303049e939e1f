"""Money's declaration: its composition root (the only place that builds its stores)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from idp.account.org_rules import OrgAct
from idp.capability import DELEGATED_ACCESS
from idp.capability import PARTNERSHIP_TERMS
from idp.capability import Capability
from idp.errors import N_
from idp.money import MONEY
from idp.money import Money
from idp.money.access import BillingAccess
from idp.money.cli import money_group
from idp.money.ledger import LedgerService
from idp.money.orders import OrderService
from idp.money.payouts import PayoutService
from idp.money.pricing import catalogue_from
from idp.money.views import amount_filter
from idp.money.views import bp as pages_bp
from idp.money.views_orders import bp as orders_bp
from idp.money.views_payouts import bp as payouts_bp
from idp.stores.money import SqlLedgerStore
from idp.stores.money_orders import SqlOrderStore
from idp.stores.money_orders import SqlPayoutStore
from idp.stores.orgs import SqlOrganisationStore
from idp.web.nav import OrgPage

if TYPE_CHECKING:
    from idp.container import Container


def build(container: Container) -> Money:
    settings, db = container.settings, container.db
    limits = settings.money
    # The partners capability's hooks are read at each call: None while it is not installed
    # (no partnership, no delegation), and tests put doubles in their slots.
    access = BillingAccess(SqlOrganisationStore(db), container.events, container.clock,
                           delegated=lambda: container.find(DELEGATED_ACCESS))
    ledger = SqlLedgerStore(db)
    return Money(
        access=access,
        orders=OrderService(
            orders=SqlOrderStore(db), ledger=ledger, access=access, clock=container.clock, unit=db.unit,
            catalogue=catalogue_from(settings.pricing.partner_discount, settings.pricing.products),
            max_quantity=limits.max_quantity, terms=lambda: container.find(PARTNERSHIP_TERMS),
            page_size=limits.page_size,
        ),
        ledger=LedgerService(ledger=ledger, access=access, clock=container.clock, unit=db.unit,
                             max_amount=limits.max_amount, page_size=limits.page_size,
                             export_limit=limits.export_limit),
        payouts=PayoutService(payouts=SqlPayoutStore(db), ledger=ledger, access=access, box=container.secrets,
                              mail=container.mail, clock=container.clock, unit=db.unit,
                              max_amount=limits.max_amount),
    )


# Linked from the organisation's page to the members who may see its billing.
ORG_PAGES = (OrgPage(N_("Billing and prepaid balance"), "money.billing", OrgAct.BILLING, order=5),)


CAPABILITY = Capability(
    name="money", slot=MONEY, build=build,
    blueprints=(pages_bp, orders_bp, payouts_bp),
    template_filters={"amount": amount_filter},
    commands=(money_group,),
    org_pages=lambda _services: ORG_PAGES,
    tables="idp.stores.tables_money", migrations="money",
)
