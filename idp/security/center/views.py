"""Security center pages: overview, sessions and devices, sign-in notifications and their second
address, lockout threshold."""

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

from idp.errors import ValidationError
from idp.security.center import SECURITY
from idp.security.center.forms import ActionForm
from idp.security.center.forms import AddressForm
from idp.security.center.forms import NotificationsForm
from idp.security.center.forms import ThresholdForm
from idp.security.center.service import SecurityCenterService
from idp.security.notifications import SESSIONS_PATH
from idp.security.notifications import NotificationService
from idp.security.notify_address import CONFIRM_PATH
from idp.security.notify_address import AddressLinkError
from idp.security.notify_address import NotificationAddressService
from idp.web.current import recent_auth_required
from idp.web.current import request_context
from idp.web.current import services
from idp.web.i18n import translate_error

bp = Blueprint("security", __name__, url_prefix="/security")

Page = str | BaseResponse | tuple[str, int]


def _center() -> SecurityCenterService:
    center: SecurityCenterService = services().get(SECURITY).center
    return center


def _notifications() -> NotificationService:
    notifications: NotificationService = services().get(SECURITY).notifications
    return notifications


def _address() -> NotificationAddressService:
    address: NotificationAddressService = services().get(SECURITY).notify_address
    return address


@bp.get("/")
@login_required  # type: ignore[untyped-decorator]
def index() -> str:
    return render_template("security/index.html", review=services().get(SECURITY).wizard.review(current_user.user))


@bp.get(SESSIONS_PATH.removeprefix("/security"))
@login_required  # type: ignore[untyped-decorator]
def sessions() -> str:
    listed = services().sessions.list(current_user.user.id)
    return render_template(
        "security/sessions.html", sessions=listed, current=current_user.session, form=ActionForm(),
    )


@bp.post("/sessions/<handle>/end")
@login_required  # type: ignore[untyped-decorator]
def end_session(handle: str) -> Page:
    form = ActionForm()
    if not form.validate_on_submit():
        return _bad_form(_("The form has expired; please submit it again."))
    if handle == current_user.session.handle:
        flash(_("To end this session, sign out."), "warning")
    elif services().sessions.end(current_user.user.id, handle[:64], request_context(), actor_id=current_user.user.id):
        flash(_("The session has been ended: that device is signed out."), "success")
    else:
        flash(_("That session had already ended."), "warning")
    return redirect(url_for("security.sessions"))


@bp.post("/sessions/end-others")
@login_required  # type: ignore[untyped-decorator]
def end_other_sessions() -> Page:
    form = ActionForm()
    if not form.validate_on_submit():
        return _bad_form(_("The form has expired; please submit it again."))
    count = services().sessions.end_all(
        current_user.user.id, request_context(), keep=current_user.session, actor_id=current_user.user.id,
        reason="owner",
    )
    flash(_("%(count)s other session(s) ended.", count=count), "success")
    return redirect(url_for("security.sessions"))


def _bad_form(message: str) -> tuple[str, int]:
    return render_template("errors/error.html", status=400, title=_("Something is not right"), message=message), 400


@bp.route("/notifications", methods=["GET", "POST"])
@recent_auth_required
def notifications() -> Page:
    user = current_user.user
    form = NotificationsForm()
    if form.validate_on_submit():
        try:
            _notifications().set(user, form.choice.data or "", request_context())
        except ValidationError as exc:
            form.choice.errors.append(translate_error(exc))
        else:
            flash(_("Your notification settings are saved."), "success")
            return redirect(url_for("security.notifications"))
    elif not form.is_submitted():
        form.choice.data = _notifications().get(user).choice
    return _notifications_page(form, AddressForm(formdata=None))


def _notifications_page(form: NotificationsForm, address_form: AddressForm) -> tuple[str, int]:
    status = 400 if form.errors or address_form.errors else 200
    return render_template(
        "security/notifications.html", form=form, address_form=address_form, remove_form=ActionForm(),
        address=_address().state(current_user.user),
    ), status


@bp.post("/notifications/address")
@recent_auth_required
def add_address() -> Page:
    form = AddressForm()
    if form.validate_on_submit():
        try:
            address = _address().add(current_user.user, form.address.data or "", request_context())
        except ValidationError as exc:
            form.address.errors.append(translate_error(exc))
        else:
            flash(_("We sent a confirmation link to %(address)s. Notifications go there once you open it.",
                    address=address), "success")
            return redirect(url_for("security.notifications"))
    choice = NotificationsForm(formdata=None)
    choice.choice.data = _notifications().get(current_user.user).choice
    if not form.errors:
        form.address.errors.append(_("The form has expired; please submit it again."))
    return _notifications_page(choice, form)


@bp.post("/notifications/address/remove")
@recent_auth_required
def remove_address() -> Page:
    if not ActionForm().validate_on_submit():
        return _bad_form(_("The form has expired; please submit it again."))
    if _address().remove(current_user.user, request_context()):
        flash(_("The second address no longer receives your notifications."), "success")
    return redirect(url_for("security.notifications"))


@bp.route(CONFIRM_PATH.removeprefix("/security") + "<token>", methods=["GET", "POST"])
@login_required  # type: ignore[untyped-decorator]
def confirm_address(token: str) -> Page:
    """The link in the mail: GET shows the address and a button; only the POST confirms, so a
    mail scanner that opens links changes nothing."""
    form = ActionForm()
    try:
        if form.validate_on_submit():
            address = _address().confirm(current_user.user, token, request_context())
            flash(_("%(address)s now receives your sign-in notifications.", address=address), "success")
            return redirect(url_for("security.notifications"))
        if form.is_submitted():
            return _bad_form(_("The form has expired; please submit it again."))
        address = _address().check(current_user.user, token)
    except AddressLinkError as exc:
        return render_template("security/address_refused.html", message=translate_error(exc)), 400
    return render_template("security/address_confirm.html", form=form, address=address)


@bp.route("/lockout", methods=["GET", "POST"])
@recent_auth_required
def lockout() -> Page:
    user = current_user.user
    form = ThresholdForm()
    if form.validate_on_submit():
        try:
            _center().set_threshold(user, form.threshold.data, request_context())
        except ValidationError as exc:
            form.threshold.errors.append(translate_error(exc))
        else:
            flash(_("Your account now locks after %(count)s failed attempts.", count=form.threshold.data), "success")
            return redirect(url_for("security.lockout"))
    elif not form.is_submitted():
        form.threshold.data = user.lockout_threshold
    status = 400 if form.errors else 200
    return render_template("security/lockout.html", form=form, user=user), status
