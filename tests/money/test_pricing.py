"""Partner pricing: the worked example to the cent, the degressive tiers, the rounding rule, and
each case of discount or cashback by partnership kind, payer and who orders."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from idp.money.pricing import Access
from idp.money.pricing import Actor
from idp.money.pricing import Currency
from idp.money.pricing import Partnership
from idp.money.pricing import Payer
from idp.money.pricing import PriceError
from idp.money.pricing import catalogue_from
from idp.money.pricing import percent_off
from idp.money.pricing import price
from idp.money.pricing import settle
from idp.money.pricing import to_cent
from idp.settings import PricingSettings

D = Decimal
CATALOGUE = catalogue_from(PricingSettings().partner_discount, PricingSettings().products)


@pytest.mark.parametrize(("currency", "public", "discounted", "total"), [
    (Currency.CHF, "347.20", "277.76", "208.32"),
    (Currency.EUR, "201.25", "161.00", "120.75"),
])
def test_the_worked_example_comes_out_exactly(currency, public, discounted, total):
    made = price(CATALOGUE, "web_hosting", 35, currency, partner=True)
    assert (made.public, made.after_partner_discount, made.total) == (D(public), D(discounted), D(total))
    assert (made.partner_discount, made.degressive_rate) == (D(20), D(25))
    # 40 % in total: 20 % then 25 % of what remains.
    assert made.total == to_cent(made.public * D("0.60"))
    assert all(isinstance(v, Decimal) for v in (made.public, made.after_partner_discount, made.total))


@pytest.mark.parametrize(("quantity", "rate"), [(1, 0), (4, 0), (5, 10), (9, 10), (10, 15), (24, 15), (25, 25),
                                                (49, 25), (50, 30), (1000, 30)])
def test_the_degressive_rate_is_the_highest_tier_reached(quantity, rate):
    assert price(CATALOGUE, "web_hosting", quantity, Currency.CHF, partner=False).degressive_rate == D(rate)


def test_a_product_without_tiers_costs_the_same_per_unit_at_any_quantity():
    one = price(CATALOGUE, "domain_name", 1, Currency.CHF, partner=False).total
    many = price(CATALOGUE, "domain_name", 100, Currency.CHF, partner=False).total
    assert one == D("12.00") and many == D("1200.00")


def test_each_step_is_rounded_to_the_cent_half_away_from_zero():
    assert to_cent(D("0.005")) == D("0.01") and to_cent(D("0.0049")) == D("0.00")
    assert to_cent(D("-0.005")) == D("-0.01")
    # 3.50 x 7 = 24.50; 20 % off = 19.60; then a 15 % tier would give 16.66 exactly.
    assert percent_off(D("19.60"), D(15)) == D("16.66")
    # 9.92 x 3 = 29.76; 20 % off = 23.808 -> 23.81 (rounded before the next step).
    made = price(CATALOGUE, "web_hosting", 3, Currency.CHF, partner=True)
    assert made.after_partner_discount == D("23.81") and made.total == D("23.81")


@pytest.mark.parametrize(("code", "quantity", "currency"), [
    ("no_such_product", 1, Currency.CHF), ("web_hosting", 0, Currency.CHF), ("web_hosting", -3, Currency.EUR),
    ("web_hosting", 2.5, Currency.CHF), ("web_hosting", True, Currency.CHF),
])
def test_what_cannot_be_priced_is_refused(code, quantity, currency):
    with pytest.raises(PriceError):
        price(CATALOGUE, code, quantity, currency, partner=False)


PUBLIC, PARTNER = D("260.40"), D("208.32")  # 35 web hostings, CHF: public (25 % tier) and partner's price
CASHBACK = PUBLIC - PARTNER


@pytest.mark.parametrize(("partnership", "actor", "paid", "payer", "cashback", "rule"), [
    # No partnership: the public price.
    (None, Actor.CLIENT, PUBLIC, Payer.CLIENT, D(0), "public"),
    # Full access, the client's payment means: cashback whoever orders.
    (Partnership(Access.FULL, Payer.CLIENT), Actor.CLIENT, PUBLIC, Payer.CLIENT, CASHBACK, "cashback"),
    (Partnership(Access.FULL, Payer.CLIENT), Actor.PARTNER, PUBLIC, Payer.CLIENT, CASHBACK, "cashback"),
    # Full access, the partner's payment means: cashback when the client orders, the discount
    # when the partner orders with its own means.
    (Partnership(Access.FULL, Payer.PARTNER), Actor.CLIENT, PUBLIC, Payer.PARTNER, CASHBACK, "cashback"),
    (Partnership(Access.FULL, Payer.PARTNER), Actor.PARTNER, PARTNER, Payer.PARTNER, D(0), "partner_discount"),
    # Limited access: cashback when the client orders a product the partner manages, else none.
    (Partnership(Access.LIMITED, Payer.CLIENT, manages_product=True), Actor.CLIENT, PUBLIC, Payer.CLIENT,
     CASHBACK, "cashback"),
    (Partnership(Access.LIMITED, Payer.CLIENT, manages_product=False), Actor.CLIENT, PUBLIC, Payer.CLIENT,
     D(0), "public"),
    (Partnership(Access.LIMITED, Payer.CLIENT, manages_product=True), Actor.PARTNER, PUBLIC, Payer.CLIENT,
     D(0), "public"),
])
def test_each_partnership_case_settles_to_a_discount_or_cashback(partnership, actor, paid, payer, cashback, rule):
    settled = settle(CATALOGUE, "web_hosting", 35, Currency.CHF, actor=actor, partnership=partnership)
    assert (settled.paid, settled.payer, settled.cashback, settled.rule) == (paid, payer, cashback, rule)
    assert settled.cashback == settled.cashback.quantize(D("0.01"))


def test_cashback_is_the_public_price_less_the_partners_in_euros_too():
    settled = settle(CATALOGUE, "web_hosting", 35, Currency.EUR, actor=Actor.CLIENT,
                     partnership=Partnership(Access.FULL, Payer.CLIENT))
    assert (settled.paid, settled.cashback) == (D("150.94"), D("150.94") - D("120.75"))


@pytest.mark.parametrize("bad", [
    {"partner_discount": "120"},
    {"partner_discount": "12.345"},
    {"products": [{"code": "web", "prices": {"USD": "1.00"}}]},
    {"products": [{"code": "web", "prices": {"CHF": "-1.00"}}]},
    {"products": [{"code": "web", "prices": {"CHF": "9.999"}}]},
    {"products": [{"code": "web", "prices": {"CHF": "1.00"}}, {"code": "web", "prices": {"EUR": "1.00"}}]},
    {"products": [{"code": "web", "prices": {"CHF": "1.00"},
                   "tiers": [{"min_quantity": 5, "percent": "10"}, {"min_quantity": 5, "percent": "20"}]}]},
    {"products": [{"code": "Web Hosting!", "prices": {"CHF": "1.00"}}]},
])
def test_a_catalogue_that_cannot_price_exactly_is_refused_at_start_up(bad):
    with pytest.raises(ValidationError):
        PricingSettings(**bad)
