"""Forms of the app password and API token pages (Flask-WTF: a CSRF token in each)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms import SelectMultipleField
from wtforms import StringField
from wtforms import widgets
from wtforms.validators import DataRequired
from wtforms.validators import Length

from idp.security.credentials.service import MAX_NAME


class AppPasswordForm(FlaskForm):  # type: ignore[misc]
    name = StringField(
        _l("Name"),
        validators=[
            DataRequired(_l("Give it a name.")),
            Length(max=MAX_NAME, message=_l("The name can have at most %(max)d characters.")),
        ],
        render_kw={"autocomplete": "off", "autofocus": True, "maxlength": MAX_NAME},
    )


class ApiTokenForm(FlaskForm):  # type: ignore[misc]
    name = StringField(
        _l("Name"),
        validators=[
            DataRequired(_l("Give it a name.")),
            Length(max=MAX_NAME, message=_l("The name can have at most %(max)d characters.")),
        ],
        render_kw={"autocomplete": "off", "autofocus": True, "maxlength": MAX_NAME},
    )
    # Choices are checked by the service, which gives the message the person sees.
    scopes = SelectMultipleField(
        _l("Permissions"), validate_choice=False,
        widget=widgets.ListWidget(prefix_label=False), option_widget=widgets.CheckboxInput(),
    )
    days = SelectField(_l("Expires after"), validate_choice=False)


class ConfirmForm(FlaskForm):  # type: ignore[misc]
    pass
