"""kAuth forms (Flask-WTF: CSRF token in every one)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField
from wtforms import PasswordField
from wtforms.validators import AnyOf
from wtforms.validators import DataRequired
from wtforms.validators import Length


class ApprovalForm(FlaskForm):  # type: ignore[misc]
    """The waiting page's form: "check" reads the answer, "resend" asks for a new request."""

    action = HiddenField(default="check", validators=[AnyOf(["check", "resend"])])


class RemoveForm(FlaskForm):  # type: ignore[misc]
    password = PasswordField(
        _l("Password"),
        validators=[
            DataRequired(_l("Enter your password.")),
            Length(max=1024, message=_l("This password is too long.")),
        ],
        render_kw={"autocomplete": "current-password"},
    )
