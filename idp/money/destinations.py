"""Where a payout goes: a bank account (an IBAN, checked by schwifty) or a PayPal address (an
e-mail), in the form people read it and masked for lists and mail."""

from __future__ import annotations

from dataclasses import dataclass

from email_validator import EmailNotValidError
from email_validator import validate_email
from schwifty import IBAN
from schwifty.exceptions import InvalidChecksumDigits
from schwifty.exceptions import InvalidCountryCode
from schwifty.exceptions import InvalidLength
from schwifty.exceptions import SchwiftyException

from idp.errors import N_
from idp.errors import ValidationError
from idp.money.model import PayoutMethod

MAX_INPUT = 80


@dataclass(frozen=True)
class Destination:
    method: PayoutMethod
    value: str  # the compact IBAN, or the normalised address: what is encrypted and stored
    shown: str  # the IBAN in groups of four, or the address
    hint: str  # masked, for lists and mail

    @property
    def bank_name(self) -> str | None:
        if self.method is not PayoutMethod.BANK:
            return None
        try:
            return IBAN(self.value).bank_name
        except SchwiftyException:  # pragma: no cover - checked when parsed
            return None


def parse_iban(raw: str | None) -> Destination:
    """An IBAN as typed (spaces allowed, any case); ValidationError naming what is wrong: its
    country, its length for that country, its check digits or its characters."""
    text = (raw or "").strip()
    if not text:
        raise ValidationError(N_("Enter the IBAN of the bank account."), field="iban")
    if len(text) > MAX_INPUT:
        raise ValidationError(N_("An IBAN has at most 34 characters."), field="iban")
    try:
        iban = IBAN(text)
    except InvalidCountryCode as exc:
        raise ValidationError(N_("This IBAN does not start with a known country code."), field="iban") from exc
    except InvalidLength as exc:
        raise ValidationError(N_("This IBAN does not have the length of its country's IBANs."), field="iban") from exc
    except InvalidChecksumDigits as exc:
        raise ValidationError(N_("This IBAN's check digits are wrong: check for a typing mistake."),
                              field="iban") from exc
    except SchwiftyException as exc:
        raise ValidationError(N_("This is not a valid IBAN."), field="iban") from exc
    compact = str(iban.compact)
    return Destination(PayoutMethod.BANK, compact, str(iban.formatted), mask_iban(compact))


def parse_paypal(raw: str | None) -> Destination:
    text = (raw or "").strip()
    if not text:
        raise ValidationError(N_("Enter the e-mail address of the PayPal account."), field="paypal")
    if len(text) > 254:
        raise ValidationError(N_("This e-mail address is too long."), field="paypal")
    try:
        address = validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValidationError(N_("Enter a valid e-mail address for PayPal."), field="paypal") from exc
    return Destination(PayoutMethod.PAYPAL, address, address, mask_email(address))


def parse_destination(method: str | None, iban: str | None, paypal: str | None) -> Destination:
    if method == PayoutMethod.BANK:
        return parse_iban(iban)
    if method == PayoutMethod.PAYPAL:
        return parse_paypal(paypal)
    raise ValidationError(N_("Choose a bank account or PayPal."), field="method")


def mask_iban(compact: str) -> str:
    """The country and check digits, then the last four characters: "CH93 … 2957"."""
    return f"{compact[:4]} … {compact[-4:]}"


def mask_email(address: str) -> str:
    local, _, domain = address.partition("@")
    return f"{local[:1]}…@{domain}"


def shown(method: PayoutMethod, value: str) -> str:
    """A stored destination as an operator reads it (the IBAN in groups of four)."""
    if method is PayoutMethod.BANK:
        return " ".join(value[i:i + 4] for i in range(0, len(value), 4))
    return value
