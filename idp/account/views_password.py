"""Password pages: change it (or set a first one) when signed in; forgot it, then the e-mailed link."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from flask_login import login_required
from werkzeug.wrappers import Response as BaseResponse

from idp.account.forms import ChangePasswordForm
from idp.account.forms import ForgotPasswordForm
from idp.account.forms import ResetPasswordForm
from idp.account.forms import SetPasswordForm
from idp.account.reset import ResetLinkError
from idp.errors import PasswordLockedError
from idp.errors import ValidationError
from idp.web.current import recent_auth_required
from idp.web.current import request_context
from idp.web.current import services
from idp.web.i18n import translate_error

bp = Blueprint("password", __name__)

Page = str | BaseResponse | tuple[str, int]


def _page(template: str, **values: Any) -> str:
    """A password page: it states the length rule the service applies."""
    return render_template(template, min_length=services().passwords.min_length, **values)


def _field_error(form: Any, exc: ValidationError) -> None:
    """Put a service's refusal under the field it names (the new password when it names none)."""
    name = exc.field if exc.field in form else "new_password"
    form[name].errors.append(translate_error(exc))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required  # type: ignore[untyped-decorator]
def change() -> Page:
    """Change the password (the current one first), or set one where the account has none."""
    kind = services().account_passwords.kind(current_user.user)
    if kind == "set":
        return _set_first()
    if kind == "sso":
        return render_template("account/password_sso.html")
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            ended = services().account_passwords.change(
                current_user.user, current_user.session, current=form.current_password.data or "",
                new=form.new_password.data or "", confirm=form.confirm.data or "",
                sign_out_others=bool(form.sign_out_others.data), ctx=request_context(),
            )
        except PasswordLockedError:
            form.current_password.errors.append(_(
                "Your password is locked after too many failed attempts. Unlock it with the link sent"
                " to your e-mail address, or reset it from the sign-in page."
            ))
        except ValidationError as exc:
            _field_error(form, exc)
        else:
            message = _("Your password is changed. We sent you an e-mail about it.")
            if ended:
                message += " " + ngettext("%(num)d other session was signed out.",
                                          "%(num)d other sessions were signed out.", ended)
            flash(message, "success")
            return redirect(url_for("account.home"))
    status = 400 if form.errors else 200
    return _page("account/password.html", form=form, wizard_url=services().compromised_password_link()), status


@recent_auth_required
def _set_first() -> Page:
    # No current password to prove it is the owner: a recent sign-in or confirmation stands in.
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            services().account_passwords.set_first(
                current_user.user, new=form.new_password.data or "", confirm=form.confirm.data or "",
                ctx=request_context(),
            )
        except ValidationError as exc:
            _field_error(form, exc)
        else:
            flash(_("Your account has a password now. We sent you an e-mail about it."), "success")
            return redirect(url_for("account.home"))
    status = 400 if form.errors else 200
    return _page("account/password_set.html", form=form), status


@bp.route("/login/forgot", methods=["GET", "POST"])
def forgot() -> Page:
    """Ask for a reset link. Whatever the address, the answer is the same page."""
    form = ForgotPasswordForm()
    if request.method == "GET":
        form.login.data = request.args.get("login", "")[:320]
    elif form.validate_on_submit():
        try:
            services().password_reset.request(form.login.data or "", request_context())
        except ValidationError as exc:
            form.login.errors.append(translate_error(exc))
        else:
            return redirect(url_for("password.forgot_sent"))
    status = 400 if form.errors else 200
    return render_template("auth/forgot.html", form=form), status


@bp.get("/login/forgot/sent")
def forgot_sent() -> str:
    return render_template("auth/forgot_sent.html", minutes=services().settings.security.password_reset_link_ttl // 60)


@bp.route("/login/reset/<token>", methods=["GET", "POST"])
def reset(token: str) -> Page:
    """Anyone holding the link reaches the form (it proves the mailbox). Opening it changes
    nothing (mail scanners follow links); submitting the form sets the password, and the person
    signs in with it, second factor included."""
    service = services().password_reset
    try:
        user = service.check(token)
    except ResetLinkError as exc:
        return render_template("auth/reset_refused.html", message=translate_error(exc)), 400
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            service.reset(token, new=form.new_password.data or "", confirm=form.confirm.data or "",
                          ctx=request_context())
        except ResetLinkError as exc:
            return render_template("auth/reset_refused.html", message=translate_error(exc)), 400
        except ValidationError as exc:
            _field_error(form, exc)
        else:
            flash(_("Your password is changed, and every session of your account was signed out. Sign in with"
                    " the new password."), "success")
            return redirect(url_for("auth.identify", login_hint=user.email))
    status = 400 if form.errors else 200
    return _page("auth/reset.html", form=form, user=user), status
