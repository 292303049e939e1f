"""Payout pages: the form and the history, for the organisation's legal representatives only,
after a recent sign-in (`/reauth`); a partner acting for the client never reaches them."""

from __future__ import annotations

from flask import Blueprint
from flask import Response
from flask import abort
from flask import flash
from flask import redirect
from flask import url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_login import current_user

from idp.account.org_rules import OrgForbiddenError
from idp.errors import NotFoundError
from idp.errors import ValidationError
from idp.money.access import Caller
from idp.money.forms import ButtonForm
from idp.money.forms import PayoutForm
from idp.money.views import Page
from idp.money.views import amount_filter
from idp.money.views import error_page
from idp.money.views import money
from idp.money.views import render
from idp.web.current import recent_auth_required
from idp.web.current import request_context
from idp.web.i18n import translate_error

bp = Blueprint("money_payouts", __name__, url_prefix="/orgs")
FIELDS = ("amount", "currency", "method", "iban", "paypal")


def _caller(slug: str) -> Caller:
    try:
        return money().access.payouts(current_user.user, slug)
    except NotFoundError:
        abort(404)
    except OrgForbiddenError as exc:
        abort(Response(error_page(403, translate_error(exc))[0], status=403))


def _page(caller: Caller, form: PayoutForm | None = None, status: int = 200, problem: str | None = None) -> Page:
    container = money()
    return render(
        "money/payouts.html", caller, form=form or PayoutForm(formdata=None), problem=problem,
        balances=container.payouts.balances(caller), payouts=container.payouts.history(caller), button=ButtonForm(),
        maximum=format_decimal(container.payouts.max_amount, format="#,##0.00"),
    ), status


@bp.get("/<slug>/billing/payouts")
@recent_auth_required
def payouts(slug: str) -> Page:
    return _page(_caller(slug))


@bp.post("/<slug>/billing/payouts")
@recent_auth_required
def request_payout(slug: str) -> Page:
    caller = _caller(slug)
    form = PayoutForm()
    if not form.validate_on_submit():
        return _page(caller, form, 400, _("The form has expired; please submit it again."))
    try:
        payout, destination = money().payouts.request(
            caller, amount=form.amount.data, currency=form.currency.data, method=form.method.data,
            iban=form.iban.data, paypal=form.paypal.data, ctx=request_context(),
        )
    except ValidationError as exc:
        target = form[exc.field] if exc.field in FIELDS else form.amount
        target.errors = [*target.errors, translate_error(exc)]
        return _page(caller, form, 400)
    bank = f" ({destination.bank_name})" if destination.bank_name else ""
    flash(_("Payout of %(amount)s to %(to)s requested; the legal representatives get a mail at each step.",
            amount=amount_filter(payout.amount, payout.currency), to=destination.shown + bank), "success")
    return redirect(url_for("money_payouts.payouts", slug=caller.org.slug))


@bp.post("/<slug>/billing/payouts/<row_id:payout_id>/withdraw")
@recent_auth_required
def withdraw(slug: str, payout_id: int) -> Page:
    caller = _caller(slug)
    if not ButtonForm().validate_on_submit():
        return _page(caller, status=400, problem=_("The form has expired; please submit it again."))
    try:
        payout = money().payouts.withdraw(caller, payout_id, request_context())
    except NotFoundError:
        abort(404)
    except ValidationError as exc:
        return _page(caller, status=409, problem=translate_error(exc))
    flash(_("The payout request is withdrawn; %(amount)s are back on the balance.",
            amount=amount_filter(payout.amount, payout.currency)), "success")
    return redirect(url_for("money_payouts.payouts", slug=caller.org.slug))
