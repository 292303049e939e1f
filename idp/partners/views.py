"""The partner's pages, under /orgs/<partner>/clients: the client list (search, sort, CSV), the
add-a-client form, one client as the partner reaches it, assigning collaborators, withdrawing a
pending request."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_login import login_required
from werkzeug.wrappers import Response

from idp.errors import NotFoundError
from idp.errors import RateLimitedError
from idp.errors import ValidationError
from idp.partners.forms import AddClientForm
from idp.partners.forms import ButtonForm
from idp.partners.listing import ClientQuery
from idp.partners.listing import parse_query
from idp.partners.pages import EXPIRED_FORM
from idp.partners.pages import Page
from idp.partners.pages import access_of
from idp.partners.pages import context
from idp.partners.pages import error
from idp.partners.pages import field_error
from idp.partners.pages import read
from idp.partners.pages import service
from idp.partners.pages import user
from idp.partners.rules import PartnerAct
from idp.partners.rules import PartnerForbiddenError
from idp.web.current import request_context
from idp.web.i18n import translate_error

bp = Blueprint("partners", __name__, url_prefix="/orgs/<slug>")
_SAFE = re.compile(r"[^a-z0-9-]")  # what a short name holds: nothing else goes in a header


@bp.app_context_processor
def _org_page() -> dict[str, Any]:
    # The organisation page (orgs/page.html) includes partners/_org_section.html, which asks this.
    return {"partner_summary": lambda view: service().summary(user(), view.org, view.me), **context()}


def _query() -> tuple[ClientQuery, str | None]:
    try:
        return parse_query(request.args.get("q"), request.args.get("sort"), request.args.get("order")), None
    except ValidationError as exc:
        return ClientQuery(), translate_error(exc)


@bp.get("/clients")
@login_required  # type: ignore[untyped-decorator]
def clients(slug: str) -> Page:
    query, problem = _query()
    found = read(lambda: service().clients_of(user(), slug, query))
    if isinstance(found, tuple):
        return found
    return render_template(
        "partners/clients.html", listing=found, side=found.side, org=found.side.org, problem=problem,
        button=ButtonForm(), PartnerAct=PartnerAct, raw_q=request.args.get("q", "")[:200],
    ), 400 if problem else 200


@bp.get("/clients.csv")
@login_required  # type: ignore[untyped-decorator]
def clients_csv(slug: str) -> Page:
    query, problem = _query()
    if problem:
        return error(400, problem)
    body = read(lambda: service().export_csv(user(), slug, query))
    if isinstance(body, tuple):
        return body
    # RFC 4180 text/csv with its optional header parameter; UTF-8 without a byte-order mark.
    return Response(body, content_type="text/csv; charset=utf-8; header=present", headers={
        "Content-Disposition": f'attachment; filename="clients-{_SAFE.sub("", slug.lower())[:64]}.csv"',
        "Cache-Control": "no-store",
    })


def _add_page(slug: str, form: AddClientForm, status: int = 200, problem: str | None = None) -> Page:
    side = read(lambda: service().partner_side(user(), slug))
    if isinstance(side, tuple):
        return side
    if not side.may(PartnerAct.ADD_CLIENT):
        return error(403, _("Your role in this organisation does not allow this."))
    return render_template("partners/add.html", form=form, org=side.org, problem=problem,
                           ttl_days=max(1, service().requests.ttl // 86400)), status


@bp.route("/clients/new", methods=["GET", "POST"])
@login_required  # type: ignore[untyped-decorator]
def add(slug: str) -> Page:
    if request.method == "GET":
        return _add_page(slug, AddClientForm(formdata=None))
    form = AddClientForm()
    if not form.validate_on_submit():
        problem = _(EXPIRED_FORM) if form.csrf_token.errors else None
        return _add_page(slug, form, 400, problem)
    try:
        access = access_of(form)
        sent = service().requests.invite(user(), slug, form.email.data or "", access, request_context())
    except NotFoundError:
        abort(404)
    except PartnerForbiddenError as exc:
        return error(403, translate_error(exc))
    except ValidationError as exc:
        field_error(form, exc, "email")
        return _add_page(slug, form, 400)
    except RateLimitedError as exc:
        return _add_page(slug, form, 429, translate_error(exc))
    flash(_("The request is on its way to %(email)s.", email=sent.email), "success")
    return redirect(url_for("partners.clients", slug=slug))


@bp.post("/client-requests/<row_id:request_id>/cancel")
@login_required  # type: ignore[untyped-decorator]
def cancel(slug: str, request_id: int) -> Page:
    if not ButtonForm().validate_on_submit():
        return error(400, _(EXPIRED_FORM))
    done = read(lambda: service().requests.cancel(user(), slug, request_id, request_context()))
    if isinstance(done, tuple):
        return done
    flash(_("The request to %(email)s is withdrawn.", email=done.email), "success")
    return redirect(url_for("partners.clients", slug=slug))


@bp.get("/clients/<client_slug>")
@login_required  # type: ignore[untyped-decorator]
def client_view(slug: str, client_slug: str) -> Page:
    """The client as the partner person reaches it: the rights granted, the dates, the payer,
    and (for those who assign) the collaborators who reach it."""
    reached = read(lambda: service().client_of(user(), slug, client_slug))
    if isinstance(reached, tuple):
        return reached
    return render_template("partners/client.html", reached=reached, p=reached.partnership, org=reached.side.org,
                           side=reached.side, button=ButtonForm(), PartnerAct=PartnerAct,
                           now=service().ports.clock.now())


def _assign(slug: str, client_slug: str, member_id: int, on: bool) -> Page:
    if not ButtonForm().validate_on_submit():
        return error(400, _(EXPIRED_FORM))
    try:
        done = read(lambda: service().lifecycle.assign(user(), slug, client_slug, member_id, request_context(), on=on))
    except ValidationError as exc:
        return error(400, translate_error(exc))
    if isinstance(done, tuple):
        return done
    flash(_("The collaborator is assigned.") if on else _("The collaborator is no longer assigned."), "success")
    return redirect(url_for("partners.client_view", slug=slug, client_slug=client_slug))


@bp.post("/clients/<client_slug>/assign/<row_id:member_id>")
@login_required  # type: ignore[untyped-decorator]
def assign(slug: str, client_slug: str, member_id: int) -> Page:
    return _assign(slug, client_slug, member_id, True)


@bp.post("/clients/<client_slug>/unassign/<row_id:member_id>")
@login_required  # type: ignore[untyped-decorator]
def unassign(slug: str, client_slug: str, member_id: int) -> Page:
    return _assign(slug, client_slug, member_id, False)
