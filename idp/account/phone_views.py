"""Phone numbers on the profile: add one, confirm it with the texted code, send a new code, remove."""

from __future__ import annotations

from flask import Blueprint
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_login import login_required
from werkzeug.wrappers import Response as BaseResponse

from idp.account.forms import CodeForm
from idp.account.forms import PhoneForm
from idp.account.forms import PlainForm
from idp.account.phones import readable
from idp.errors import NotFoundError
from idp.errors import RateLimitedError
from idp.errors import ValidationError
from idp.model import Phone
from idp.sms import SmsDeliveryError
from idp.web.current import request_context
from idp.web.current import services
from idp.web.i18n import translate_error

bp = Blueprint("phones", __name__)


def _text() -> str:
    # Short, and the code first: phones show the start of a message in their notification.
    return str(_("%(code)s is your %(site)s code to confirm this phone number.",
                 site=services().settings.site_name, code="%(code)s"))


def _not_sent(exc: Exception) -> str:
    if isinstance(exc, RateLimitedError):
        return str(_("Too many codes were sent to your numbers: try again in %(num)d minutes.",
                     num=max(1, exc.retry_after // 60)))
    return str(_("The text message could not be sent. Try again in a few minutes."))


def _mine(phone_id: int) -> Phone:
    try:
        return services().phones.phone(current_user.user, phone_id)
    except NotFoundError:
        abort(404)


def _confirm_page(phone: Phone, form: CodeForm | None = None, status: int = 200) -> tuple[str, int]:
    return render_template("account/phone_confirm.html", phone=phone, number=readable(phone.number),
                           form=form or CodeForm(formdata=None), again=PlainForm(formdata=None),
                           minutes=max(1, services().phones.code_ttl // 60)), status


@bp.post("/profile/phones")
@login_required  # type: ignore[untyped-decorator]
def add() -> BaseResponse | tuple[str, int]:
    from idp.account.profile_views import page

    form = PhoneForm()
    if form.validate_on_submit():
        try:
            phone = services().phones.add(current_user.user, label=form.label.data or "",
                                          number=form.number.data or "", ctx=request_context(), text=_text())
        except ValidationError as exc:
            getattr(form, exc.field or "number").errors.append(translate_error(exc))
        except (RateLimitedError, SmsDeliveryError) as exc:
            form.number.errors.append(_not_sent(exc))
        else:
            flash(_("We texted a code to %(number)s.", number=readable(phone.number)), "success")
            return redirect(url_for("phones.confirm", phone_id=phone.id))
    return page(phone=form), 400


@bp.get("/profile/phones/<row_id:phone_id>/confirm")
@login_required  # type: ignore[untyped-decorator]
def confirm(phone_id: int) -> BaseResponse | tuple[str, int]:
    phone = _mine(phone_id)
    if phone.verified:
        return redirect(url_for("profile.profile"))
    return _confirm_page(phone)


@bp.post("/profile/phones/<row_id:phone_id>/confirm")
@login_required  # type: ignore[untyped-decorator]
def check(phone_id: int) -> BaseResponse | tuple[str, int]:
    phone = _mine(phone_id)
    form = CodeForm()
    if form.validate_on_submit():
        try:
            services().phones.confirm(current_user.user, phone.id, form.code.data or "", ctx=request_context())
        except ValidationError as exc:
            form.code.errors.append(translate_error(exc))
        else:
            flash(_("%(number)s is confirmed.", number=readable(phone.number)), "success")
            return redirect(url_for("profile.profile"))
    return _confirm_page(phone, form, 400)


@bp.post("/profile/phones/<row_id:phone_id>/resend")
@login_required  # type: ignore[untyped-decorator]
def resend(phone_id: int) -> BaseResponse | tuple[str, int]:
    phone = _mine(phone_id)
    if not PlainForm().validate_on_submit():
        return _confirm_page(phone, status=400)
    form = CodeForm(formdata=None)
    try:
        services().phones.send_code(current_user.user, phone, text=_text())
    except (RateLimitedError, SmsDeliveryError) as exc:
        form.code.errors = [_not_sent(exc)]
        return _confirm_page(phone, form, 503 if isinstance(exc, SmsDeliveryError) else 429)
    flash(_("We texted a new code to %(number)s.", number=readable(phone.number)), "success")
    return redirect(url_for("phones.confirm", phone_id=phone.id))


@bp.post("/profile/phones/<row_id:phone_id>/remove")
@login_required  # type: ignore[untyped-decorator]
def remove(phone_id: int) -> BaseResponse | tuple[str, int]:
    phone = _mine(phone_id)
    if not PlainForm().validate_on_submit():
        abort(400)
    services().phones.remove(current_user.user, phone.id, ctx=request_context())
    flash(_("%(number)s is removed from your profile.", number=readable(phone.number)), "success")
    return redirect(url_for("profile.profile"))
