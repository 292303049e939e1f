"""kAuth forms (Flask-WTF: CSRF token in every one)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms import HiddenField
from wtforms.validators import AnyOf


class ApprovalForm(FlaskForm):  # type: ignore[misc]
    """The waiting page's form: "check" reads the answer, "resend" asks for a new request."""

    action = HiddenField(default="check", validators=[AnyOf(["check", "resend"])])


class RemoveForm(FlaskForm):  # type: ignore[misc]
    """Confirms a removal; who is asking was proven by a recent sign-in or re-authentication
    (with whichever way the account has: password, second factor, directory). `understood` is
    asked only when the device is the account's last second factor."""

    understood = BooleanField(_l("I understand that my account will be protected by my password only."))
