"""Sign-in pages: e-mail, then password, then whatever factor the account requires; logout."""

from __future__ import annotations

from flask import Blueprint
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_login import login_required
from werkzeug.wrappers import Response as BaseResponse

from idp.auth.forms import IdentifyForm
from idp.auth.forms import LogoutForm
from idp.auth.forms import PasswordForm
from idp.auth.forms import ReauthForm
from idp.auth.service import Flow
from idp.auth.service import Outcome
from idp.errors import AuthenticationError
from idp.errors import FlowError
from idp.errors import PasswordLockedError
from idp.errors import ValidationError
from idp.web.current import request_context
from idp.web.current import services
from idp.web.i18n import translate_error
from idp.web.plumbing import clear_session_cookie
from idp.web.plumbing import set_device_cookie
from idp.web.plumbing import set_session_cookie
from idp.web.redirects import safe_next

bp = Blueprint("auth", __name__)

FLOW_KEY = "signin_flow"


def _flow_id() -> str | None:
    return session.get(FLOW_KEY)


def _restart(message: str | None = None) -> BaseResponse:
    if message:
        flash(message, "warning")
    session.pop(FLOW_KEY, None)
    return redirect(url_for("auth.identify"))


def finish(outcome: Outcome) -> BaseResponse:
    """Set the new session cookie and the device cookie, and go where the person was going (factor
    pages call this too)."""
    if not outcome.done:
        factor = services().factors.get(outcome.flow.factors[0])
        if factor is None:
            return _restart(_("Your sign-in has expired. Please start again."))
        return redirect(url_for(factor.endpoint))
    session.clear()  # drop everything from before sign-in, CSRF token included
    response = redirect(outcome.flow.next or url_for("account.home"))
    set_session_cookie(response, outcome.session_id or "")
    set_device_cookie(response)
    return response


@bp.route("/login", methods=["GET", "POST"])
def identify() -> str | BaseResponse:
    signin = services().signin
    form = IdentifyForm()
    raw_next = request.values.get("next")
    next_url = safe_next(raw_next)
    off_site = bool(raw_next) and next_url is None
    if request.method == "GET":
        if current_user.is_authenticated and next_url:
            return redirect(next_url)
        form.login.data = request.args.get("login_hint", "")[:320]
        form.next.data = next_url or ""
        return render_template(
            "auth/identify.html", form=form, off_site=off_site, alternatives=services().alternatives
        )
    if form.validate_on_submit():
        flow = signin.start(next_url=next_url)
        try:
            flow = signin.identify(flow.id, form.login.data or "")
        except ValidationError as exc:
            form.login.errors.append(translate_error(exc))
        else:
            session[FLOW_KEY] = flow.id
            for route in services().identify_routes:
                target = route(form.login.data or "", flow)
                if target:
                    return redirect(target)
            return redirect(url_for("auth.password"))
    return render_template(
            "auth/identify.html", form=form, off_site=off_site, alternatives=services().alternatives
        ), 400  # type: ignore[return-value]


@bp.route("/login/password", methods=["GET", "POST"])
def password() -> str | BaseResponse | tuple[str, int]:
    signin = services().signin
    form = PasswordForm()
    if request.method == "POST" and form.validate_on_submit():
        # The service loads the flow itself (once): this page reads it only to show the form.
        try:
            return finish(signin.check_password(_flow_id(), form.password.data or "", request_context()))
        except AuthenticationError:
            form.password.errors.append(_("Wrong e-mail or password."))
        except ValidationError as exc:
            form.password.errors.append(translate_error(exc))
        except FlowError:
            return _restart(_("Your sign-in has expired. Please start again."))
    try:
        flow: Flow = signin.load(_flow_id())
    except FlowError:
        return _restart(_("Your sign-in has expired. Please start again."))
    page = render_template("auth/password.html", form=form, login=flow.login)
    return (page, 401) if request.method == "POST" else page


@bp.route("/reauth", methods=["GET", "POST"])
@login_required  # type: ignore[untyped-decorator]
def reauth() -> str | BaseResponse | tuple[str, int]:
    """Confirm it is still you before a sensitive change."""
    form = ReauthForm()
    next_url = safe_next(request.values.get("next")) or url_for("account.home")
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                services().signin.reauthenticate(
                    current_user.user, current_user.session, form.password.data or "", request_context()
                )
            except PasswordLockedError:
                form.password.errors.append(_(
                    "Your password is locked after too many failed attempts. Confirm it is you another"
                    " way, or unlock it with the link sent to your e-mail address."
                ))
            except AuthenticationError:
                form.password.errors.append(_("Wrong password."))
            else:
                return redirect(next_url)
        return render_template("auth/reauth.html", form=form, next_url=next_url, methods=services().reauth), 401
    form.next.data = next_url
    return render_template("auth/reauth.html", form=form, next_url=next_url, methods=services().reauth)


@bp.post("/logout")
def logout() -> BaseResponse:
    form = LogoutForm()
    if not form.validate_on_submit():
        return redirect(url_for("account.home"))
    if current_user.is_authenticated:
        services().sessions.logout(current_user.session, request_context())
    session.clear()
    response = redirect(url_for("auth.logged_out"))
    clear_session_cookie(response)
    return response


@bp.get("/logged-out")
def logged_out() -> str:
    return render_template("auth/logged_out.html")
