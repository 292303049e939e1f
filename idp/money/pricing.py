"""Prices for partners: the public price, the partner discount, the degressive rate by quantity,
and what a partnership turns into (a discount, or cashback to the partner's prepaid account).

Pure: no floats (`decimal.Decimal` everywhere), no I/O, no clock. The rounding rule, written
once here and in docs/money.md: every step of a price (the line's public amount, the partner
discount, the degressive rate) is rounded to the cent, half away from zero (`ROUND_HALF_UP`),
before the next step applies to it; a cashback is the difference of two prices so rounded, so it
is exact to the cent too.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP
from decimal import Decimal
from typing import Protocol

CENT = Decimal("0.01")
HUNDRED = Decimal(100)


class Currency(enum.StrEnum):
    CHF = "CHF"
    EUR = "EUR"


def to_cent(amount: Decimal) -> Decimal:
    """The rounding rule: to the cent, half away from zero."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def percent_off(amount: Decimal, percent: Decimal) -> Decimal:
    """`amount` less `percent` % of it, rounded to the cent."""
    return to_cent(amount * (HUNDRED - percent) / HUNDRED)


@dataclass(frozen=True)
class Tier:
    """From `min_quantity` units on, `percent` off (the highest tier reached applies)."""

    min_quantity: int
    percent: Decimal


@dataclass(frozen=True)
class Product:
    code: str
    # Public unit price per currency, in that currency's units (CHF 9.92).
    prices: Mapping[Currency, Decimal]
    # Degressive rates by quantity; empty: none (a domain name costs the same at any quantity).
    tiers: Sequence[Tier] = ()

    def rate(self, quantity: int) -> Decimal:
        """The degressive rate (percent) for this quantity: the highest tier reached."""
        reached = [t.percent for t in self.tiers if quantity >= t.min_quantity]
        return max(reached, default=Decimal(0))


class PriceError(ValueError):
    """A price asked for something the catalogue cannot price (unknown product, bad quantity)."""


@dataclass(frozen=True)
class Catalogue:
    products: Mapping[str, Product]
    # The partner discount (percent), applied before the degressive rate.
    partner_discount: Decimal

    def product(self, code: str) -> Product:
        found = self.products.get(code)
        if found is None:
            raise PriceError(f"no product {code!r} in the catalogue")
        return found


@dataclass(frozen=True)
class Price:
    """How a line's price was made, step by step (each step rounded to the cent)."""

    public: Decimal  # unit price × quantity
    after_partner_discount: Decimal  # = public when no partner discount applies
    total: Decimal  # after the degressive rate: what is paid
    currency: Currency
    partner_discount: Decimal  # percent applied (0 for the public price)
    degressive_rate: Decimal  # percent applied


def price(catalogue: Catalogue, code: str, quantity: int, currency: Currency, *, partner: bool) -> Price:
    """A line's price: the public amount, then the partner discount (when `partner`), then the
    degressive rate on what remains. 35 web hostings at CHF 9.92: 347.20 → 277.76 (20 %) →
    208.32 (25 %), 40 % in total."""
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
        raise PriceError("the quantity must be a whole number of 1 or more")
    product = catalogue.product(code)
    unit = product.prices.get(currency)
    if unit is None:
        raise PriceError(f"{code} has no price in {currency}")
    public = to_cent(unit * quantity)
    discount = catalogue.partner_discount if partner else Decimal(0)
    after = percent_off(public, discount)
    rate = product.rate(quantity)
    return Price(public=public, after_partner_discount=after, total=percent_off(after, rate),
                 currency=currency, partner_discount=discount, degressive_rate=rate)


class Access(enum.StrEnum):
    """What the client granted the partner (idp.partners)."""

    FULL = "full"
    LIMITED = "limited"


class Payer(enum.StrEnum):
    """Whose payment means an order uses."""

    CLIENT = "client"
    PARTNER = "partner"


class Actor(enum.StrEnum):
    """Who places the order or the renewal."""

    CLIENT = "client"
    PARTNER = "partner"


@dataclass(frozen=True)
class Partnership:
    """The terms an order is settled under: the access the client granted, whose payment means
    the partnership uses, and (for limited access) whether the partner manages this product."""

    access: Access
    payer: Payer
    manages_product: bool = True


@dataclass(frozen=True)
class Settlement:
    """What an order line costs, whose payment means pay it, and what goes to the partner's
    prepaid account."""

    paid: Decimal
    payer: Payer
    cashback: Decimal
    currency: Currency
    # "public", "partner_discount" or "cashback": which rule applied (for the ledger's reason).
    rule: str


def settle(
    catalogue: Catalogue, code: str, quantity: int, currency: Currency, *, actor: Actor,
    partnership: Partnership | None,
) -> Settlement:
    """The price paid and the partner's cashback for an order or renewal of a client's account.

    - No partnership: the public price, nothing else.
    - Full access, the client's payment means: the client's means pay the public price, and the
      partner gets the cashback, whether the client or the partner places the order.
    - Full access, the partner's payment means: an order the client places is paid at the public
      price with cashback to the partner; one the partner places with its own means is paid at
      the partner's price (the discount), without cashback.
    - Limited access: cashback when the client orders or renews a product the partner manages;
      the public price and nothing else otherwise (the partner does not order under limited
      access here).

    Cashback is the public price less the partner's price, both as `price` makes them."""
    public = price(catalogue, code, quantity, currency, partner=False).total
    partner_price = price(catalogue, code, quantity, currency, partner=True).total
    cashback = public - partner_price
    zero = Decimal("0.00")
    if partnership is None:
        return Settlement(public, Payer.CLIENT, zero, currency, "public")
    payer = partnership.payer
    if partnership.access is Access.FULL:
        if payer is Payer.PARTNER and actor is Actor.PARTNER:
            return Settlement(partner_price, payer, zero, currency, "partner_discount")
        return Settlement(public, payer, cashback, currency, "cashback")
    if actor is Actor.CLIENT and partnership.manages_product:
        return Settlement(public, payer, cashback, currency, "cashback")
    return Settlement(public, payer, zero, currency, "public")


def catalogue_from(partner_discount: Decimal, products: Sequence[ProductTerms]) -> Catalogue:
    """The catalogue of the settings (idp.settings: `[pricing]`)."""
    return Catalogue(
        products={p.code: Product(p.code, {Currency(c): v for c, v in p.prices.items()},
                                  tuple(sorted((Tier(t.min_quantity, t.percent) for t in p.tiers),
                                               key=lambda t: t.min_quantity)))
                  for p in products},
        partner_discount=partner_discount,
    )


class TierTerms(Protocol):
    min_quantity: int
    percent: Decimal


class ProductTerms(Protocol):
    code: str

    @property
    def prices(self) -> Mapping[str, Decimal]: ...

    @property
    def tiers(self) -> Sequence[TierTerms]: ...
