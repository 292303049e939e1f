"""Single sign-on forms (Flask-WTF: a CSRF token in every one)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms import HiddenField
from wtforms import PasswordField
from wtforms import SelectChoice
from wtforms import SelectField
from wtforms import StringField
from wtforms import TextAreaField
from wtforms.validators import DataRequired
from wtforms.validators import Length
from wtforms.validators import Optional


class SsoStartForm(FlaskForm):  # type: ignore[misc]
    login = StringField(
        _l("Work e-mail address"),
        validators=[
            DataRequired(_l("Enter your e-mail address.")),
            Length(max=320, message=_l("This e-mail address is too long.")),
        ],
        render_kw={"autocomplete": "username", "inputmode": "email", "autofocus": True},
    )
    next = HiddenField()


class CodeForm(FlaskForm):  # type: ignore[misc]
    code = StringField(
        _l("Code from the e-mail"),
        validators=[DataRequired(_l("Enter the code.")), Length(max=20, message=_l("The code has 8 digits."))],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True},
    )


class ConnectionForm(FlaskForm):  # type: ignore[misc]
    kind = SelectField(
        _l("Directory"), default="entra",
        choices=[SelectChoice("entra", "Microsoft Entra ID"), SelectChoice("oidc", "OpenID Connect")],
    )
    name = StringField(_l("Name"), validators=[DataRequired(_l("Give the connection a name.")), Length(max=200)])
    tenant_id = StringField(_l("Tenant id (Entra ID)"), validators=[Optional(), Length(max=64)])
    issuer = StringField(_l("Issuer URL (OpenID Connect)"), validators=[Optional(), Length(max=500)])
    client_id = StringField(
        _l("Application (client) id"), validators=[DataRequired(_l("Enter the client id.")), Length(max=200)]
    )
    client_secret = PasswordField(
        _l("Client secret"), validators=[Optional(), Length(max=1000)], render_kw={"autocomplete": "off"}
    )
    cert_key = TextAreaField(
        _l("Certificate private key, PEM (Entra ID, instead of a secret)"),
        validators=[Optional(), Length(max=20_000)], render_kw={"rows": 6, "spellcheck": "false"},
    )
    cert_thumbprint = StringField(_l("Certificate thumbprint (SHA-1)"), validators=[Optional(), Length(max=64)])
    domains = StringField(
        _l("E-mail domains"), validators=[DataRequired(_l("Enter at least one domain.")), Length(max=5000)]
    )
    jit_enabled = BooleanField(_l("Create accounts for unknown members on their first sign-in"))
    jit_role = SelectField(
        _l("Role of accounts created on first sign-in"),
        choices=[SelectChoice("collaborator", _l("Collaborator")), SelectChoice("admin", _l("Administrator"))],
        default="collaborator",
    )
    password_allowed = BooleanField(_l("Members of these domains may still sign in with a password"), default=True)


class PlainForm(FlaskForm):  # type: ignore[misc]
    """A button: only the CSRF token."""
