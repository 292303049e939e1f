"""Security center forms (Flask-WTF: CSRF token in every form that changes something)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms import DateField
from wtforms import IntegerField
from wtforms import PasswordField
from wtforms import RadioField
from wtforms import SelectChoice
from wtforms import SelectField
from wtforms import StringField
from wtforms.validators import DataRequired
from wtforms.validators import EqualTo
from wtforms.validators import InputRequired
from wtforms.validators import Length
from wtforms.validators import NumberRange
from wtforms.validators import Optional
from wtforms.validators import Regexp

from idp.security.activity import CONTROL_CHARACTERS
from idp.security.center.service import MAX_THRESHOLD
from idp.security.center.service import MIN_THRESHOLD


class ActionForm(FlaskForm):  # type: ignore[misc]
    """A button that changes something: only the CSRF token."""


class NotificationsForm(FlaskForm):  # type: ignore[misc]
    choice = RadioField(
        _l("E-mail me"),
        choices=[
            SelectChoice("failure", _l("When a sign-in fails (recommended)")),
            SelectChoice("new", _l("When a sign-in fails, or succeeds from a new device or network")),
            SelectChoice("success", _l("When someone signs in successfully")),
            SelectChoice("both", _l("Both")),
            SelectChoice("none", _l("Never")),
        ],
        validators=[InputRequired(_l("Choose one of the options."))],
    )


class AddressForm(FlaskForm):  # type: ignore[misc]
    # The length is checked by the service, with its own message (a huge paste gets one too).
    address = StringField(
        _l("Second address"), validators=[InputRequired(_l("Enter an e-mail address."))],
        render_kw={"autocomplete": "email", "inputmode": "email", "spellcheck": "false"},
    )


class ThresholdForm(FlaskForm):  # type: ignore[misc]
    threshold = IntegerField(
        _l("Failed attempts before the account locks"),
        validators=[
            InputRequired(_l("Enter a number.")),
            NumberRange(MIN_THRESHOLD, MAX_THRESHOLD, _l("Choose a number from %(min)s to %(max)s.")),
        ],
        render_kw={"inputmode": "numeric", "min": MIN_THRESHOLD, "max": MAX_THRESHOLD},
    )


class ActivityFilterForm(FlaskForm):  # type: ignore[misc]
    """Read from the query string: no CSRF token, nothing is changed."""

    class Meta:
        csrf = False

    date_from = DateField(_l("From"), validators=[Optional()], render_kw={"type": "date"})
    date_to = DateField(_l("To"), validators=[Optional()], render_kw={"type": "date"})
    product = SelectField(_l("Product"), choices=[], default="", validate_choice=True)
    action = SelectField(_l("Action"), choices=[], default="", validate_choice=True)
    q = StringField(_l("Search"), validators=[
        Length(max=200, message=_l("Search text: 200 characters at most.")),
        # A NUL byte is refused by PostgreSQL, and no control character is typed in a search box.
        Regexp(rf"^[^{CONTROL_CHARACTERS}]*\Z", message=_l("The search text cannot contain control characters.")),
    ])
    page = IntegerField(
        _l("Page"), default=1,
        validators=[Optional(), NumberRange(1, 1_000_000, _l("The page number must be 1 or more."))],
    )


def _new_password_fields() -> tuple[PasswordField, PasswordField]:
    return (
        PasswordField(
            _l("New password"),
            validators=[Length(max=1024, message=_l("This password is too long."))],
            render_kw={"autocomplete": "new-password"},
        ),
        PasswordField(
            _l("New password again"),
            validators=[EqualTo("new_password", _l("The two new passwords differ."))],
            render_kw={"autocomplete": "new-password"},
        ),
    )


class UnlockForm(FlaskForm):  # type: ignore[misc]
    new_password, confirm = _new_password_fields()
    current_password = PasswordField(
        _l("Or keep your current password"),
        validators=[Length(max=1024, message=_l("This password is too long."))],
        render_kw={"autocomplete": "current-password"},
    )


class WizardPasswordForm(FlaskForm):  # type: ignore[misc]
    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired(_l("Enter your current password.")), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )
    new_password, confirm = _new_password_fields()


class WizardRevokeForm(FlaskForm):  # type: ignore[misc]
    end_sessions = BooleanField(_l("Sign out every other device"), default=True)
    revoke_grants = BooleanField(_l("Withdraw applications' access (they will ask you to sign in again)"), default=True)
