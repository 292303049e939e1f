"""The invitation link's pages: accept as the invited account, or create the account and join."""

from __future__ import annotations

from flask import Blueprint
from flask import flash
from flask import redirect
from flask import render_template
from flask import url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from idp.account.invitations import Opened
from idp.account.org_forms import ButtonForm
from idp.account.org_forms import InvitedSignupForm
from idp.account.signup import SignupRequest
from idp.errors import ValidationError
from idp.web.current import request_context
from idp.web.current import services
from idp.web.i18n import translate_error

bp = Blueprint("org_invitations", __name__, url_prefix="/orgs/invitations")

Page = str | BaseResponse | tuple[str, int]


def _show(token: str, *, status: int = 200, signup: InvitedSignupForm | None = None,
          problem: str | None = None, refused: str | None = None) -> tuple[str, int]:
    """The invitation as the visitor can act on it: signed in as the invited address (accept),
    as another account (refused), signed out with an account (sign in first), or without one
    (the sign-up form, its address fixed)."""
    opened: Opened | None = None
    if problem is None:
        try:
            opened = services().invitations.open(token)
        except ValidationError as exc:
            problem = translate_error(exc)
    wrong = bool(opened and current_user.is_authenticated
                 and current_user.user.email.strip().lower() != opened.invitation.email.strip().lower())
    if opened is not None and signup is None:
        signup = InvitedSignupForm(formdata=None)
    return render_template(
        "orgs/invitation.html", opened=opened, token=token, problem=problem, wrong_account=wrong,
        button=ButtonForm(), form=signup, refused=refused, min_length=services().passwords.min_length,
    ), status if problem is None or status != 200 else 400


@bp.get("/<token>")
def show(token: str) -> tuple[str, int]:
    """Nothing changes on GET (mail scanners follow links): accepting is the page's form."""
    return _show(token)


@bp.post("/<token>")
def accept(token: str) -> Page:
    if not current_user.is_authenticated:
        return redirect(url_for("org_invitations.show", token=token))
    if not ButtonForm().validate_on_submit():
        return _show(token, status=400)
    try:
        org = services().invitations.accept(current_user.user, token, request_context())
    except ValidationError as exc:
        return _show(token, problem=translate_error(exc))
    flash(_("Welcome to %(name)s.", name=org.name), "success")
    return redirect(url_for("orgs.page", slug=org.slug))


@bp.post("/<token>/signup")
def signup(token: str) -> Page:
    form = InvitedSignupForm()
    if current_user.is_authenticated:
        return redirect(url_for("org_invitations.show", token=token))
    if not form.validate_on_submit():
        return _show(token, status=400, signup=form)
    try:
        user = services().invitations.sign_up(token, SignupRequest(
            email="", given_name=form.given_name.data or "", family_name=form.family_name.data or "",
            password=form.new_password.data or "", confirm=form.confirm.data or "", locale=str(get_locale()),
        ), request_context())
    except ValidationError as exc:
        if exc.field in ("given_name", "family_name", "new_password", "confirm"):
            form[exc.field].errors.append(translate_error(exc))
            return _show(token, status=400, signup=form)
        if exc.field is not None:  # the address (an organisation's directory owns its domain)
            return _show(token, status=400, signup=form, refused=translate_error(exc))
        return _show(token, problem=translate_error(exc))
    flash(_("Your account is ready and you joined the organisation. Sign in with your e-mail address and password."),
          "success")
    return redirect(url_for("auth.identify", login_hint=user.email))
