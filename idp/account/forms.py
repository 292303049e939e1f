"""Account forms (Flask-WTF: a CSRF token in every one)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms import PasswordField
from wtforms import RadioField
from wtforms import SelectChoice
from wtforms import SelectField
from wtforms import StringField
from wtforms.validators import DataRequired
from wtforms.validators import InputRequired
from wtforms.validators import Length

from idp.words import TIMEZONES


class LanguageForm(FlaskForm):  # type: ignore[misc]
    """The account's language: its pages and the e-mails it receives."""

    language = RadioField(
        _l("Language of your pages and e-mails"),
        # Each language is named in itself, so that a person who cannot read the page finds theirs.
        choices=[SelectChoice("en", "English"), SelectChoice("fr", "Français")],
        validators=[InputRequired(_l("Choose a language."))],
    )


class TimezoneForm(FlaskForm):  # type: ignore[misc]
    """The account's time zone: moments on its pages and in its e-mails."""

    timezone = SelectField(
        _l("Time zone of the dates and times you see"),
        choices=[SelectChoice(name, name.replace("_", " ")) for name in TIMEZONES],
        validators=[InputRequired(_l("Choose a time zone from the list."))],
        # An unknown value gets the service's own message (AccountService.set_timezone).
        validate_choice=False,
    )


# The password rules are AccountService's (idp.account.passwords.Rules): the forms only bound the
# length of what they read, so a huge field is refused before any hashing.
def _password(label: str, autocomplete: str) -> PasswordField:
    return PasswordField(
        label, validators=[Length(max=1024, message=_l("This password is too long."))],
        render_kw={"autocomplete": autocomplete},
    )


class ChangePasswordForm(FlaskForm):  # type: ignore[misc]
    current_password = _password(_l("Current password"), "current-password")
    new_password = _password(_l("New password"), "new-password")
    confirm = _password(_l("New password again"), "new-password")
    sign_out_others = BooleanField(_l("Sign out my other sessions"), default=True)


class SetPasswordForm(FlaskForm):  # type: ignore[misc]
    new_password = _password(_l("New password"), "new-password")
    confirm = _password(_l("New password again"), "new-password")


class ForgotPasswordForm(FlaskForm):  # type: ignore[misc]
    login = StringField(
        _l("E-mail address"),
        validators=[
            DataRequired(_l("Enter your e-mail address.")),
            Length(max=320, message=_l("This e-mail address is too long.")),
        ],
        render_kw={"autocomplete": "username", "inputmode": "email", "autofocus": True},
    )


class ResetPasswordForm(FlaskForm):  # type: ignore[misc]
    new_password = _password(_l("New password"), "new-password")
    confirm = _password(_l("New password again"), "new-password")
