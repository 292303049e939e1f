"""Changing the login e-mail: ask on the profile (after re-authentication), confirm from the link."""

from __future__ import annotations

from flask import Blueprint
from flask import flash
from flask import redirect
from flask import render_template
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_login import login_required
from werkzeug.wrappers import Response as BaseResponse

from idp.account.forms import EmailForm
from idp.account.forms import PlainForm
from idp.errors import ValidationError
from idp.web.current import recent_auth_required
from idp.web.current import request_context
from idp.web.current import services
from idp.web.i18n import translate_error

bp = Blueprint("email", __name__)


def _page(form: EmailForm | None = None, status: int = 200) -> tuple[str, int]:
    user = current_user.user
    return render_template(
        "account/email.html", user=user, form=form or EmailForm(formdata=None),
        managed=services().email_change.owned_by_directory(user),
    ), status


@bp.get("/profile/email")
@recent_auth_required
def change() -> tuple[str, int]:
    return _page()


@bp.post("/profile/email")
@recent_auth_required
def ask() -> BaseResponse | tuple[str, int]:
    form = EmailForm()
    if form.validate_on_submit():
        try:
            sent_to = services().email_change.request(current_user.user, form.email.data or "",
                                                      ctx=request_context())
        except ValidationError as exc:
            form.email.errors.append(translate_error(exc))
        else:
            flash(_("We sent a link to %(email)s. Open it while signed in to confirm the change; until then, "
                    "you sign in with your current address.", email=sent_to), "success")
            return redirect(url_for("profile.profile"))
    return _page(form, 400)


def _confirm_page(token: str, status: int = 200, problem: str | None = None) -> tuple[str, int]:
    pending = None
    if problem is None:
        try:
            pending = services().email_change.pending(current_user.user, token)
        except ValidationError as exc:
            problem = translate_error(exc)
    return render_template("account/email_confirm.html", token=token, pending=pending, problem=problem,
                           form=PlainForm(formdata=None)), (400 if problem and status == 200 else status)


@bp.get("/profile/email/confirm/<token>")
@login_required  # type: ignore[untyped-decorator]
def confirm(token: str) -> tuple[str, int]:
    """Show what the link would change; only the button's POST changes it (no change on GET)."""
    return _confirm_page(token)


@bp.post("/profile/email/confirm/<token>")
@login_required  # type: ignore[untyped-decorator]
def confirmed(token: str) -> BaseResponse | tuple[str, int]:
    if not PlainForm().validate_on_submit():
        return _confirm_page(token, 400)
    try:
        user = services().email_change.confirm(current_user.user, token, ctx=request_context())
    except ValidationError as exc:
        return _confirm_page(token, 400, translate_error(exc))
    flash(_("Your login e-mail is now %(email)s.", email=user.email), "success")
    return redirect(url_for("profile.profile"))
