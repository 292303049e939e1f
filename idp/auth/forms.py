"""Sign-in forms (Flask-WTF: CSRF token in every one)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField
from wtforms import PasswordField
from wtforms import StringField
from wtforms.validators import DataRequired
from wtforms.validators import Length


class IdentifyForm(FlaskForm):  # type: ignore[misc]
    login = StringField(
        _l("E-mail address"),
        validators=[
            DataRequired(_l("Enter your e-mail address.")),
            Length(max=320, message=_l("This e-mail address is too long.")),
        ],
        render_kw={"autocomplete": "username", "inputmode": "email", "autofocus": True},
    )
    next = HiddenField()


class PasswordForm(FlaskForm):  # type: ignore[misc]
    password = PasswordField(
        _l("Password"),
        validators=[
            DataRequired(_l("Enter your password.")),
            Length(max=1024, message=_l("This password is too long.")),
        ],
        render_kw={"autocomplete": "current-password", "autofocus": True},
    )


class ReauthForm(FlaskForm):  # type: ignore[misc]
    password = PasswordField(
        _l("Password"),
        validators=[
            DataRequired(_l("Enter your password.")),
            Length(max=1024, message=_l("This password is too long.")),
        ],
        render_kw={"autocomplete": "current-password", "autofocus": True},
    )
    next = HiddenField()


class LogoutForm(FlaskForm):  # type: ignore[misc]
    pass
