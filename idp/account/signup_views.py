"""Sign-up pages: the form, "check your e-mail", and the activation link's page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from idp.account.forms import ActivateForm
from idp.account.forms import SignupForm
from idp.account.signup import SignupRequest
from idp.errors import ValidationError
from idp.web.current import request_context
from idp.web.current import services
from idp.web.i18n import translate_error

bp = Blueprint("signup", __name__)

Page = str | BaseResponse | tuple[str, int]


@bp.app_context_processor
def _signup_link() -> dict[str, Any]:
    # The sign-in page links to the sign-up page only while it is on.
    return {"signup_enabled": services().settings.signup.enabled}


@bp.before_request
def _only_when_enabled() -> None:
    # The activation page stays: accounts made before sign-up was turned off can still confirm.
    if request.endpoint in ("signup.form", "signup.sent") and not services().settings.signup.enabled:
        abort(404)


@bp.route("/signup", methods=["GET", "POST"])
def form() -> Page:
    """Create an account. Whether or not the address has one, the answer is the same page."""
    page = SignupForm()
    if page.validate_on_submit():
        try:
            services().signup.sign_up(SignupRequest(
                email=page.email.data or "", given_name=page.given_name.data or "",
                family_name=page.family_name.data or "", password=page.new_password.data or "",
                confirm=page.confirm.data or "", locale=_locale(),
            ), request_context())
        except ValidationError as exc:
            name = exc.field if exc.field in page else "email"
            page[name].errors.append(translate_error(exc))
        else:
            return redirect(url_for("signup.sent"))
    status = 400 if page.errors else 200
    return render_template("auth/signup.html", form=page, min_length=services().passwords.min_length), status


def _locale() -> str:
    """The page's language becomes the account's (its mail, its pages)."""
    return str(get_locale())


@bp.get("/signup/sent")
def sent() -> str:
    return render_template("auth/signup_sent.html", hours=max(1, services().settings.signup.link_ttl // 3600))


def _activate_page(token: str, form: ActivateForm, problem: str | None = None, status: int = 200) -> tuple[str, int]:
    user = None
    if problem is None:
        try:
            user = services().signup.check(token)
        except ValidationError as exc:
            problem = translate_error(exc)
    return render_template("auth/signup_activate.html", form=form, user=user, problem=problem, token=token), (
        400 if problem and status == 200 else status
    )


@bp.get("/signup/verify/<token>")
def activate(token: str) -> tuple[str, int]:
    """Show the account the link activates; only the form's POST activates it (mail scanners
    follow links)."""
    return _activate_page(token, ActivateForm(formdata=None))


@bp.post("/signup/verify/<token>")
def activated(token: str) -> Page:
    form = ActivateForm()
    if not form.validate_on_submit():
        return _activate_page(token, form, status=400)
    try:
        user = services().signup.verify(token, form.password.data or "", request_context())
    except ValidationError as exc:
        if exc.field == "password":
            form.password.errors.append(translate_error(exc))
            return _activate_page(token, form, status=400)
        return _activate_page(token, form, problem=translate_error(exc))
    flash(_("Your account is active. Sign in with your e-mail address and password."), "success")
    return redirect(url_for("auth.identify", login_hint=user.email))
