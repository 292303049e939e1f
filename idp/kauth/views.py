"""kAuth pages: the devices list, "Add kAuth" (QR code), removal, and the sign-in waiting page."""

from __future__ import annotations

from typing import Any

import segno
from flask import Blueprint
from flask import Response
from flask import flash
from flask import jsonify
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from flask_babel import gettext as _
from flask_babel import ngettext as plural
from flask_login import current_user
from flask_login import login_required
from werkzeug.wrappers import Response as BaseResponse

from idp.auth.service import Flow
from idp.auth.views import FLOW_KEY
from idp.auth.views import finish
from idp.capability import RECOVERY_CODES
from idp.errors import FlowError
from idp.errors import NotFoundError
from idp.kauth import KAUTH
from idp.kauth import fresh_recovery_codes
from idp.kauth.errors import ApprovalBusyError
from idp.kauth.errors import ApprovalCappedError
from idp.kauth.errors import TooManyDevicesError
from idp.kauth.forms import ApprovalForm
from idp.kauth.forms import RemoveForm
from idp.kauth.service import AMR
from idp.kauth.service import KauthService
from idp.model import User
from idp.standing import first_factor_act
from idp.standing import may
from idp.web.current import recent_auth_required
from idp.web.current import request_context
from idp.web.current import services
from idp.web.i18n import translate_error

bp = Blueprint("kauth", __name__)

CHALLENGE_KEY = "kauth_challenge"
# What the waiting browser is told of each answer: a report reads as a plain refusal there.
REFUSED = {"denied", "reported"}
SHOWN_STATUS = {"reported": "denied"}


def kauth() -> KauthService:
    service: KauthService = services().get(KAUTH)
    return service


def review_status(user: User) -> str:
    # The plural is extracted from templates/kauth/devices.html, which shows the same phrase
    # (the Python extractor is configured to read ngettext as singular-only).
    count = len(kauth().devices_of(user))
    return str(plural("%(num)d kAuth device", "%(num)d kAuth devices", count) if count else _("Off"))


def enrolment_link(token: str) -> str:
    """What the QR code holds: the server the device must reach, and the single-use token.
    The server is this service's public address (`server.base_url`), never the request's Host:
    a forged Host or X-Forwarded-Host would send the device, and its token, to another site."""
    from urllib.parse import urlencode

    return "kauth://enrol?" + urlencode({"v": "1", "server": services().settings.server.base_url, "token": token})


# -- managing devices --------------------------------------------------------------------


@bp.get("/security/kauth")
@login_required  # type: ignore[untyped-decorator]
def devices() -> str:
    return render_template("kauth/devices.html", devices=kauth().devices_of(current_user.user))


@bp.get("/security/kauth/add")
@recent_auth_required
def add() -> str | BaseResponse:
    try:
        enrolment = kauth().start_enrolment(current_user.user)
    except TooManyDevicesError as exc:
        flash(translate_error(exc), "warning")
        return redirect(url_for("kauth.devices"))
    link = enrolment_link(enrolment.token)
    qr = segno.make(link, error="m").svg_inline(scale=4, title=_("kAuth enrolment code"))
    return render_template(
        "kauth/add.html", link=link, qr=qr, expires_at=enrolment.expires_at,
        status_url=url_for("kauth.enrol_status", h=enrolment.handle),
        interval=services().settings.kauth.poll_interval,
    )


@bp.get("/security/kauth/add/status")
@login_required  # type: ignore[untyped-decorator]
def enrol_status() -> Response:
    result = kauth().enrolment_status(current_user.user, request.args.get("h", ""))
    if isinstance(result, str):
        payload: dict[str, Any] = {"status": result}
    else:
        payload = {"status": "done", "device": result.name,
                   "message": _("%(device)s is ready to approve your sign-ins.", device=result.name)}
        codes_page = fresh_recovery_codes(services().find(RECOVERY_CODES), current_user.user)
        if codes_page is not None:
            payload["next"] = url_for(codes_page)
            payload["next_label"] = _("Save your recovery codes now")
    response = jsonify(payload)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/security/kauth/devices/<device_id>/remove", methods=["GET", "POST"])
@recent_auth_required
def remove(device_id: str) -> str | BaseResponse | tuple[str, int]:
    # A recent proof of who this is, with any way the account has (the re-authentication page
    # offers the password, a second factor and the organisation's directory): an account without
    # a password can remove a device too, and no try here counts toward a lockout.
    user = current_user.user
    device = next((d for d in kauth().devices_of(user) if d.id == device_id), None)
    if device is None:
        flash(_("This device is not enrolled on your account."), "warning")
        return redirect(url_for("kauth.devices"))
    form = RemoveForm()
    last = _is_last_factor(user)
    if request.method == "POST":
        if not form.validate_on_submit():
            return render_template("kauth/remove.html", form=form, device=device, last=last), 400
        if last and not form.understood.data:
            form.understood.errors.append(_("Tick the box to confirm you want to turn off two-step verification."))
            return render_template("kauth/remove.html", form=form, device=device, last=last), 400
        try:
            kauth().remove_device(user, device.id, request_context())
        except NotFoundError as exc:
            flash(translate_error(exc), "warning")
        else:
            flash(_("%(device)s was removed. It can no longer approve your sign-ins.", device=device.name), "success")
        return redirect(url_for("kauth.devices"))
    return render_template("kauth/remove.html", form=form, device=device, last=last)


