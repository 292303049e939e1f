"""Account forms (Flask-WTF: a CSRF token in every one)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField
from wtforms import SelectChoice
from wtforms import SelectField
from wtforms.validators import InputRequired

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
