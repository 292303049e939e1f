"""Order pages: who may order, the price shown before confirmation, paying from the balance,
cancelling (with and without a transfer on its way), the operator's commands, both activity logs
when a partner acts, and bad input on every form."""

from __future__ import annotations

import pytest

from idp.money.model import OrderStatus
from tests.conftest import csrf_of
from tests.conftest import events
from tests.money.conftest import ALL_RIGHTS
from tests.money.conftest import D
from tests.money.conftest import balance
from tests.money.conftest import credit
from tests.money.conftest import money
from tests.money.conftest import order_form
from tests.money.conftest import order_id
from tests.money.conftest import sign_in

QUERY = {"product": "web_hosting", "quantity": "35", "currency": "CHF", "method": "transfer", "kind": "order"}


def _order(services, oid):
    return money(services).orders.orders.get(oid)


def test_the_form_shows_the_price_step_by_step_before_anything_is_ordered(client, services, cast, partners):
    partners.manage(cast.acme, cast.agency, full=True, payer_is_partner=True, rights=ALL_RIGHTS,
                    person=cast.people["partner"])
    sign_in(client, cast.people["partner"])
    html = client.get("/orgs/acme/billing/orders/new", query_string=QUERY).get_data(as_text=True)
    # 35 x CHF 9.92 = 347.20; the partner's 20 % off: 277.76; 25 % for 35 units: 208.32.
    for shown in ("CHF347.20", "20 % off: CHF277.76", "25 % off: CHF208.32", "Confirm the order for CHF208.32",
                  "The partner's payment means"):
        assert shown in html.replace("\xa0", ""), shown
    assert money(services).orders.orders.with_status(None) == []
    # The client's own member sees the public price (and no cashback line).
    client.get("/logout")
    sign_in(client, cast.people["admin"])
    html = client.get("/orgs/acme/billing/orders/new", query_string=QUERY).get_data(as_text=True)
    assert "Confirm the order for CHF260.40" in html.replace("\xa0", "") and "Partner discount" not in html
    assert "Your cashback" not in html


def test_a_partner_acting_for_the_client_sees_its_cashback_and_both_logs_record_the_order(
    client, services, cast, partners,
):
    partners.manage(cast.acme, cast.agency, full=True, rights=ALL_RIGHTS, person=cast.people["partner"])
    sign_in(client, cast.people["partner"])
    html = client.get("/orgs/acme/billing/orders/new", query_string=QUERY).get_data(as_text=True)
    assert "Your cashback" in html and "CHF52.08" in html.replace("\xa0", "")
    assert "You act for Acme as its partner." in html
    oid = order_id(order_form(client, quantity="35"))
    placed = events(services, "money:order:placed")
    assert sorted(e["org_id"] for e in placed) == sorted([cast.acme.id, cast.agency.id])
    assert {e["actor_id"] for e in placed} == {cast.people["partner"].id}
    assert all(e["details"]["order_id"] == oid for e in placed)
    [client_side] = [e for e in placed if e["org_id"] == cast.acme.id]
    assert client_side["details"]["partner_org_id"] == cast.agency.id and client_side["product"] == "billing"
    assert _order(services, oid).as_partner


@pytest.mark.parametrize("who", ["legal", "admin"])
def test_legal_representatives_and_administrators_order(client, services, cast, who):
    sign_in(client, cast.people[who])
    oid = order_id(order_form(client, product="domain_name", quantity="2", currency="EUR"))
    placed = _order(services, oid)
    assert (placed.total, placed.currency.value, placed.placed_by) == (D("22.00"), "EUR", cast.people[who].id)
    page = client.get(f"/orgs/acme/billing/orders/{oid}").get_data(as_text=True)
    assert placed.reference in page and "How to pay" in page
    [event] = events(services, "money:order:placed")
    assert event["org_id"] == cast.acme.id and event["details"]["total"] == "22.00"


def test_a_collaborator_is_refused_and_strangers_find_nothing(client, services, cast, partners):
    sign_in(client, cast.people["member"])
    for path in ("/orgs/acme/billing", "/orgs/acme/billing/orders/new", "/orgs/acme/billing/ledger"):
        assert client.get(path).status_code == 403
    client.get("/logout")
    sign_in(client, cast.people["outsider"])
    for path in ("/orgs/acme/billing", "/orgs/acme/billing/orders", "/orgs/nope/billing"):
        assert client.get(path).status_code == 404
    # A partner without the billing right, or once the partnership ended, finds nothing either.
    client.get("/logout")
    partners.manage(cast.acme, cast.agency, full=False, rights=frozenset(), person=cast.people["partner"])
    sign_in(client, cast.people["partner"])
    assert client.get("/orgs/acme/billing").status_code == 404
    partners.manage(cast.acme, cast.agency, full=True, rights=ALL_RIGHTS, person=cast.people["partner"])
    assert client.get("/orgs/acme/billing").status_code == 200
    partners.end(cast.acme)
    assert client.get("/orgs/acme/billing").status_code == 404


