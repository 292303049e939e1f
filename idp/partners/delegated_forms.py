"""The forms of acting for a client and of the client's members page (Flask-WTF: a CSRF token in
every one); the rules are the services'."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectChoice
from wtforms import SelectField
from wtforms import StringField
from wtforms.validators import Length

# A partner invites no legal representative: the roles below it.
ROLES = [SelectChoice("collaborator", _l("Collaborator")), SelectChoice("admin", _l("Administrator"))]


class ActionForm(FlaskForm):  # type: ignore[misc]
    """A button that changes something (act, stop acting, withdraw, remove): the CSRF token only."""


class DelegatedInviteForm(FlaskForm):  # type: ignore[misc]
    email = StringField(
        _l("E-mail address"), validators=[Length(max=320, message=_l("This e-mail address is too long."))],
        render_kw={"autocomplete": "off", "inputmode": "email", "type": "email"},
    )
    role = SelectField(_l("Role"), choices=ROLES, validate_choice=False)
