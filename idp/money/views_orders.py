"""Order pages: the organisation's orders (and cancelling one), one order with how to pay it, and
the order form, which shows the price (and any partner discount) before it is confirmed."""

from __future__ import annotations

from flask import Blueprint
from flask import abort
from flask import flash
from flask import redirect
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_login import login_required
from werkzeug.datastructures import MultiDict
from wtforms import SelectChoice

from idp.errors import NotFoundError
from idp.errors import ValidationError
from idp.money.access import Caller
from idp.money.forms import ButtonForm
from idp.money.forms import CancelOrderForm
from idp.money.forms import ConfirmOrderForm
from idp.money.forms import QuoteForm
from idp.money.orders import OrderRequest
from idp.money.orders import PriceChangedError
from idp.money.orders import Quote
from idp.money.views import Page
from idp.money.views import billing_caller
from idp.money.views import error_page
from idp.money.views import money
from idp.money.views import product_name
from idp.money.views import render
from idp.web.current import request_context
from idp.web.current import services
from idp.web.i18n import translate_error

bp = Blueprint("money_orders", __name__, url_prefix="/orgs")
FIELDS = ("product", "quantity", "currency", "method", "kind")


def _quote_form(data: MultiDict[str, str] | None) -> QuoteForm:
    form = QuoteForm(formdata=data)
    form.product.choices = [SelectChoice(code, product_name(code)) for code in money().orders.products()]
    return form


def _order_request(data: MultiDict[str, str]) -> OrderRequest:
    return OrderRequest(**{name: data.get(name, "")[:100] for name in FIELDS})


def _confirm_form(quote: Quote, data: OrderRequest) -> ConfirmOrderForm:
    form = ConfirmOrderForm(formdata=None)
    for name in FIELDS:
        form[name].data = getattr(data, name)
    form.total.data = f"{quote.total:.2f}"
    return form


def _form_page(caller: Caller, form: QuoteForm, *, quote: Quote | None = None, confirm: ConfirmOrderForm | None = None,
               problem: str | None = None, status: int = 200) -> Page:
    return render("money/order_new.html", caller, form=form, quote=quote, confirm=confirm, problem=problem,
                  settings=services().settings.money), status


@bp.get("/<slug>/billing/orders")
@login_required  # type: ignore[untyped-decorator]
def orders(slug: str) -> Page:
    caller = billing_caller(slug)
    page = request.args.get("page", "1")
    number = int(page) if page.isdigit() and len(page) < 8 else 1
    found, total = money().orders.page(caller, number)
    pages = max(1, -(-total // money().orders.page_size))
    return render("money/orders.html", caller, orders=found, page=number, pages=pages, cancel=CancelOrderForm())


@bp.get("/<slug>/billing/orders/new")
@login_required  # type: ignore[untyped-decorator]
def new_order(slug: str) -> Page:
    """The form; with its fields in the query string, the price it would cost (nothing changes)."""
    caller = billing_caller(slug)
    if "product" not in request.args:
        return _form_page(caller, _quote_form(None))
    form = _quote_form(MultiDict(request.args))
    data = _order_request(MultiDict(request.args))
    try:
        quote = money().orders.quote(caller, data)
    except ValidationError as exc:
        target = form[exc.field] if exc.field in FIELDS else form.product
        target.errors = [*target.errors, translate_error(exc)]
        return _form_page(caller, form, status=400)
    return _form_page(caller, form, quote=quote, confirm=_confirm_form(quote, data))


@bp.post("/<slug>/billing/orders/new")
@login_required  # type: ignore[untyped-decorator]
def place_order(slug: str) -> Page:
    caller = billing_caller(slug)
    confirm = ConfirmOrderForm()
    form = _quote_form(MultiDict(request.form))
    if not confirm.validate_on_submit():
        return _form_page(caller, form, problem=_("The form has expired; please submit it again."), status=400)
    data = _order_request(MultiDict(request.form))
    try:
        order = money().orders.place(caller, data, confirm.total.data, request_context())
    except PriceChangedError as exc:
        return _form_page(caller, form, quote=exc.quote, confirm=_confirm_form(exc.quote, data),
                          problem=translate_error(exc), status=409)
    except ValidationError as exc:
        target = form[exc.field] if exc.field in FIELDS else form.product
        target.errors = [*target.errors, translate_error(exc)]
        return _form_page(caller, form, status=400)
    if order.status.value == "paid":
        flash(_("Order %(ref)s is placed and paid from the prepaid balance.", ref=order.reference), "success")
    else:
        flash(_("Order %(ref)s is placed: it awaits your bank transfer.", ref=order.reference), "success")
    return redirect(url_for("money_orders.order", slug=caller.org.slug, order_id=order.id))


@bp.get("/<slug>/billing/orders/<row_id:order_id>")
@login_required  # type: ignore[untyped-decorator]
def order(slug: str, order_id: int) -> Page:
    caller = billing_caller(slug)
    try:
        found = money().orders.order(caller, order_id)
    except NotFoundError:
        abort(404)
    return render("money/order.html", caller, order=found, settings=services().settings.money,
                  cancel=CancelOrderForm(), button=ButtonForm())


@bp.post("/<slug>/billing/orders/<row_id:order_id>/cancel")
@login_required  # type: ignore[untyped-decorator]
def cancel(slug: str, order_id: int) -> Page:
    caller = billing_caller(slug)
    form = CancelOrderForm()
    if not form.validate_on_submit():
        return error_page(400, _("The form has expired; please submit it again."))
    try:
        done = money().orders.cancel(caller, order_id, bool(form.transfer_sent.data), request_context())
    except NotFoundError:
        abort(404)
    except ValidationError as exc:
        return error_page(409, translate_error(exc))
    if done.transfer_sent:
        flash(_("Order %(ref)s is cancelled. Its amount goes to the prepaid balance when your transfer arrives.",
                ref=done.reference), "success")
    else:
        flash(_("Order %(ref)s is cancelled.", ref=done.reference), "success")
    return redirect(url_for("money_orders.orders", slug=caller.org.slug))
