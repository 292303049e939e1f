"""The sign-in flow's second-factor pages, "try another way", and passkey sign-in without an e-mail."""

from __future__ import annotations

import secrets

from flask import Blueprint
from flask import Response
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from idp.auth.service import Flow
from idp.auth.views import FLOW_KEY
from idp.auth.views import finish
from idp.errors import AuthenticationError
from idp.errors import FlowError
from idp.errors import ValidationError
from idp.mfa import MFA
from idp.mfa.forms import RecoveryCodeForm
from idp.mfa.forms import TotpCodeForm
from idp.mfa.forms import WebAuthnForm
from idp.mfa.recovery import MalformedRecoveryCodeError
from idp.mfa.service import MfaService
from idp.mfa.totp import MalformedCodeError
from idp.mfa.webauthn import WebAuthnError
from idp.model import User
from idp.web.current import request_context
from idp.web.current import services
from idp.web.i18n import translate_error
from idp.web.redirects import safe_next

bp = Blueprint("mfa_signin", __name__, url_prefix="/login")

PASSKEY_KEY = "mfa_passkey"
Page = str | BaseResponse | tuple[str, int]


def mfa() -> MfaService:
    service: MfaService = services().get(MFA)
    return service


@bp.after_request
def _never_cache(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


def _restart() -> BaseResponse:
    flash(_("Your sign-in has expired. Please start again."), "warning")
    session.pop(FLOW_KEY, None)
    return redirect(url_for("auth.identify"))


def _current(factor: str) -> tuple[Flow, User] | BaseResponse:
    """The flow waiting for `factor` and its account, or a redirect back to the start."""
    container = services()
    try:
        flow = container.signin.load(session.get(FLOW_KEY))
    except FlowError:
        return _restart()
    if flow.step != "factor" or factor not in flow.factors or flow.user_id is None:
        return _restart()
    user = container.users.get(flow.user_id)
    if user is None:
        return _restart()
    return flow, user


def _passed(flow: Flow, factor: str, amr: list[str], method: str | None = None) -> BaseResponse:
    try:
        outcome = services().signin.factor_passed(flow.id, factor, amr, request_context(), method=method)
    except FlowError:
        return _restart()
    return finish(outcome)


def _failed(flow: Flow, factor: str) -> BaseResponse | None:
    """Count the failure toward the account's lockout; a redirect when the flow is gone."""
    try:
        services().signin.factor_failed(flow.id, factor, request_context())
    except FlowError:
        return _restart()
    return None


def _page(template: str, flow: Flow, **values: object) -> str:
    return render_template(template, others=len(flow.factors) > 1, **values)


@bp.route("/totp", methods=["GET", "POST"])
def totp() -> Page:
    current = _current("totp")
    if not isinstance(current, tuple):
        return current
    flow, user = current
    form = TotpCodeForm()
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                mfa().verify_totp(user, form.code.data)
            except MalformedCodeError as exc:
                form.code.errors.append(translate_error(exc))
            except ValidationError as exc:
                form.code.errors.append(translate_error(exc))
                gone = _failed(flow, "totp")
                if gone:
                    return gone
            else:
                return _passed(flow, "totp", ["otp"])
        return _page("mfa/signin_totp.html", flow, form=form), 401
    return _page("mfa/signin_totp.html", flow, form=form)


@bp.route("/security-key", methods=["GET", "POST"])
def webauthn() -> Page:
    current = _current("webauthn")
    if not isinstance(current, tuple):
        return current
    flow, user = current
    form = WebAuthnForm()
    status = 200
    if request.method == "POST":
        status = 401
        if form.validate_on_submit():
            try:
                amr = mfa().finish_assertion(user, flow.id, form.credential.data)
            except ValidationError as exc:
                form.credential.errors.append(translate_error(exc))
                gone = _failed(flow, "webauthn")
                if gone:
                    return gone
            else:
                # A synced passkey (`swk`) or a key bound to its device (`hwk`): named apart.
                return _passed(flow, "webauthn", amr, "passkey" if "swk" in amr else "security_key")
    options = mfa().begin_assertion(user, flow.id)
    return _page("mfa/signin_key.html", flow, form=form, options=options), status


@bp.route("/recovery-code", methods=["GET", "POST"])
def recovery() -> Page:
    current = _current("recovery")
    if not isinstance(current, tuple):
        return current
    flow, user = current
    form = RecoveryCodeForm()
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                mfa().use_recovery_code(user, form.code.data, request_context())
            except MalformedRecoveryCodeError as exc:
                form.code.errors.append(translate_error(exc))
            except ValidationError as exc:
                form.code.errors.append(translate_error(exc))
                gone = _failed(flow, "recovery")
                if gone:
                    return gone
            else:
                # RFC 8176 has no value for recovery codes; they are one-time passwords.
                return _passed(flow, "recovery", ["otp"])
        return _page("mfa/signin_recovery.html", flow, form=form), 401
    return _page("mfa/signin_recovery.html", flow, form=form)


@bp.get("/other-ways")
def choose() -> Page:
    """Every factor this sign-in accepts, whoever registered it (generic over flow.factors)."""
    container = services()
    try:
        flow = container.signin.load(session.get(FLOW_KEY))
    except FlowError:
        return _restart()
    if flow.step != "factor":
        return _restart()
    factors = [f for f in (container.factors.get(name) for name in flow.factors) if f is not None]
    return render_template("mfa/signin_choose.html", factors=factors)


@bp.route("/passkey", methods=["GET", "POST"])
def passkey() -> Page:
    """Sign in with a passkey alone: the browser offers the discoverable credentials it holds
    for this site; the credential names the account, no e-mail is typed."""
    form = WebAuthnForm()
    next_url = safe_next(request.values.get("next"))
    status = 200
    if request.method == "POST":
        status = 401
        token = session.pop(PASSKEY_KEY, None)
        if form.validate_on_submit():
            try:
                if not isinstance(token, str):
                    raise WebAuthnError("no pending challenge")
                user_id, amr = mfa().finish_passkey(token, form.credential.data, request_context())
                signin = services().signin
                flow = signin.start(next_url=next_url)
                outcome = signin.first_factor_passed(flow.id, user_id, amr, request_context())
            except ValidationError as exc:
                form.credential.errors.append(translate_error(exc))
            except AuthenticationError:
                form.credential.errors.append(_("This account cannot sign in."))
            else:
                return finish(outcome)
    token = secrets.token_urlsafe(24)
    session[PASSKEY_KEY] = token
    options = mfa().begin_passkey(token)
    return render_template("mfa/passkey.html", form=form, options=options, next_url=next_url or ""), status