def _is_last_factor(user: User) -> bool:
    """Whether removing one device leaves the account without a second factor: it has one
    device and no other factor that proves possession (recovery codes do not count)."""
    if len(kauth().devices_of(user)) != 1:
        return False
    return all(factor.name == "kauth" for factor in services().factors.possession(user))


# -- signing in --------------------------------------------------------------------------


def _restart() -> BaseResponse:
    flash(_("Your sign-in has expired. Please start again."), "warning")
    session.pop(FLOW_KEY, None)
    session.pop(CHALLENGE_KEY, None)
    return redirect(url_for("auth.identify"))


def _not_here() -> BaseResponse:
    """Back to the flow's current step: before the password, no approval request is sent."""
    try:
        flow = services().signin.load(session.get(FLOW_KEY))
    except FlowError:
        return _restart()
    return redirect(url_for("auth.password")) if flow.step == "password" else _restart()


def _flow_and_user() -> tuple[Flow, User] | None:
    try:
        flow = services().signin.load(session.get(FLOW_KEY))
    except FlowError:
        return None
    if flow.step != "factor" or "kauth" not in flow.factors or flow.user_id is None:
        return None
    user = services().users.get(flow.user_id)
    return (flow, user) if user is not None and may(user, first_factor_act(flow.amr)) else None


def _others(flow: Flow) -> list[Any]:
    """The flow's other second factors, for "use another way"."""
    found = (services().factors.get(name) for name in flow.factors if name != "kauth")
    return [f for f in found if f is not None]


def _page(flow: Flow, *, status: str, number: int | None = None, message: str = "", code: int = 200) -> Any:
    return render_template(
        "kauth/signin.html", form=ApprovalForm(), status=status, number=number, message=message,
        others=_others(flow), status_url=url_for("kauth.signin_status"),
        interval=services().settings.kauth.poll_interval,
        ttl_minutes=max(1, services().settings.kauth.challenge_ttl // 60),
    ), code


@bp.route("/login/kauth", methods=["GET", "POST"])
def signin() -> Any:
    found = _flow_and_user()
    if found is None:
        return _not_here()
    flow, user = found
    service = kauth()
    if request.method == "POST":
        form = ApprovalForm()
        if not form.validate_on_submit():
            return redirect(url_for("kauth.signin"))
        challenge_id = session.get(CHALLENGE_KEY, "")
        if form.action.data == "resend" or not challenge_id:
            session.pop(CHALLENGE_KEY, None)
            return redirect(url_for("kauth.signin"))
        return _conclude(flow, user, challenge_id)
    waiting = service.waiting(user.id, session.get(CHALLENGE_KEY, ""), flow.id)
    if waiting is not None:
        return _page(flow, status="pending", number=waiting.number)
    try:
        challenge = service.open_challenge(
            user, flow.id, request_context(), application=str(flow.extra.get("client_name", ""))
        )
    except (ApprovalBusyError, ApprovalCappedError) as exc:
        return _page(flow, status="unavailable", message=translate_error(exc), code=exc.status)
    session[CHALLENGE_KEY] = challenge.id
    return _page(flow, status="pending", number=challenge.number)


def _conclude(flow: Flow, user: User, challenge_id: str) -> Any:
    ctx = request_context()
    signin = services().signin
    try:
        challenge = kauth().conclude(user.id, challenge_id, flow.id)
    except FlowError:
        session.pop(CHALLENGE_KEY, None)
        return redirect(url_for("kauth.signin"))
    if challenge.status == "pending":
        return _page(flow, status="pending", number=challenge.number)
    session.pop(CHALLENGE_KEY, None)
    if challenge.status == "approved":
        try:
            outcome = signin.factor_passed(flow.id, "kauth", AMR, ctx)
        except FlowError:
            return _restart()
        return finish(outcome)
    if challenge.status in REFUSED:
        # Refused on the device, or reported as "not me": this browser may be the one of whoever
        # knew the password, so it learns only that the request was refused (never that it was
        # reported, nor that the owner was e-mailed), and the attempt ends: no new request to
        # the phone without starting again with the password.
        signin.factor_failed(flow.id, "kauth", ctx)
        signin.abandon(flow.id)
        session.pop(FLOW_KEY, None)
        return _page(flow, status="refused", message=_("The sign-in was refused."), code=401)
    if challenge.status == "wrong_number":
        signin.factor_failed(flow.id, "kauth", ctx)
        message = _("The number chosen on your device did not match. The sign-in was refused.")
        return _page(flow, status="failed", message=message, code=401)
    return _page(flow, status="expired", message=_("The request expired before it was answered."))


@bp.get("/login/kauth/status")
def signin_status() -> Response:
    found = _flow_and_user()
    challenge_id = session.get(CHALLENGE_KEY, "")
    status = kauth().challenge_status(found[1].id, challenge_id) if found and challenge_id else "expired"
    response = jsonify({"status": SHOWN_STATUS.get(status, status)})
    response.headers["Cache-Control"] = "no-store"
    return response
