"""Forms of the partners pages (Flask-WTF: a CSRF token in each); the values are checked by
idp.partners.access, which gives the message the person sees."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms import RadioField
from wtforms import SelectChoice
from wtforms import SelectField
from wtforms import SelectMultipleField
from wtforms import StringField
from wtforms import widgets
from wtforms.validators import Length

from idp.capability import PartnerRight
from idp.partners.access import CLIENT_PAYS
from idp.partners.access import FULL
from idp.partners.access import LIMITED
from idp.partners.access import PARTNER_PAYS
from idp.partners.model import RIGHT_NAMES

NEW_ORG = "-new-"  # the review form's choice "a new organisation" (never a short name: it starts with -)


def _rights_choices() -> list[SelectChoice]:
    return [SelectChoice(r.value, _l(RIGHT_NAMES[r])) for r in PartnerRight]


class AccessFields(FlaskForm):  # type: ignore[misc]
    """Full or limited access, the rights, the renewal (the add-client, review and change forms)."""

    access = RadioField(
        _l("Access"), validate_choice=False, default=LIMITED,
        choices=[SelectChoice(FULL, _l("Full access")), SelectChoice(LIMITED, _l("Limited access"))],
    )
    rights = SelectMultipleField(
        _l("Rights"), choices=_rights_choices(), validate_choice=False,
        widget=widgets.ListWidget(prefix_label=False), option_widget=widgets.CheckboxInput(),
    )
    auto_renew = BooleanField(_l("Renew by itself at the end of each term"))


class TermFields(AccessFields):
    days = StringField(
        _l("Duration in days"), default="365",
        validators=[Length(max=10, message=_l("The duration is a whole number of days, from 1 to 730 (two years)."))],
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )


class AddClientForm(TermFields):
    email = StringField(
        _l("The client's e-mail address"),
        validators=[Length(max=320, message=_l("This e-mail address is too long."))],
        render_kw={"autocomplete": "off", "inputmode": "email", "type": "email"},
    )
    payer = RadioField(
        _l("Payment means"), validate_choice=False, default=CLIENT_PAYS,
        choices=[SelectChoice(CLIENT_PAYS, _l("The client's")), SelectChoice(PARTNER_PAYS, _l("Ours (the partner's)"))],
    )


class ReviewForm(TermFields):
    org = SelectField(_l("For which organisation"), validate_choice=False)
    new_name = StringField(
        _l("Name of the new organisation"),
        validators=[Length(max=1000, message=_l("The name is too long (200 characters at most)."))],
        render_kw={"autocomplete": "organization"},
    )
    new_slug = StringField(
        _l("Short name of the new organisation"),
        description=_l("2 to 63 lower-case letters, digits and dashes; it appears in addresses."),
        validators=[Length(max=100, message=_l("The short name takes 2 to 63 lower-case letters, digits and dashes."))],
        render_kw={"autocapitalize": "none", "spellcheck": "false"},
    )


class ChangeForm(AccessFields):
    pass


class EndForm(FlaskForm):  # type: ignore[misc]
    confirm = BooleanField(_l("I understand: the partner can no longer act for this organisation, from now on."))


class ButtonForm(FlaskForm):  # type: ignore[misc]
    """A button that changes something: only the CSRF token."""
