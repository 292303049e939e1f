"""The home page of a signed-in person: who they are, how they signed in, and their tasks."""

from __future__ import annotations

from flask import Blueprint
from flask import render_template
from flask_login import current_user
from flask_login import login_required

from idp.auth.forms import LogoutForm
from idp.web.current import services

bp = Blueprint("account", __name__)


def _home() -> str:
    container = services()
    user = current_user.user
    return render_template(
        "account/home.html",
        user=user,
        session=current_user.session,
        memberships=container.accounts.memberships(user),
        entries=[entry for entry in container.nav if entry.shown_to(user)],
        logout_form=LogoutForm(),
    )


@bp.get("/")
@login_required  # type: ignore[untyped-decorator]
def home() -> str:
    return _home()
