"""Account forms (Flask-WTF: a CSRF token in every one)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField
from wtforms import SelectChoice
from wtforms.validators import InputRequired


class LanguageForm(FlaskForm):  # type: ignore[misc]
    """The account's language: its pages and the e-mails it receives."""

    language = RadioField(
        _l("Language of your pages and e-mails"),
        # Each language is named in itself, so that a person who cannot read the page finds theirs.
        choices=[SelectChoice("en", "English"), SelectChoice("fr", "Français")],
        validators=[InputRequired(_l("Choose a language."))],
    )
