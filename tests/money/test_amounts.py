"""The pure helpers: amounts and quantities as typed, integer cents, IBANs and PayPal addresses,
CSV cells."""

from __future__ import annotations

from decimal import Decimal

import pytest

from idp.errors import ValidationError
from idp.money import csvfile
from idp.money.amounts import from_cents
from idp.money.amounts import parse_amount
from idp.money.amounts import parse_quantity
from idp.money.amounts import to_cents
from idp.money.destinations import parse_iban
from idp.money.destinations import parse_paypal

MAX = Decimal("100000.00")


@pytest.mark.parametrize(("typed", "amount"), [
    ("120.50", "120.50"), ("120,50", "120.50"), ("  7 ", "7.00"), ("1'250.5", "1250.50"),
    ("1\u00a0250,05", "1250.05"), ("0.01", "0.01"), ("100000", "100000.00"),
])
def test_amounts_as_people_type_them(typed, amount):
    parsed = parse_amount(typed, maximum=MAX)
    assert parsed == Decimal(amount) and parsed.as_tuple().exponent == -2


@pytest.mark.parametrize("typed", ["", None, "-1", "0", "0.001", "1.234", "abc", "1e5", "NaN", "inf", "1..2",
                                   "100000.01", "9" * 100, "١٢٣", "12 .5"])
def test_amounts_that_are_refused(typed):
    with pytest.raises(ValidationError):
        parse_amount(typed, maximum=MAX)


def test_cents_are_exact_both_ways():
    assert to_cents(Decimal("12.34")) == 1234 and to_cents(Decimal("12")) == 1200
    assert from_cents(1200) == Decimal("12.00") and str(from_cents(5)) == "0.05"
    assert from_cents(to_cents(Decimal("99999999.99"))) == Decimal("99999999.99")
    for inexact in (Decimal("0.001"), Decimal("NaN"), Decimal("Infinity")):
        with pytest.raises(ValueError, match="cents"):
            to_cents(inexact)


@pytest.mark.parametrize(("typed", "ok"), [("1", True), ("10000", True), ("0", False), ("10001", False),
                                           ("2.0", False), ("-1", False), ("", False), ("٣", False)])
def test_quantities(typed, ok):
    if ok:
        assert parse_quantity(typed, maximum=10_000) == int(typed)
    else:
        with pytest.raises(ValidationError):
            parse_quantity(typed, maximum=10_000)


def test_an_iban_is_checked_formatted_and_masked():
    parsed = parse_iban(" de89370400440532013000 ")
    assert (parsed.value, parsed.shown, parsed.hint) == (
        "DE89370400440532013000", "DE89 3704 0044 0532 0130 00", "DE89 … 3000")
    for wrong, field_message in (("DE88370400440532013000", "check digits"), ("QQ89370400440532013000", "country"),
                                 ("DE8937040044053201300", "length"), ("DE89-3704", "valid IBAN")):
        with pytest.raises(ValidationError, match=field_message):
            parse_iban(wrong)


def test_a_paypal_address_is_normalised_and_masked():
    parsed = parse_paypal("Ada@Example.COM")
    assert parsed.value == "Ada@example.com" and parsed.hint == "A…@example.com"


@pytest.mark.parametrize(("value", "cell"), [
    ("=1+1", "'=1+1"), ("+41", "'+41"), ("-3", "'-3"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("plain", "plain"), ("", ""), (None, ""), ("a=b", "a=b"),
])
def test_csv_cells_that_a_spreadsheet_would_run_get_a_quote(value, cell):
    assert csvfile.cell(value) == cell


def test_csv_is_rfc_4180():
    body = csvfile.write(["a", "b"], [['say "hi", then', "line\nbreak"], ["x", "y"]])
    assert body == 'a,b\r\n"say ""hi"", then","line\nbreak"\r\nx,y\r\n'
