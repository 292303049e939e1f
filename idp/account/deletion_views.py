"""Deleting the account: what goes and what stays (or why not yet), the confirmation, and the
page a deleted account lands on."""

from __future__ import annotations

from flask import Blueprint
from flask import g
from flask import redirect
from flask import render_template
from flask import url_for
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from idp.account.deletion import Block
from idp.account.deletion import DeletionRefused
from idp.account.forms import DeleteAccountForm
from idp.web.current import recent_auth_required
from idp.web.current import request_context
from idp.web.current import services
from idp.web.plumbing import clear_session_cookie

bp = Blueprint("deletion", __name__)


def _page(form: DeleteAccountForm | None = None, blocks: list[Block] | None = None) -> str:
    container = services()
    user = current_user.user
    if blocks is None:
        blocks = container.deletion.blocks(user)
    return render_template(
        "account/delete.html", user=user, form=form or DeleteAccountForm(formdata=None), blocks=blocks,
        goes=container.deletion.what_goes(),
    )


@bp.get("/profile/delete")
@recent_auth_required
def delete() -> str:
    """What goes and what stays, and the form; or, while an organisation stops it, why and what
    to do. Changes nothing."""
    return _page()


@bp.post("/profile/delete")
@recent_auth_required
def confirm() -> BaseResponse | tuple[str, int]:
    form = DeleteAccountForm()
    if not form.validate_on_submit():
        return _page(form), 400
    try:
        services().deletion.delete(current_user.user, ctx=request_context(), actor_id=current_user.user.id)
    except DeletionRefused as exc:
        return _page(blocks=exc.blocks), 409
    # The sessions are gone on every host; this browser forgets its cookie now.
    g.signed_in = None
    response = redirect(url_for("deletion.deleted"))
    clear_session_cookie(response)
    return response


@bp.get("/profile/deleted")
def deleted() -> str:
    return render_template("account/deleted.html")
