"""Pages: list, create (secret shown once) and revoke app passwords and personal API tokens."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_login import login_required
from werkzeug.wrappers import Response as BaseResponse

from idp.errors import NotFoundError
from idp.errors import ValidationError
from idp.security.credentials import CREDENTIALS
from idp.security.credentials.forms import ApiTokenForm
from idp.security.credentials.forms import AppPasswordForm
from idp.security.credentials.forms import ConfirmForm
from idp.security.credentials.service import SCOPES
from idp.security.credentials.service import CredentialService
from idp.web.current import recent_auth_required
from idp.web.current import request_context
from idp.web.current import services
from idp.web.i18n import translate_error
from idp.web.i18n import when as moment

bp = Blueprint("credentials", __name__, url_prefix="/security")

LIFETIMES = (7, 30, 90, 365)

Page = str | tuple[str, int] | BaseResponse


def _service() -> CredentialService:
    service: CredentialService = services().get(CREDENTIALS)
    return service


def when(value: dt.datetime | None) -> str:
    return moment(value) if value else str(_("Never"))


@bp.get("/credentials")
@login_required  # type: ignore[untyped-decorator]
def index() -> str:
    service, user = _service(), current_user.user
    return render_template(
        "credentials/index.html", app_passwords=service.app_passwords(user), tokens=service.api_tokens(user),
        now=services().clock.now(), when=when, scopes=SCOPES,
        forward_url=services().settings.server.base_url + url_for("forwardauth.forward"),
    )


@bp.route("/app-passwords/new", methods=["GET", "POST"])
@recent_auth_required
def new_app_password() -> Page:
    form = AppPasswordForm()
    if form.validate_on_submit():
        try:
            item, secret = _service().create_app_password(current_user.user, form.name.data or "", request_context())
        except ValidationError as exc:
            form.name.errors.append(translate_error(exc))
        else:
            return render_template(
                "credentials/app_password_created.html", item=item, secret=secret, login=current_user.user.email,
            )
    status = 400 if form.errors else 200
    return render_template("credentials/app_password_new.html", form=form), status


@bp.route("/app-passwords/<row_id:item_id>/revoke", methods=["GET", "POST"])
@recent_auth_required
def revoke_app_password(item_id: int) -> Page:
    service, user = _service(), current_user.user
    try:
        item = service.app_password(user, item_id)
    except NotFoundError:
        abort(404)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            service.revoke_app_password(user, item_id, request_context())
        except NotFoundError:
            abort(404)
        flash(_("The app password “%(name)s” has been revoked.", name=item.name), "success")
        return redirect(url_for("credentials.index"))
    return render_template(
        "credentials/revoke.html", form=form, name=item.name, kind=_("app password"),
        action=url_for("credentials.revoke_app_password", item_id=item_id),
    )


def _lifetimes() -> list[tuple[str, str]]:
    top = services().settings.security.api_token_max_days
    days = sorted({d for d in LIFETIMES if d <= top} | {top})
    return [(str(d), str(_l("%(num)s days", num=d))) for d in days]


@bp.route("/api-tokens/new", methods=["GET", "POST"])
@recent_auth_required
def new_api_token() -> Page:
    form = ApiTokenForm()
    form.scopes.choices = [(name, _(label)) for name, label in SCOPES.items()]
    form.days.choices = _lifetimes()
    if not form.is_submitted():
        form.days.data = "90" if any(v == "90" for v, _label in form.days.choices) else form.days.choices[-1][0]
    if form.validate_on_submit():
        raw_days = form.days.data or ""
        days = int(raw_days) if raw_days.isascii() and raw_days.isdigit() and len(raw_days) < 6 else 0
        try:
            item, token = _service().create_api_token(
                current_user.user, form.name.data or "", list(form.scopes.data or []), days, request_context()
            )
        except ValidationError as exc:
            target = {"scopes": form.scopes, "days": form.days}.get(exc.field or "", form.name)
            target.errors = [*target.errors, translate_error(exc)]
        else:
            return render_template(
                "credentials/api_token_created.html", item=item, token=token, when=when, scopes=SCOPES,
                api_url=services().settings.server.base_url + "/api/v1",
            )
    status = 400 if form.errors else 200
    return render_template("credentials/api_token_new.html", form=form), status


@bp.route("/api-tokens/<row_id:item_id>/revoke", methods=["GET", "POST"])
@recent_auth_required
def revoke_api_token(item_id: int) -> Page:
    service, user = _service(), current_user.user
    try:
        item = service.api_token(user, item_id)
    except NotFoundError:
        abort(404)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            service.revoke_api_token(user, item_id, request_context())
        except NotFoundError:
            abort(404)
        flash(_("The API token “%(name)s” has been revoked.", name=item.name), "success")
        return redirect(url_for("credentials.index"))
    return render_template(
        "credentials/revoke.html", form=form, name=item.name, kind=_("API token"),
        action=url_for("credentials.revoke_api_token", item_id=item_id),
    )
