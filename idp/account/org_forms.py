"""Organisation forms (Flask-WTF: a CSRF token in every one); the rules are the services'."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms import SelectChoice
from wtforms import SelectField
from wtforms import StringField
from wtforms.validators import Length

from idp.account.forms import SignupForm

_ROLES = [
    SelectChoice("collaborator", _l("Collaborator")),
    SelectChoice("admin", _l("Administrator")),
    SelectChoice("legal_representative", _l("Legal representative")),
]


class ButtonForm(FlaskForm):  # type: ignore[misc]
    """A button that changes something: only the CSRF token."""


class CreateOrgForm(FlaskForm):  # type: ignore[misc]
    name = StringField(
        _l("Name"), validators=[Length(max=1000, message=_l("The name is too long (200 characters at most)."))],
        render_kw={"autocomplete": "organization"},
    )
    slug = StringField(
        _l("Short name"), description=_l("2 to 63 lower-case letters, digits and dashes; it appears in addresses."),
        validators=[Length(max=100, message=_l("The short name takes 2 to 63 lower-case letters, digits and dashes."))],
        render_kw={"autocapitalize": "none", "spellcheck": "false"},
    )


class InviteForm(FlaskForm):  # type: ignore[misc]
    email = StringField(
        _l("E-mail address"), validators=[Length(max=320, message=_l("This e-mail address is too long."))],
        render_kw={"autocomplete": "off", "inputmode": "email", "type": "email"},
    )
    role = SelectField(_l("Role"), choices=_ROLES, validate_choice=False)


class RoleForm(FlaskForm):  # type: ignore[misc]
    role = SelectField(_l("Role"), choices=_ROLES, validate_choice=False)


class RequireFactorForm(FlaskForm):  # type: ignore[misc]
    required = BooleanField(_l("Require a second factor of every member"))


class DeleteOrgForm(FlaskForm):  # type: ignore[misc]
    confirm = BooleanField(_l(
        "I understand: the organisation, its members' roles, its invitations and its single sign-on"
        " connections are deleted for good."
    ))


class InvitedSignupForm(SignupForm):
    """The sign-up form of an invitation: the address is the invited one (shown, not read)."""
