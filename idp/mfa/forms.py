"""Forms of the second-factor pages (Flask-WTF: CSRF token in every one)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms import HiddenField
from wtforms import StringField
from wtforms.validators import DataRequired
from wtforms.validators import Length

CODE_ATTRS = {"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True, "spellcheck": "false"}


class TotpCodeForm(FlaskForm):  # type: ignore[misc]
    code = StringField(
        _l("6-digit code"),
        validators=[
            DataRequired(_l("Enter the 6-digit code from your app.")),
            Length(max=32, message=_l("Enter the 6-digit code from your app.")),
        ],
        render_kw=CODE_ATTRS,
    )


class RecoveryCodeForm(FlaskForm):  # type: ignore[misc]
    code = StringField(
        _l("Recovery code"),
        validators=[
            DataRequired(_l("Enter one of your recovery codes.")),
            Length(max=64, message=_l("A recovery code has 12 letters and digits, like ABCD-EFGH-JKMN.")),
        ],
        render_kw={"autocomplete": "off", "autofocus": True, "spellcheck": "false", "autocapitalize": "characters"},
    )


class WebAuthnForm(FlaskForm):  # type: ignore[misc]
    """The browser's answer, put here by static/mfa/webauthn.js."""

    credential = HiddenField()


class AddKeyForm(FlaskForm):  # type: ignore[misc]
    name = StringField(
        _l("Name"),
        validators=[
            DataRequired(_l("Give it a name, like “Blue key” or “Work laptop”.")),
            Length(max=64, message=_l("The name can have at most 64 characters.")),
        ],
        render_kw={"maxlength": 64, "required": True, "autocomplete": "off"},
    )
    credential = HiddenField()


class RenameForm(FlaskForm):  # type: ignore[misc]
    name = StringField(
        _l("New name"),
        validators=[
            DataRequired(_l("Give it a name, like “Blue key” or “Work laptop”.")),
            Length(max=64, message=_l("The name can have at most 64 characters.")),
        ],
        render_kw={"maxlength": 64, "autocomplete": "off"},
    )


class ConfirmForm(FlaskForm):  # type: ignore[misc]
    """A plain POST button; `understood` is asked only when the last second factor goes."""

    understood = BooleanField(_l("I understand that my account will be protected by my password only."))


class ActionForm(FlaskForm):  # type: ignore[misc]
    pass
