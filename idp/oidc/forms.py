"""Forms of the OpenID Provider pages (CSRF token in each)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField


class ConsentForm(FlaskForm):  # type: ignore[misc]
    request_id = HiddenField()
    decision = HiddenField()


class RevokeForm(FlaskForm):  # type: ignore[misc]
    pass


class LogoutForm(FlaskForm):  # type: ignore[misc]
    pass
