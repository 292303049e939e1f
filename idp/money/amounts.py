"""Amounts as people type them and as the stores keep them: exact decimals with two places on
the way in, integer cents in SQL (decision 0901), never a float anywhere."""

from __future__ import annotations

import re
from decimal import Decimal
from decimal import InvalidOperation

from idp.errors import N_
from idp.errors import ValidationError
from idp.money.pricing import CENT

# ASCII digits (Python's \d takes any script's), an optional decimal point (or the French comma)
# and decimals; a space, apostrophe or no-break space between two digits groups thousands and is
# dropped first ("1'250.50", "1 250,50").
_AMOUNT = re.compile(r"^([0-9]{1,15})(?:[.,]([0-9]+))?$")
_GROUPING = re.compile(r"(?<=[0-9])[ '\u00a0\u202f](?=[0-9])")
_WHOLE = re.compile(r"^[0-9]{1,15}$")
MAX_INPUT = 40


def to_cents(amount: Decimal) -> int:
    """An exact amount of at most two places as integer cents; ValueError for anything else
    (more places, NaN, infinity), so an inexact amount never reaches SQL."""
    if not amount.is_finite() or amount != amount.quantize(CENT):
        raise ValueError(f"{amount!r} is not an amount in cents")
    return int(amount.scaleb(2))


def from_cents(cents: int) -> Decimal:
    """Integer cents as a Decimal with two places (1200 -> Decimal("12.00"))."""
    return Decimal(int(cents)).scaleb(-2)


def parse_amount(raw: str | None, *, maximum: Decimal, field: str = "amount") -> Decimal:
    """An amount typed into a form: positive, at most two decimals, at most `maximum`.

    Each refusal says what is wrong (a ValidationError on `field`): nothing typed, not a number
    (letters, "1e3", "NaN"), a sign, more than two decimals, zero, more than `maximum`."""
    text = _GROUPING.sub("", (raw or "").strip())[:MAX_INPUT + 1]
    if not text:
        raise ValidationError(N_("Enter an amount."), field=field)
    if len(text) > MAX_INPUT:
        raise ValidationError(N_("This amount is too large."), field=field)
    if text.startswith(("-", "+")):
        raise ValidationError(N_("Enter the amount without a sign; it must be more than zero."), field=field)
    match = _AMOUNT.match(text)
    if match is None:
        if re.match(r"^[0-9]{16,}", text):
            raise ValidationError(N_("This amount is too large."), field=field)
        raise ValidationError(N_("Enter an amount in figures, such as 120.50."), field=field)
    whole, decimals = match.group(1), match.group(2) or ""
    if len(decimals) > 2:
        raise ValidationError(N_("An amount has at most two decimals (cents)."), field=field)
    try:
        amount = Decimal(f"{whole}.{decimals or '0'}").quantize(CENT)
    except InvalidOperation as exc:  # pragma: no cover - the pattern admits only digits
        raise ValidationError(N_("Enter an amount in figures, such as 120.50."), field=field) from exc
    if amount <= 0:
        raise ValidationError(N_("The amount must be more than zero."), field=field)
    if amount > maximum:
        raise ValidationError(N_("The amount can be %(max)s at most."), field=field, max=f"{maximum:.2f}")
    return amount


def parse_quantity(raw: str | None, *, maximum: int, field: str = "quantity") -> int:
    """A whole number of units from 1 to `maximum`."""
    text = (raw or "").strip()[:MAX_INPUT + 1]
    if not text:
        raise ValidationError(N_("Enter a quantity."), field=field)
    if re.match(r"^-[0-9]+$", text):
        raise ValidationError(N_("The quantity must be 1 or more."), field=field)
    if not _WHOLE.match(text):
        if re.match(r"^[0-9]{16,}$", text):
            raise ValidationError(N_("The quantity can be %(max)s at most."), field=field, max=maximum)
        raise ValidationError(N_("The quantity is a whole number, such as 3."), field=field)
    quantity = int(text)
    if quantity < 1:
        raise ValidationError(N_("The quantity must be 1 or more."), field=field)
    if quantity > maximum:
        raise ValidationError(N_("The quantity can be %(max)s at most."), field=field, max=maximum)
    return quantity
