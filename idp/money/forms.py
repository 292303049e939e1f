"""Billing forms (Flask-WTF: a CSRF token in each that changes something); the rules are the services'."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms import DateField
from wtforms import HiddenField
from wtforms import IntegerField
from wtforms import RadioField
from wtforms import SelectChoice
from wtforms import SelectField
from wtforms import StringField
from wtforms.validators import NumberRange
from wtforms.validators import Optional

from idp.errors import N_

CURRENCIES = [SelectChoice("CHF", "CHF"), SelectChoice("EUR", "EUR")]
PAY_METHODS = [SelectChoice("transfer", _l("Bank transfer")), SelectChoice("balance", _l("Prepaid balance"))]
KINDS = [SelectChoice("order", _l("New order")), SelectChoice("renewal", _l("Renewal"))]
# The wording of product codes (the catalogue in the settings names them).
PRODUCT_NAMES = {"web_hosting": N_("Web hosting"), "mail_hosting": N_("Mail hosting"), "domain_name": N_("Domain name")}
ENTRY_KINDS = [SelectChoice("", _l("Credits and debits")), SelectChoice("credit", _l("Credits")),
               SelectChoice("debit", _l("Debits"))]
REASONS = {
    "cashback": N_("Cashback"),
    "cancellation_credit": N_("Cancelled order credited"),
    "order_payment": N_("Order payment"),
    "payout": N_("Payout"),
    "adjustment": N_("Operator adjustment"),
}


class ButtonForm(FlaskForm):  # type: ignore[misc]
    """A button that changes something: only the CSRF token."""


class QuoteForm(FlaskForm):  # type: ignore[misc]
    """The order form, read from the query string to show the price: it changes nothing."""

    class Meta:
        csrf = False

    product = SelectField(_l("Product"), choices=[], validate_choice=False)
    quantity = StringField(_l("Quantity"), default="1", render_kw={"inputmode": "numeric", "autocomplete": "off"})
    currency = SelectField(_l("Currency"), choices=CURRENCIES, validate_choice=False)
    method = RadioField(_l("Pay by"), choices=PAY_METHODS, default="transfer", validate_choice=False)
    kind = SelectField(_l("Kind"), choices=KINDS, validate_choice=False)


class ConfirmOrderForm(FlaskForm):  # type: ignore[misc]
    """The confirmation: what was priced, and the total that was shown."""

    product = HiddenField()
    quantity = HiddenField()
    currency = HiddenField()
    method = HiddenField()
    kind = HiddenField()
    total = HiddenField()


class CancelOrderForm(FlaskForm):  # type: ignore[misc]
    transfer_sent = BooleanField(_l("I have already sent the bank transfer"))


class LedgerFilterForm(FlaskForm):  # type: ignore[misc]
    """Read from the query string: no CSRF token, nothing is changed."""

    class Meta:
        csrf = False

    date_from = DateField(_l("From"), validators=[Optional()], render_kw={"type": "date"})
    date_to = DateField(_l("To"), validators=[Optional()], render_kw={"type": "date"})
    kind = SelectField(_l("Kind"), choices=ENTRY_KINDS, default="", validate_choice=True)
    reason = SelectField(_l("Reason"), choices=[], default="", validate_choice=True)
    currency = SelectField(_l("Currency"), choices=[SelectChoice("", _l("All currencies")), *CURRENCIES], default="",
                           validate_choice=True)
    page = IntegerField(_l("Page"), default=1, validators=[
        Optional(), NumberRange(1, 1_000_000, _l("The page number must be 1 or more."))])


class PayoutForm(FlaskForm):  # type: ignore[misc]
    amount = StringField(_l("Amount"), render_kw={"inputmode": "decimal", "autocomplete": "off"})
    currency = SelectField(_l("Currency"), choices=CURRENCIES, validate_choice=False)
    method = RadioField(_l("Pay to"), choices=[SelectChoice("bank", _l("A bank account (IBAN)")),
                                               SelectChoice("paypal", _l("A PayPal account"))],
                        default="bank", validate_choice=False)
    iban = StringField(_l("IBAN"), render_kw={"autocomplete": "off", "spellcheck": "false",
                                              "autocapitalize": "characters"})
    paypal = StringField(_l("PayPal e-mail address"), render_kw={"autocomplete": "email", "inputmode": "email",
                                                                 "type": "email"})

STATUS_NAMES = {
    "awaiting_transfer": N_("Awaiting the bank transfer"),
    "paid": N_("Paid"),
    "cancelled": N_("Cancelled"),
}
METHOD_NAMES = {"transfer": N_("Bank transfer"), "balance": N_("Prepaid balance")}
KIND_NAMES = {"order": N_("New order"), "renewal": N_("Renewal")}
STATE_NAMES = {
    "requested": N_("Requested"),
    "approved": N_("Approved"),
    "rejected": N_("Rejected"),
    "withdrawn": N_("Withdrawn"),
    "paid": N_("Paid"),
}
