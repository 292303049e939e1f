"""Second-factor management pages: overview, authenticator app, security keys and passkeys, recovery codes."""

from __future__ import annotations

from flask import Blueprint
from flask import Response
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_login import login_required
from werkzeug.wrappers import Response as BaseResponse

from idp.errors import NotFoundError
from idp.errors import ValidationError
from idp.mfa import MFA
from idp.mfa.forms import ActionForm
from idp.mfa.forms import AddKeyForm
from idp.mfa.forms import ConfirmForm
from idp.mfa.forms import RenameForm
from idp.mfa.forms import TotpCodeForm
from idp.mfa.forms import WebAuthnForm
from idp.mfa.service import KINDS
from idp.mfa.service import MfaService
from idp.web.current import recent_auth_required
from idp.web.current import request_context
from idp.web.current import services
from idp.web.i18n import translate_error
from idp.web.redirects import safe_next

bp = Blueprint("mfa", __name__, url_prefix="/mfa")

Page = str | BaseResponse | tuple[str, int]


def mfa() -> MfaService:
    service: MfaService = services().get(MFA)
    return service


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.after_request
def _never_cache(response: Response) -> Response:
    # Secrets (TOTP seed, recovery codes) appear on these pages: never keep them in a cache.
    return _no_store(response)


def _after_enrolment(codes: list[str] | None, message: str) -> BaseResponse:
    flash(message, "success")
    if codes:
        return redirect(url_for("mfa.recovery_codes"))
    return redirect(url_for("mfa.overview"))


@bp.get("")
@login_required  # type: ignore[untyped-decorator]
def overview() -> str:
    user = current_user.user
    return render_template(
        "mfa/overview.html", overview=mfa().overview(user), warn_below=mfa().warn_below,
        rename_form=RenameForm(), action_form=ActionForm(),
        sections=[(section, section.status(user)) for section in services().factor_sections],
    )


@bp.route("/totp", methods=["GET", "POST"])
@recent_auth_required
def totp_enrol() -> Page:
    user = current_user.user
    form = TotpCodeForm()
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            try:
                codes = mfa().confirm_totp(user, form.code.data, request_context())
            except ValidationError as exc:
                form.code.errors.append(translate_error(exc))
            else:
                return _after_enrolment(codes, _("Your authenticator app is set up."))
    setup = mfa().begin_totp(user)
    return render_template("mfa/totp_enrol.html", form=form, setup=setup), status


@bp.route("/totp/remove", methods=["GET", "POST"])
@recent_auth_required
def totp_remove() -> Page:
    user = current_user.user
    if not mfa().has_totp(user):
        return redirect(url_for("mfa.overview"))
    return _confirm_removal(
        what=_("your authenticator app"), action=url_for("mfa.totp_remove"),
        remove=lambda: mfa().remove_totp(user, request_context()),
        done=_("Your authenticator app was removed."),
    )


@bp.route("/keys/add", methods=["GET", "POST"])
@recent_auth_required
def key_add() -> Page:
    user = current_user.user
    kind = request.args.get("kind", "security_key")
    if kind not in KINDS:
        abort(404)
    form = AddKeyForm()
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            try:
                _credential, codes = mfa().finish_registration(
                    user, form.credential.data, form.name.data, request_context()
                )
            except ValidationError as exc:
                target = form.name if exc.field == "name" else form.credential
                target.errors.append(translate_error(exc))
            else:
                message = _("Your passkey was added.") if kind == "passkey" else _("Your security key was added.")
                return _after_enrolment(codes, message)
    options = mfa().begin_registration(user, kind)
    return render_template("mfa/key_add.html", form=form, kind=kind, options=options), status


@bp.post("/keys/<row_id:cred_id>/rename")
@login_required  # type: ignore[untyped-decorator]
def key_rename(cred_id: int) -> Page:
    form = RenameForm()
    if not form.validate_on_submit():
        flash(_("Give it a name of at most 64 characters."), "error")
        return redirect(url_for("mfa.overview"))
    try:
        mfa().rename_credential(current_user.user, cred_id, form.name.data, request_context())
    except NotFoundError:
        abort(404)
    except ValidationError as exc:
        flash(translate_error(exc), "error")
    else:
        flash(_("The name was changed."), "success")
    return redirect(url_for("mfa.overview"))