def test_the_link_from_the_organisation_page(client, cast):
    sign_in(client, cast.people["admin"])
    assert "/orgs/acme/billing" in client.get("/orgs/acme").get_data(as_text=True)
    client.get("/logout")
    sign_in(client, cast.people["member"])
    assert "/orgs/acme/billing" not in client.get("/orgs/acme").get_data(as_text=True)


def test_paying_from_the_balance_debits_it_at_once_or_refuses(client, services, cast):
    credit(services, cast.acme, "20.00")
    sign_in(client, cast.people["legal"])
    oid = order_id(order_form(client, quantity="2", method="balance"))
    assert _order(services, oid).status is OrderStatus.PAID and balance(services, cast.acme) == D("0.16")
    response = order_form(client, quantity="1", method="balance")
    assert response.status_code == 400 and "does not cover" in response.get_data(as_text=True)
    assert balance(services, cast.acme) == D("0.16") and len(money(services).orders.with_status(None)) == 1
    entries, _total = money(services).ledger.ledger.entries(cast.acme.id)
    assert entries[0].reason.value == "order_payment" and entries[0].reference == f"order:{oid}"


def test_cancelling_an_unpaid_order_without_a_transfer_just_cancels(client, services, cast):
    sign_in(client, cast.people["legal"])
    oid = order_id(order_form(client))
    page = client.get("/orgs/acme/billing/orders")
    response = client.post(f"/orgs/acme/billing/orders/{oid}/cancel",
                           data={"csrf_token": csrf_of(page.get_data(as_text=True))})
    assert response.status_code == 302
    assert _order(services, oid).status is OrderStatus.CANCELLED and balance(services, cast.acme) == 0
    [cancelled] = events(services, "money:order:cancelled")
    assert cancelled["details"]["transfer_sent"] is False
    # Cancelled once: a second time is refused, and nothing changes.
    again = client.post(f"/orgs/acme/billing/orders/{oid}/cancel",
                        data={"csrf_token": csrf_of(page.get_data(as_text=True))})
    assert again.status_code == 409 and len(events(services, "money:order:cancelled")) == 1


def test_a_transfer_already_sent_is_credited_when_the_operator_sees_it_arrive(client, services, cast, operator):
    sign_in(client, cast.people["legal"])
    oid = order_id(order_form(client, quantity="3"))  # CHF 29.76
    page = client.get(f"/orgs/acme/billing/orders/{oid}")
    response = client.post(f"/orgs/acme/billing/orders/{oid}/cancel",
                           data={"csrf_token": csrf_of(page.get_data(as_text=True)), "transfer_sent": "y"})
    assert response.status_code == 302
    # On the person's word alone, nothing is credited.
    assert balance(services, cast.acme) == 0 and _order(services, oid).transfer_sent
    assert "credited when the transfer arrives" in client.get("/orgs/acme/billing/orders").get_data(as_text=True)
    result = operator("order-cancel", str(oid), "--refund-to-balance")
    assert result.exit_code == 0, result.output
    assert balance(services, cast.acme) == D("29.76")
    assert operator("order-cancel", str(oid), "--refund-to-balance").exit_code == 2  # once only
    assert balance(services, cast.acme) == D("29.76")
    # The balance pays a new order.
    paid = order_id(order_form(client, quantity="3", method="balance"))
    assert _order(services, paid).status is OrderStatus.PAID and balance(services, cast.acme) == 0
    assert len(events(services, "money:order:credited")) == 1


def test_the_operator_cancels_an_order_whose_transfer_arrived(client, services, cast, operator):
    sign_in(client, cast.people["legal"])
    oid = order_id(order_form(client, product="mail_hosting", quantity="10"))  # 35.00 less 10 %: 31.50
    result = operator("order-cancel", str(oid), "--refund-to-balance")
    assert result.exit_code == 0 and "credited" in result.output
    assert balance(services, cast.acme) == D("31.50")
    [entry], _total = money(services).ledger.ledger.entries(cast.acme.id)
    assert (entry.reason.value, entry.reference) == ("cancellation_credit", f"order:{oid}")
    plain = order_id(order_form(client))
    assert operator("order-cancel", str(plain)).exit_code == 0 and balance(services, cast.acme) == D("31.50")


