"""Every case of docs/money.md's discount-or-cashback table, end to end: the order placed on the
pages (by a member of the client, or by the partner's person acting for it), paid (by transfer,
marked by the operator, or from the balance), and what the ledgers then hold."""

from __future__ import annotations

import pytest

from idp.capability import PartnerRight
from idp.money.model import OrderStatus
from tests.conftest import events
from tests.money.conftest import ALL_RIGHTS
from tests.money.conftest import D
from tests.money.conftest import balance
from tests.money.conftest import credit
from tests.money.conftest import money
from tests.money.conftest import order_form
from tests.money.conftest import order_id
from tests.money.conftest import sign_in

# 35 web hostings in CHF: public price 260.40 (the 25 % tier), the partner's price 208.32.
PUBLIC, PARTNER_PRICE = D("260.40"), D("208.32")
CASHBACK = PUBLIC - PARTNER_PRICE  # 52.08
LIMITED_PRODUCTS = frozenset({PartnerRight.PRODUCTS, PartnerRight.BILLING})
LIMITED_NO_PRODUCTS = frozenset({PartnerRight.BILLING})

# (partnership: None or (full, payer_is_partner, rights), who orders, price paid, cashback, payer)
CASES = [
    pytest.param(None, "client", PUBLIC, D(0), "client", id="none"),
    pytest.param((True, False, ALL_RIGHTS), "client", PUBLIC, CASHBACK, "client", id="full-client-means-client"),
    pytest.param((True, False, ALL_RIGHTS), "partner", PUBLIC, CASHBACK, "client", id="full-client-means-partner"),
    pytest.param((True, True, ALL_RIGHTS), "client", PUBLIC, CASHBACK, "partner", id="full-partner-means-client"),
    pytest.param((True, True, ALL_RIGHTS), "partner", PARTNER_PRICE, D(0), "partner",
                 id="full-partner-means-partner"),
    pytest.param((False, False, LIMITED_PRODUCTS), "client", PUBLIC, CASHBACK, "client",
                 id="limited-client-means-managed"),
    pytest.param((False, True, LIMITED_PRODUCTS), "client", PUBLIC, CASHBACK, "partner",
                 id="limited-partner-means-managed"),
    pytest.param((False, False, LIMITED_NO_PRODUCTS), "client", PUBLIC, D(0), "client",
                 id="limited-client-means-not-managed"),
    pytest.param((False, True, LIMITED_NO_PRODUCTS), "client", PUBLIC, D(0), "partner",
                 id="limited-partner-means-not-managed"),
    pytest.param((False, False, LIMITED_PRODUCTS), "partner", PUBLIC, D(0), "client", id="limited-client-means-partner"),
    pytest.param((False, True, LIMITED_PRODUCTS), "partner", PUBLIC, D(0), "partner",
                 id="limited-partner-means-partner"),
]


def _arrange(services, partners, cast, partnership):
    if partnership is not None:
        full, payer_is_partner, rights = partnership
        partners.manage(cast.acme, cast.agency, full=full, payer_is_partner=payer_is_partner, rights=rights,
                        person=cast.people["partner"])


@pytest.mark.parametrize(("partnership", "who", "paid", "cashback", "payer"), CASES)
def test_an_order_by_transfer_is_settled_as_the_table_says(
    client, services, partners, cast, operator, partnership, who, paid, cashback, payer,
):
    _arrange(services, partners, cast, partnership)
    sign_in(client, cast.people["legal" if who == "client" else "partner"])
    placed = money(services).orders.orders.get(order_id(order_form(client, quantity="35")))
    assert (placed.total, placed.cashback, placed.payer.value) == (paid, cashback, payer)
    assert placed.status is OrderStatus.AWAITING_TRANSFER and placed.as_partner is (who == "partner")
    [line] = placed.lines
    assert (line.public, line.total, line.degressive_rate) == (D("347.20"), paid, D(25))
    assert line.partner_discount == (D(20) if paid == PARTNER_PRICE else D(0))
    # Placed, not paid: no cashback yet.
    assert balance(services, cast.agency) == 0
    result = operator("order-paid", str(placed.id))
    assert result.exit_code == 0, result.output
    assert balance(services, cast.agency) == cashback
    assert balance(services, cast.acme) == 0
    paid_order = money(services).orders.orders.get(placed.id)
    assert paid_order.status is OrderStatus.PAID and paid_order.paid_at is not None
    credited = events(services, "money:cashback:credited")
    assert len(credited) == (1 if cashback else 0)
    if cashback:
        assert credited[0]["org_id"] == cast.agency.id and credited[0]["details"]["order_id"] == placed.id


@pytest.mark.parametrize(("partnership", "who", "paid", "cashback", "payer"), CASES)
def test_an_order_from_the_balance_is_settled_as_the_table_says(
    client, services, partners, cast, partnership, who, paid, cashback, payer,
):
    _arrange(services, partners, cast, partnership)
    paying = cast.agency if payer == "partner" else cast.acme
    credit(services, paying, "300.00")
    sign_in(client, cast.people["legal" if who == "client" else "partner"])
    placed = money(services).orders.orders.get(order_id(order_form(client, quantity="35", method="balance")))
    assert placed.status is OrderStatus.PAID and placed.total == paid
    assert placed.paying_org_id == paying.id
    # The payer's balance paid the order; the partner's cashback came at once (the order is paid).
    expected_agency = (D("300.00") - paid if paying is cast.agency else D(0)) + cashback
    assert balance(services, cast.agency) == expected_agency
    assert balance(services, cast.acme) == (D("300.00") - paid if paying is cast.acme else D(0))


def test_a_cancelled_order_gives_no_cashback(client, services, partners, cast, operator):
    partners.manage(cast.acme, cast.agency, full=True, rights=ALL_RIGHTS, person=cast.people["partner"])
    sign_in(client, cast.people["legal"])
    placed = order_id(order_form(client, quantity="35"))
    assert operator("order-cancel", str(placed), "--refund-to-balance").exit_code == 0
    assert balance(services, cast.agency) == 0
    assert balance(services, cast.acme) == PUBLIC  # the transfer arrived: kept as balance
    result = operator("order-paid", str(placed))
    assert result.exit_code == 2 and "cancelled" in result.output
    assert balance(services, cast.agency) == 0


def test_the_partnership_is_read_when_the_order_is_placed(client, services, partners, cast):
    """A price shown under a partnership that ends before the confirmation is not kept: the page
    shows the new price and asks again."""
    partners.manage(cast.acme, cast.agency, full=True, payer_is_partner=True, rights=ALL_RIGHTS,
                    person=cast.people["partner"])
    sign_in(client, cast.people["partner"])
    page = client.get("/orgs/acme/billing/orders/new", query_string={
        "product": "web_hosting", "quantity": "35", "currency": "CHF", "method": "transfer", "kind": "order"})
    assert "Partner discount" in page.get_data(as_text=True)
    partners.terms[cast.acme.id] = partners.terms[cast.acme.id].__class__(cast.agency.id, True, False, ALL_RIGHTS)
    from tests.conftest import csrf_of

    response = client.post("/orgs/acme/billing/orders/new", data={
        "csrf_token": csrf_of(page.get_data(as_text=True)), "product": "web_hosting", "quantity": "35",
        "currency": "CHF", "method": "transfer", "kind": "order", "total": "208.32"})
    assert response.status_code == 409 and "price changed" in response.get_data(as_text=True)
    assert 'value="260.40"' in response.get_data(as_text=True)
    assert money(services).orders.orders.with_status(None) == []
