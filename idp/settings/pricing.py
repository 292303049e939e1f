"""The product catalogue of partner pricing (idp.money.pricing): public prices, degressive rates
by quantity, the partner discount; and the limits of orders, the ledger and payouts (idp.money).
Amounts are decimals with at most two places, never floats."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel
from pydantic import Field
from pydantic import field_validator
from pydantic import model_validator

Percent = Annotated[Decimal, Field(ge=0, le=100, decimal_places=2)]
Amount = Annotated[Decimal, Field(gt=0, le=1_000_000, decimal_places=2)]


class TierSettings(BaseModel):
    # From this many units on, `percent` off (the highest tier reached applies).
    min_quantity: int = Field(ge=1, le=1_000_000)
    percent: Percent


class ProductSettings(BaseModel):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]{1,39}$")
    # Public unit price per currency (CHF, EUR); a product may be sold in one only.
    prices: dict[str, Amount]
    tiers: list[TierSettings] = []

    @field_validator("prices")
    @classmethod
    def _currencies(cls, value: dict[str, Decimal]) -> dict[str, Decimal]:
        unknown = set(value) - {"CHF", "EUR"}
        if unknown or not value:
            raise ValueError("prices are given in CHF and/or EUR")
        return value

    @field_validator("tiers")
    @classmethod
    def _distinct(cls, value: list[TierSettings]) -> list[TierSettings]:
        if len({t.min_quantity for t in value}) != len(value):
            raise ValueError("two tiers start at the same quantity")
        return value


def _default_products() -> list[ProductSettings]:
    return [
        ProductSettings(code="web_hosting", prices={"CHF": Decimal("9.92"), "EUR": Decimal("5.75")}, tiers=[
            TierSettings(min_quantity=5, percent=Decimal(10)), TierSettings(min_quantity=10, percent=Decimal(15)),
            TierSettings(min_quantity=25, percent=Decimal(25)), TierSettings(min_quantity=50, percent=Decimal(30)),
        ]),
        ProductSettings(code="mail_hosting", prices={"CHF": Decimal("3.50"), "EUR": Decimal("3.20")}, tiers=[
            TierSettings(min_quantity=10, percent=Decimal(10)), TierSettings(min_quantity=50, percent=Decimal(20)),
        ]),
        ProductSettings(code="domain_name", prices={"CHF": Decimal("12.00"), "EUR": Decimal("11.00")}),
    ]


class PricingSettings(BaseModel):
    # Off the public price for a partner, before the degressive rate applies to what remains.
    partner_discount: Percent = Decimal(20)
    products: list[ProductSettings] = Field(default_factory=_default_products)

    @model_validator(mode="after")
    def _unique_codes(self) -> PricingSettings:
        codes = [p.code for p in self.products]
        if len(set(codes)) != len(codes):
            raise ValueError("two products have the same code")
        return self


class MoneySettings(BaseModel):
    # Shown on an order awaiting a bank transfer: whom to pay, and the account to pay to.
    transfer_beneficiary: str = Field(default="", max_length=200)
    transfer_iban: str = Field(default="", max_length=42)
    # Units of one product in one order; more is refused.
    max_quantity: int = Field(default=10_000, ge=1, le=1_000_000)
    # The largest payout or operator adjustment, in the currency's units.
    max_amount: Amount = Decimal("100000.00")
    # Entries of the ledger on one page, and at most in one CSV export.
    page_size: int = Field(default=50, ge=10, le=500)
    export_limit: int = Field(default=10_000, ge=100, le=100_000)