def test_the_operators_commands_refuse_what_cannot_be(client, services, cast, operator):
    sign_in(client, cast.people["legal"])
    oid = order_id(order_form(client))
    assert operator("order-paid", "999999").exit_code == 2
    assert operator("order-paid", "0").exit_code == 2
    assert operator("order-paid", "abc").exit_code == 2
    assert operator("order-paid", str(oid)).exit_code == 0
    twice = operator("order-paid", str(oid))
    assert twice.exit_code == 2 and "already paid" in twice.output
    assert operator("order-cancel", str(oid)).exit_code == 2  # paid orders are not cancelled
    listed = operator("orders", "--status", "paid", "--json")
    assert listed.exit_code == 0 and f'"id": {oid}' in listed.output
    assert len(events(services, "money:order:paid")) == 1


def test_another_organisations_order_is_not_found(client, services, cast):
    sign_in(client, cast.people["partner"])  # legal representative of the agency
    theirs = order_id(order_form(client, slug="webagency"))
    client.get("/logout")
    sign_in(client, cast.people["legal"])
    assert client.get(f"/orgs/acme/billing/orders/{theirs}").status_code == 404
    token = csrf_of(client.get("/orgs/").get_data(as_text=True))
    assert client.post(f"/orgs/acme/billing/orders/{theirs}/cancel", data={"csrf_token": token}).status_code == 404
    assert client.post("/orgs/acme/billing/orders/99999/cancel", data={"csrf_token": token}).status_code == 404
    assert _order(services, theirs).status is OrderStatus.AWAITING_TRANSFER


@pytest.mark.parametrize(("field", "value", "message"), [
    ("product", "", "Choose a product"),
    ("product", "gold_bars", "Choose a product"),
    ("product", "x" * 5000, "Choose a product"),
    ("quantity", "", "Enter a quantity"),
    ("quantity", "0", "1 or more"),
    ("quantity", "-2", "1 or more"),
    ("quantity", "1.5", "whole number"),
    ("quantity", "three", "whole number"),
    ("quantity", "10001", "10000 at most"),
    ("quantity", "9" * 400, "at most"),
    ("quantity", "1e3", "whole number"),
    ("currency", "USD", "CHF or EUR"),
    ("currency", "", "CHF or EUR"),
    ("method", "cheque", "how to pay"),
    ("kind", "gift", "renewal"),
])
def test_bad_input_to_the_order_form_is_said(client, services, cast, field, value, message):
    sign_in(client, cast.people["legal"])
    response = client.get("/orgs/acme/billing/orders/new", query_string=QUERY | {field: value})
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    # The same sent to the confirmation: refused, nothing ordered.
    token = csrf_of(client.get("/orgs/").get_data(as_text=True))
    posted = client.post("/orgs/acme/billing/orders/new", data=QUERY | {field: value, "csrf_token": token,
                                                                        "total": "260.40"})
    assert posted.status_code == 400 and message in posted.get_data(as_text=True)
    assert money(services).orders.with_status(None) == []


@pytest.mark.parametrize("total", ["", "0.01", "260.4", "-260.40", "260.40; DROP TABLE", "9" * 500])
def test_a_confirmation_with_another_total_shows_the_price_again(client, services, cast, total):
    sign_in(client, cast.people["legal"])
    token = csrf_of(client.get("/orgs/").get_data(as_text=True))
    response = client.post("/orgs/acme/billing/orders/new", data=QUERY | {"csrf_token": token, "total": total})
    assert response.status_code == 409 and "Confirm the order for" in response.get_data(as_text=True)
    assert money(services).orders.with_status(None) == []


def test_a_wrong_csrf_token_orders_and_cancels_nothing(client, services, cast):
    sign_in(client, cast.people["legal"])
    oid = order_id(order_form(client))
    response = client.post("/orgs/acme/billing/orders/new", data=QUERY | {"csrf_token": "forged", "total": "260.40"})
    assert response.status_code == 400 and "expired" in response.get_data(as_text=True)
    response = client.post(f"/orgs/acme/billing/orders/{oid}/cancel", data={"csrf_token": "forged"})
    assert response.status_code == 400
    assert [o.status for o in money(services).orders.with_status(None)] == [OrderStatus.AWAITING_TRANSFER]
    assert client.get(f"/orgs/acme/billing/orders/{oid}/cancel").status_code == 405  # no change on GET
