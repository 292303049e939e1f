"""The "compromised password?" wizard: 1 replace the password, 2 revoke access, 3 review settings."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask import flash
from flask import redirect
from flask import render_template
from flask import session
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from idp.errors import ValidationError
from idp.security.center import SECURITY
from idp.security.center.forms import ActionForm
from idp.security.center.forms import WizardPasswordForm
from idp.security.center.forms import WizardRevokeForm
from idp.security.notifications import WIZARD_PATH
from idp.security.wizard import WizardService
from idp.web.current import recent_auth_required
from idp.web.current import request_context
from idp.web.current import services
from idp.web.i18n import translate_error

bp = Blueprint("wizard", __name__, url_prefix=WIZARD_PATH)

# Progress through the steps, kept in the signed Flask session and tied to this session's handle.
STATE = "security_wizard"

Page = str | BaseResponse | tuple[str, int]


def public_url() -> str:
    """The wizard's address on the public server (`server.base_url`, never the request's Host:
    kAuth hands it to a phone and puts it in mail). Offered to other capabilities as
    the COMPROMISED_PASSWORD_URL hook."""
    return services().settings.server.base_url + url_for("wizard.password")


def _wizard() -> WizardService:
    wizard: WizardService = services().get(SECURITY).wizard
    return wizard


def _state() -> dict[str, Any]:
    state = session.get(STATE) or {}
    if state.get("session") != current_user.session.handle:
        return {}
    return dict(state)


def _save(state: dict[str, Any]) -> None:
    session[STATE] = state | {"session": current_user.session.handle}


@bp.route("/", methods=["GET", "POST"])
@recent_auth_required
def password() -> Page:
    form = WizardPasswordForm()
    if form.validate_on_submit():
        try:
            _wizard().replace_password(
                current_user.user, form.current_password.data or "", form.new_password.data or "", request_context()
            )
        except ValidationError as exc:
            field = form.current_password if exc.field == "current_password" else form.new_password
            field.errors.append(translate_error(exc))
        else:
            _save({"password": True})
            return redirect(url_for("wizard.revoke"))
    status = 400 if form.errors else 200
    return render_template("security/wizard_password.html", form=form, step=1), status


@bp.route("/revoke", methods=["GET", "POST"])
@recent_auth_required
def revoke() -> Page:
    state = _state()
    if not state.get("password"):
        return redirect(url_for("wizard.password"))
    wizard = _wizard()
    form = WizardRevokeForm()
    if form.validate_on_submit():
        summary = wizard.revoke(
            current_user.user, request_context(), keep=current_user.session,
            end_sessions=bool(form.end_sessions.data), revoke_grants=bool(form.revoke_grants.data),
        )
        _save(state | summary | {"revoked": True})
        return redirect(url_for("wizard.review"))
    status = 400 if form.errors else 200
    return render_template(
        "security/wizard_revoke.html", form=form, step=2, can_revoke_grants=wizard.can_revoke_grants,
        can_revoke_credentials=wizard.can_revoke_credentials,
    ), status


@bp.route("/review", methods=["GET", "POST"])
@recent_auth_required
def review() -> Page:
    state = _state()
    if not state.get("revoked"):
        return redirect(url_for("wizard.revoke" if state.get("password") else "wizard.password"))
    wizard = _wizard()
    form = ActionForm()
    if form.validate_on_submit():
        summary: dict[str, Any] = {k: state[k] for k in ("password", "credentials", "sessions", "grants") if k in state}
        wizard.complete(current_user.user, request_context(), summary)
        session.pop(STATE, None)
        flash(_("Done. We sent you an e-mail with a summary of what was changed."), "success")
        return redirect(url_for("security.index"))
    status = 400 if form.errors else 200
    return render_template(
        "security/wizard_review.html", form=form, step=3, lines=wizard.review(current_user.user), state=state,
    ), status
