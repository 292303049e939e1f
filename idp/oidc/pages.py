"""The Applications page: what each application may see, and withdrawing it."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask import flash
from flask import redirect
from flask import render_template
from flask_babel import gettext as _
from flask_login import current_user
from flask_login import login_required

from idp.oidc import OIDC
from idp.oidc.forms import RevokeForm
from idp.web.current import request_context
from idp.web.current import services

pages = Blueprint("oidc_pages", __name__)


@pages.get("/applications")
@login_required  # type: ignore[untyped-decorator]
def applications() -> str:
    apps = services().get(OIDC).service.applications(current_user.user)
    return render_template("oidc/applications.html", apps=apps, form=RevokeForm())


@pages.post("/applications/<client_id>/revoke")
@login_required  # type: ignore[untyped-decorator]
def revoke(client_id: str) -> Any:
    form = RevokeForm()
    if form.validate_on_submit() and len(client_id) <= 64:
        if services().get(OIDC).service.withdraw(current_user.user, client_id, request_context()):
            flash(_("Access withdrawn. The application must ask again."), "success")
        else:
            flash(_("This application had no access to withdraw."), "warning")
    return redirect("/applications")
