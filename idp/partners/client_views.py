"""The client's pages, under /orgs/<client>/partners: who has access (the partners, their
rights, until when), changing a partner's rights, ending a partnership."""

from __future__ import annotations

from flask import Blueprint
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_login import login_required

from idp.errors import NotFoundError
from idp.errors import ValidationError
from idp.partners.access import FULL
from idp.partners.access import LIMITED
from idp.partners.forms import ChangeForm
from idp.partners.forms import EndForm
from idp.partners.model import Partnership
from idp.partners.pages import EXPIRED_FORM
from idp.partners.pages import Page
from idp.partners.pages import access_of
from idp.partners.pages import error
from idp.partners.pages import field_error
from idp.partners.pages import read
from idp.partners.pages import service
from idp.partners.pages import user
from idp.partners.rules import PartnerAct
from idp.partners.rules import PartnerForbiddenError
from idp.web.current import request_context
from idp.web.i18n import translate_error

bp = Blueprint("partner_access", __name__, url_prefix="/orgs/<slug>/partners")


@bp.get("")
@login_required  # type: ignore[untyped-decorator]
def index(slug: str) -> Page:
    found = read(lambda: service().partnerships_of_client(user(), slug))
    if isinstance(found, tuple):
        return found
    return render_template("partners/access.html", side=found, org=found.org, PartnerAct=PartnerAct,
                           now=service().ports.clock.now(), pending=service().requests_for(user()))


def _partnership(slug: str, partnership_id: int) -> Partnership | tuple[str, int]:
    try:
        found = read(lambda: service().lifecycle.partnership_of_client(user(), slug, partnership_id))
    except ValidationError as exc:
        return error(400, translate_error(exc))
    return found


def _change_page(slug: str, p: Partnership, form: ChangeForm, status: int = 200,
                 problem: str | None = None) -> tuple[str, int]:
    return render_template("partners/change.html", form=form, p=p, org_slug=slug, problem=problem,
                           now=service().ports.clock.now()), status


@bp.route("/<row_id:partnership_id>/change", methods=["GET", "POST"])
@login_required  # type: ignore[untyped-decorator]
def change(slug: str, partnership_id: int) -> Page:
    p = _partnership(slug, partnership_id)
    if isinstance(p, tuple):
        return p
    if request.method == "GET":
        form = ChangeForm(formdata=None, access=FULL if p.full else LIMITED,
                          rights=[r.value for r in p.rights], auto_renew=p.auto_renew)
        return _change_page(slug, p, form)
    form = ChangeForm()
    if not form.validate_on_submit():
        return _change_page(slug, p, form, 400, _(EXPIRED_FORM) if form.csrf_token.errors else None)
    try:
        service().lifecycle.change(user(), slug, p.id, access_of(form, days=p.term_days), request_context())
    except NotFoundError:
        abort(404)
    except PartnerForbiddenError as exc:
        return error(403, translate_error(exc))
    except ValidationError as exc:
        field_error(form, exc, "access")
        return _change_page(slug, p, form, 400)
    flash(_("The rights of %(partner)s are changed.", partner=p.partner_name), "success")
    return redirect(url_for("partner_access.index", slug=slug))


@bp.route("/<row_id:partnership_id>/end", methods=["GET", "POST"])
@login_required  # type: ignore[untyped-decorator]
def end(slug: str, partnership_id: int) -> Page:
    """A confirmation page; only its form (POST, CSRF token, the box ticked) ends the partnership."""
    p = _partnership(slug, partnership_id)
    if isinstance(p, tuple):
        return p
    form = EndForm()
    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            form.confirm.errors = [_(EXPIRED_FORM)]
            status = 400
        else:
            try:
                service().lifecycle.end(user(), slug, p.id, bool(form.confirm.data), request_context())
            except NotFoundError:
                abort(404)
            except PartnerForbiddenError as exc:
                return error(403, translate_error(exc))
            except ValidationError as exc:
                field_error(form, exc, "confirm")
                status = 400
            else:
                flash(_("%(partner)s no longer manages this organisation.", partner=p.partner_name), "success")
                return redirect(url_for("partner_access.index", slug=slug))
    return render_template("partners/end.html", form=form, p=p, org_slug=slug), status