@bp.route("/keys/<row_id:cred_id>/remove", methods=["GET", "POST"])
@recent_auth_required
def key_remove(cred_id: int) -> Page:
    user = current_user.user
    try:
        credential = mfa().get_credential(user, cred_id)
    except NotFoundError:
        abort(404)
    return _confirm_removal(
        what=credential.name, action=url_for("mfa.key_remove", cred_id=cred_id),
        remove=lambda: mfa().remove_credential(user, cred_id, request_context()),
        done=_("“%(name)s” was removed.", name=credential.name),
    )


def _confirm_removal(*, what: str, action: str, remove: object, done: str) -> Page:
    """Removal always goes through a confirmation page; removing the last second factor also
    needs the box ticked that says the account will then rest on its password alone."""
    user = current_user.user
    last = mfa().is_last_factor(user)
    form = ConfirmForm()
    if request.method == "POST" and form.validate_on_submit():
        if last and not form.understood.data:
            form.understood.errors.append(_("Tick the box to confirm you want to turn off two-step verification."))
        else:
            try:
                remove()  # type: ignore[operator]
            except NotFoundError:
                abort(404)
            flash(done, "success")
            return redirect(url_for("mfa.overview"))
    status = 400 if request.method == "POST" else 200
    return render_template("mfa/remove.html", form=form, what=what, action=action, last=last), status


@bp.get("/recovery-codes")
@login_required  # type: ignore[untyped-decorator]
def recovery_codes() -> Page:
    codes = mfa().shown_codes(current_user.user)
    if codes is None:
        return redirect(url_for("mfa.overview"))
    return render_template("mfa/recovery_codes.html", codes=codes, form=ActionForm())


@bp.get("/recovery-codes.txt")
@login_required  # type: ignore[untyped-decorator]
def recovery_codes_download() -> Response | BaseResponse:
    codes = mfa().shown_codes(current_user.user)
    if codes is None:
        return redirect(url_for("mfa.overview"))
    text = render_template("mfa/recovery_codes.txt", codes=codes, email=current_user.user.email)
    response = Response(text, mimetype="text/plain")
    response.headers["Content-Disposition"] = 'attachment; filename="recovery-codes.txt"'
    return response


@bp.post("/recovery-codes/done")
@login_required  # type: ignore[untyped-decorator]
def recovery_codes_done() -> BaseResponse:
    if ActionForm().validate_on_submit():
        mfa().forget_shown_codes(current_user.user)
    return redirect(url_for("mfa.overview"))


@bp.route("/recovery-codes/new", methods=["GET", "POST"])
@recent_auth_required
def recovery_regenerate() -> Page:
    user = current_user.user
    if mfa().factor_count(user) == 0:
        return redirect(url_for("mfa.overview"))
    form = ActionForm()
    if request.method == "POST":
        if form.validate_on_submit():
            mfa().regenerate_codes(user, request_context())
            return redirect(url_for("mfa.recovery_codes"))
        return render_template("mfa/regenerate.html", form=form), 400
    return render_template("mfa/regenerate.html", form=form)


@bp.route("/reauth", methods=["GET", "POST"])
@login_required  # type: ignore[untyped-decorator]
def reauth() -> Page:
    """Confirm it is you with a second factor instead of the password, before a sensitive change."""
    user = current_user.user
    next_url = safe_next(request.values.get("next")) or url_for("account.home")
    if mfa().factor_count(user) == 0:
        return redirect(url_for("auth.reauth", next=next_url))
    code_form, key_form = TotpCodeForm(), WebAuthnForm()
    status = 200
    if request.method == "POST":
        status = 401
        with_key = "credential" in request.form
        form = key_form if with_key else code_form
        if form.validate_on_submit():
            try:
                mfa().reauthenticate(
                    user, current_user.session, request_context(),
                    code=None if with_key else code_form.code.data,
                    credential=key_form.credential.data if with_key else None,
                )
            except ValidationError as exc:
                (key_form.credential if with_key else code_form.code).errors.append(translate_error(exc))
            else:
                return redirect(next_url)
    return render_template(
        "mfa/reauth.html", code_form=code_form, key_form=key_form, next_url=next_url,
        has_totp=mfa().has_totp(user), options=mfa().reauth_options(user),
    ), status
