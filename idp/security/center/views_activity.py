"""Activity log pages: the person's own history (and the helpers the organisation pages reuse)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from flask import Blueprint
from flask import Response
from flask import render_template
from flask import request
from flask_babel import gettext as _
from flask_login import current_user
from flask_login import login_required
from werkzeug.datastructures import MultiDict
from wtforms import SelectChoice

from idp.errors import ValidationError
from idp.model import Event
from idp.security.activity import ActivityService
from idp.security.activity import Names
from idp.security.activity import action_label
from idp.security.activity import product_label
from idp.security.center import SECURITY
from idp.security.center.forms import ActivityFilterForm
from idp.web.current import request_context
from idp.web.current import services
from idp.web.i18n import translate_error

bp = Blueprint("activity", __name__, url_prefix="/security/activity")


def activity_service() -> ActivityService:
    activity: ActivityService = services().get(SECURITY).activity
    return activity


@dataclass
class Listing:
    form: ActivityFilterForm
    events: list[Event]
    total: int
    page: int
    pages: int
    ok: bool
    names: Names


def filter_form(*, user_id: int | None = None, org_id: int | None = None) -> ActivityFilterForm:
    activity = activity_service()
    form = ActivityFilterForm(formdata=MultiDict(request.args))
    form.product.choices = [SelectChoice("", _("All products"))] + [
        SelectChoice(p, _(product_label(p))) for p in activity.products(user_id=user_id, org_id=org_id)
    ]
    form.action.choices = [SelectChoice("", _("All actions"))] + [
        SelectChoice(t, _(action_label(t))) for t in activity.actions(user_id=user_id, org_id=org_id)
    ]
    return form


def _filters(form: ActivityFilterForm) -> dict[str, Any]:
    return {
        "date_from": form.date_from.data, "date_to": form.date_to.data,
        "product": form.product.data or None, "action": form.action.data or None, "text": form.q.data or None,
    }


def listing(*, user_id: int | None = None, org_id: int | None = None) -> Listing:
    """Validate the filters from the query string and run the search; errors go on the form.
    The page's people and applications (and the product filter's applications) are named by
    one query."""
    form = filter_form(user_id=user_id, org_id=org_id)
    activity = activity_service()
    per_page = activity.page_size
    events: list[Event] = []
    total, page, ok = 0, 1, False
    if form.validate():
        page = form.page.data or 1
        try:
            events, total = activity.search(
                user_id=user_id, org_id=org_id, page=page, per_page=per_page, **_filters(form)
            )
            ok = True
        except ValidationError as exc:
            target = getattr(form, exc.field or "", None) or form.q
            target.errors = [*target.errors, translate_error(exc)]
            page = 1
    products = [str(choice.value) for choice in form.product.choices if choice.value]
    names = activity.names(events, org_id=org_id, products=products)
    form.product.choices = [
        SelectChoice(choice.value, names.application(str(choice.value)) or choice.label) if choice.value else choice
        for choice in form.product.choices
    ]
    return Listing(form, events, total, page, max(1, -(-total // per_page)) if ok else 1, ok=ok, names=names)


def csv_response(*, user_id: int | None = None, org_id: int | None = None, name: str) -> Response | tuple[str, int]:
    form = filter_form(user_id=user_id, org_id=org_id)
    if not form.validate():
        return render_template(
            "errors/error.html", status=400, title=_("Something is not right"),
            message=" ".join(str(m) for msgs in form.errors.values() for m in msgs),
        ), 400
    try:
        body = activity_service().export_csv(
            request_context(), actor_id=current_user.user.id, user_id=user_id, org_id=org_id, **_filters(form)
        )
    except ValidationError as exc:
        return render_template(
            "errors/error.html", status=400, title=_("Something is not right"), message=translate_error(exc)
        ), 400
    stamp = services().clock.now().astimezone(dt.UTC).strftime("%Y%m%d-%H%M")
    response = Response(body, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response


def page_args(page: int) -> dict[str, Any]:
    """The current filters with another page number, for pagination links."""
    args = {k: v for k, v in request.args.items() if k != "page"}
    return args | {"page": page}


@bp.get("/")
@login_required  # type: ignore[untyped-decorator]
def own() -> tuple[str, int]:
    result = listing(user_id=current_user.user.id)
    return render_template(
        "security/activity.html", result=result, action_label=action_label, product_label=product_label,
        page_args=page_args, endpoint="activity.own", csv_endpoint="activity.own_csv", endpoint_args={},
    ), 200 if result.ok else 400


@bp.get("/export.csv")
@login_required  # type: ignore[untyped-decorator]
def own_csv() -> Response | tuple[str, int]:
    return csv_response(user_id=current_user.user.id, name="activity")
