"""Domain-transfer forms (Flask-WTF: a CSRF token in every one); the rules are the service's."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField
from wtforms import StringField
from wtforms.validators import Length

_TEXT = {"autocapitalize": "none", "spellcheck": "false", "autocomplete": "off"}


class TransferForm(FlaskForm):  # type: ignore[misc]
    domain = StringField(
        _l("Domain name"), description=_l("Such as example.ch; accents are welcome (bücher.ch)."),
        validators=[Length(max=300, message=_l("A domain name has at most 253 characters."))], render_kw=_TEXT,
    )
    auth_code = StringField(
        _l("Authorisation code"),
        description=_l("The transfer code (EPP code) the current registrar gives the domain's owner."),
        validators=[Length(max=200, message=_l("An authorisation code has 6 to 64 letters, digits or punctuation "
                                               "marks, without spaces."))],
        render_kw=_TEXT,
    )


class RelaunchForm(FlaskForm):  # type: ignore[misc]
    """The relaunch button; on the domains page each transfer's form has its own prefix, so
    every field id is unique. `failure` is the number the page showed."""

    failure = HiddenField()
    auth_code = StringField(
        _l("New authorisation code"),
        description=_l("Ask the current registrar for it again; copy it without spaces."),
        validators=[Length(max=200, message=_l("An authorisation code has 6 to 64 letters, digits or punctuation "
                                               "marks, without spaces."))],
        render_kw=_TEXT,
    )
