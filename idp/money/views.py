"""Billing pages of an organisation: the prepaid balance per currency, the ledger (filtered,
paged, as CSV); and what the other billing pages share (who is asking, how amounts read)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from flask import Blueprint
from flask import Response
from flask import abort
from flask import g
from flask import render_template
from flask import request
from flask_babel import format_currency
from flask_babel import gettext as _
from flask_login import current_user
from flask_login import login_required
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response as BaseResponse
from wtforms import SelectChoice

from idp.account.org_rules import OrgForbiddenError
from idp.errors import NotFoundError
from idp.errors import ValidationError
from idp.money import MONEY
from idp.money import Money
from idp.money.access import Caller
from idp.money.forms import KIND_NAMES
from idp.money.forms import METHOD_NAMES
from idp.money.forms import PRODUCT_NAMES
from idp.money.forms import REASONS
from idp.money.forms import STATE_NAMES
from idp.money.forms import STATUS_NAMES
from idp.money.forms import LedgerFilterForm
from idp.money.ledger import LedgerFilter
from idp.web.current import request_context
from idp.web.current import services
from idp.web.i18n import translate_error

bp = Blueprint("money", __name__, url_prefix="/orgs")
_CODE_THEN_FIGURE = re.compile(r"^([A-Z]{3})(?=\d)")

Page = str | BaseResponse | tuple[str, int]


def money() -> Money:
    return services().get(MONEY)


def amount_filter(amount: Decimal, currency: object) -> str:
    """An amount in the page's language: "CHF 1,250.50", "1 250,50 CHF" (a no-break space
    between a currency code and the figures, which Babel's English pattern leaves out)."""
    return _CODE_THEN_FIGURE.sub("\\1\u00a0", str(format_currency(amount, str(currency))))


def product_name(code: str) -> str:
    return _(PRODUCT_NAMES[code]) if code in PRODUCT_NAMES else code


def _namer(names: dict[str, str]) -> Any:
    def name(value: object) -> str:
        key = str(value)
        return _(names[key]) if key in names else key

    return name


reason_name = _namer(REASONS)
NAMES = {"product_name": product_name, "reason_name": reason_name, "status_name": _namer(STATUS_NAMES),
         "method_name": _namer(METHOD_NAMES), "kind_name": _namer(KIND_NAMES), "state_name": _namer(STATE_NAMES)}


def render(template: str, caller: Caller, **values: Any) -> str:
    """A billing page, with the caller and the names the templates use."""
    return render_template(template, acting=caller, org=caller.org, **NAMES, **values)


def error_page(status: int, message: str) -> tuple[str, int]:
    return render_template("errors/error.html", status=status, title=_("Something is not right"),
                           message=message), status


def billing_caller(slug: str) -> Caller:
    """The person asking, as a member or a partner acting for the client; a 404 for anyone else
    (as for an unknown organisation), a 403 for a member whose role does not allow billing."""
    try:
        caller = money().access.billing(current_user.user, slug)
    except NotFoundError:
        abort(404)
    except OrgForbiddenError as exc:
        abort(Response(error_page(403, translate_error(exc))[0], status=403))
    if caller.delegation is not None:
        g.delegation = caller.delegation  # the partner banner; both logs record what is done
    return caller


def _filter_form() -> LedgerFilterForm:
    form = LedgerFilterForm(formdata=MultiDict(request.args))
    form.reason.choices = [SelectChoice("", _("Every reason"))] + [
        SelectChoice(key, _(label)) for key, label in REASONS.items()
    ]
    return form


def _filters(form: LedgerFilterForm) -> LedgerFilter:
    return LedgerFilter(date_from=form.date_from.data, date_to=form.date_to.data, kind=form.kind.data or None,
                        reason=form.reason.data or None, currency=form.currency.data or None)


@bp.get("/<slug>/billing")
@login_required  # type: ignore[untyped-decorator]
def billing(slug: str) -> Page:
    caller = billing_caller(slug)
    container = money()
    recent, _count = container.orders.page(caller, 1)
    return render("money/billing.html", caller, balances=container.ledger.balances(caller), recent=recent[:5])


@bp.get("/<slug>/billing/ledger")
@login_required  # type: ignore[untyped-decorator]
def ledger(slug: str) -> Page:
    caller = billing_caller(slug)
    form = _filter_form()
    result = None
    if form.validate():
        try:
            result = money().ledger.page(caller, _filters(form), form.page.data or 1)
        except ValidationError as exc:
            target = getattr(form, exc.field or "", None) or form.date_to
            target.errors = [*target.errors, translate_error(exc)]
    args = {k: v for k, v in request.args.items() if k != "page"}
    return render("money/ledger.html", caller, form=form, result=result, args=args), 200 if result else 400


@bp.get("/<slug>/billing/ledger.csv")
@login_required  # type: ignore[untyped-decorator]
def ledger_csv(slug: str) -> Page:
    caller = billing_caller(slug)
    form = _filter_form()
    if not form.validate():
        return error_page(400, " ".join(str(m) for msgs in form.errors.values() for m in msgs))
    try:
        body = money().ledger.export_csv(caller, _filters(form), request_context())
    except ValidationError as exc:
        return error_page(400, translate_error(exc))
    stamp = services().clock.now().astimezone(dt.UTC).strftime("%Y%m%d-%H%M")
    response = Response(body.encode("utf-8"), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8; header=present"
    response.headers["Content-Disposition"] = f'attachment; filename="ledger-{caller.org.slug}-{stamp}.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response
