"""Account forms (Flask-WTF: a CSRF token in every one)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
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


class NamesForm(FlaskForm):  # type: ignore[misc]
    """First and last names, and the name shown (which follows them unless the person writes another)."""

    # Lengths are the service's rule (idp.account.profile), with its own messages.
    given_name = StringField(_l("First name"), render_kw={"autocomplete": "given-name"})
    family_name = StringField(_l("Last name"), render_kw={"autocomplete": "family-name"})
    display_name = StringField(
        _l("Name shown"), description=_l("Leave it empty to show your first and last names."),
        render_kw={"autocomplete": "nickname"},
    )


class PictureForm(FlaskForm):  # type: ignore[misc]
    """A new picture; the service decodes and checks it (idp.account.avatars)."""

    picture = FileField(
        _l("Picture"), description=_l("JPEG, PNG or WebP, 5 MB at most; 210 × 210 pixels or more looks sharp."),
        render_kw={"accept": "image/jpeg,image/png,image/webp"},
    )


class RemovePictureForm(FlaskForm):  # type: ignore[misc]
    """Remove the picture: the form carries only its CSRF token."""


class PhoneForm(FlaskForm):  # type: ignore[misc]
    """A new phone number and its label; the service parses and checks both (idp.account.phones)."""

    number = StringField(
        _l("Phone number"), description=_l("With its country code, such as +41 79 123 45 67."),
        render_kw={"autocomplete": "tel", "inputmode": "tel", "type": "tel"},
    )
    label = StringField(_l("Label"), description=_l("Such as Mobile or Office; optional."))


class CodeForm(FlaskForm):  # type: ignore[misc]
    """The code texted to a new number."""

    code = StringField(_l("Code from the text message"),
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"})


class PlainForm(FlaskForm):  # type: ignore[misc]
    """A button's form: only its CSRF token (send a new code, remove a number)."""
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


class EmailForm(FlaskForm):  # type: ignore[misc]
    """A new login e-mail; the service checks it (idp.account.email_change)."""

    email = StringField(_l("New e-mail address"), render_kw={"autocomplete": "email", "type": "email"})


class SignupForm(FlaskForm):  # type: ignore[misc]
    """A new account; the rules are the sign-up service's (idp.account.signup), the form only
    bounds what it reads."""

    email = StringField(
        _l("E-mail address"),
        validators=[Length(max=320, message=_l("This e-mail address is too long."))],
        render_kw={"autocomplete": "email", "inputmode": "email", "type": "email", "autofocus": True},
    )
    given_name = StringField(
        _l("First name"), validators=[Length(max=1000, message=_l("This name is too long."))],
        render_kw={"autocomplete": "given-name"},
    )
    family_name = StringField(
        _l("Last name"),
        validators=[Length(max=1000, message=_l("This name is too long."))],
        render_kw={"autocomplete": "family-name"},
    )
    new_password = _password(_l("Password"), "new-password")
    confirm = _password(_l("Password again"), "new-password")


class ActivateForm(FlaskForm):  # type: ignore[misc]
    """The activation link's button, with the password chosen at sign-up."""

    password = _password(_l("Password"), "current-password")


class DeleteAccountForm(FlaskForm):  # type: ignore[misc]
    """Delete the account: only a box that says the person understands, and the CSRF token."""

    confirm = BooleanField(
        _l("I understand this cannot be undone"),
        validators=[DataRequired(message=_l("Tick the box to say you understand this cannot be undone."))],
    )
