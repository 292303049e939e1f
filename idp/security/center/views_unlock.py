"""The page behind the e-mailed unlock link: prove the mailbox (the link), set or confirm the password."""

from __future__ import annotations

from flask import Blueprint
from flask import render_template
from werkzeug.wrappers import Response as BaseResponse

from idp.errors import ValidationError
from idp.security.center import SECURITY
from idp.security.center.forms import UnlockForm
from idp.security.unlock import UnlockLinkError
from idp.security.unlock import UnlockService
from idp.web.current import request_context
from idp.web.current import services
from idp.web.i18n import translate_error

bp = Blueprint("unlock", __name__)


def _unlock() -> UnlockService:
    unlock: UnlockService = services().get(SECURITY).unlock
    return unlock


def _refused(exc: ValidationError) -> tuple[str, int]:
    return render_template("security/unlock_refused.html", message=translate_error(exc)), 400


@bp.route("/unlock/<token>", methods=["GET", "POST"])
def unlock(token: str) -> str | BaseResponse | tuple[str, int]:
    """Anyone holding the link reaches the form: the link is the proof of the mailbox. Nothing
    is unlocked by opening it (mail scanners follow links), only by submitting the form."""
    service = _unlock()
    form = UnlockForm()
    try:
        user = service.check(token)
    except UnlockLinkError as exc:
        return _refused(exc)
    if form.validate_on_submit():
        try:
            service.redeem(
                token, request_context(), new_password=form.new_password.data or None,
                current_password=form.current_password.data or None,
            )
        except UnlockLinkError as exc:
            return _refused(exc)
        except ValidationError as exc:
            field = form.new_password if exc.field in ("password", "new_password") else form.current_password
            field.errors.append(translate_error(exc))
        else:
            return render_template("security/unlock_done.html")
    status = 400 if form.errors else 200
    return render_template("security/unlock.html", form=form, user=user), status
