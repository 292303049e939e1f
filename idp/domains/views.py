"""The domains pages: an organisation's transfers with a red band on each failed one and its
relaunch button, the transfer request form, and the e-mailed relaunch link (GET shows what will
happen, the form's POST relaunches)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask import abort
from flask import flash
from flask import g
from flask import redirect
from flask import render_template
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_login import login_required
from werkzeug.wrappers import Response as BaseResponse

from idp.account.org_rules import OrgForbiddenError
from idp.domains import DOMAINS
from idp.domains.forms import RelaunchForm
from idp.domains.forms import TransferForm
from idp.domains.model import REASONS
from idp.domains.model import STATUS_NAMES
from idp.domains.rights import Acting
from idp.domains.service import REGISTRAR_DOWN
from idp.domains.service import DomainService
from idp.domains.service import LinkRefusedError
from idp.errors import NotFoundError
from idp.errors import RateLimitedError
from idp.errors import UpstreamError
from idp.errors import ValidationError
from idp.web.current import request_context
from idp.web.current import services
from idp.web.i18n import translate_error

bp = Blueprint("domains", __name__)

Page = str | BaseResponse | tuple[str, int]
EXPIRED_FORM = "The form has expired; please submit it again."


@bp.app_context_processor
def _helpers() -> dict[str, Any]:
    return {"domain_status_name": lambda s: _(STATUS_NAMES[s]),
            "domain_reason": lambda r: REASONS[r]}


def _service() -> DomainService:
    return services().get(DOMAINS)


def _error(status: int, message: str) -> tuple[str, int]:
    return render_template("errors/error.html", status=status, title=_("Something is not right"),
                           message=message), status


def _who(slug: str) -> Acting:
    """The person acting on the organisation's domains; by delegation, the partner banner's `g.delegation`."""
    try:
        who = _service().access(current_user.user, slug)
    except NotFoundError:
        abort(404)
    if who.delegation is not None:
        g.delegation = who.delegation
    return who


def _relaunch_form(transfer_id: int) -> RelaunchForm:
    return RelaunchForm(formdata=None, prefix=f"t{transfer_id}-")


def _page(who: Acting, *, status: int = 200, form: TransferForm | None = None,
          relaunch: RelaunchForm | None = None, relaunch_id: int | None = None, problem: str | None = None) -> Page:
    views = _service().transfers(who)
    forms = {v.transfer.id: _relaunch_form(v.transfer.id) for v in views if v.failed}
    if relaunch is not None and relaunch_id in forms:
        forms[relaunch_id] = relaunch
    return render_template(
        "domains/list.html", org=who.org, views=views, form=form or TransferForm(formdata=None),
        relaunch_forms=forms, fee=_service().fee, problem=problem,
    ), status


@bp.get("/orgs/<slug>/domains")
@login_required  # type: ignore[untyped-decorator]
def index(slug: str) -> Page:
    try:
        return _page(_who(slug))
    except OrgForbiddenError as exc:
        return _error(403, translate_error(exc))


@bp.post("/orgs/<slug>/domains")
@login_required  # type: ignore[untyped-decorator]
def request_transfer(slug: str) -> Page:
    form = TransferForm()
    try:
        who = _who(slug)
    except OrgForbiddenError as exc:
        return _error(403, translate_error(exc))
    if not form.validate_on_submit():
        problem = _(EXPIRED_FORM) if form.csrf_token.errors else None
        return _page(who, status=400, form=form, problem=problem)
    try:
        transfer = _service().request(who, form.domain.data or "", form.auth_code.data or "", request_context())
    except ValidationError as exc:
        form[exc.field if exc.field in ("domain", "auth_code") else "domain"].errors.append(translate_error(exc))
        return _page(who, status=400, form=form)
    except RateLimitedError as exc:
        return _page(who, status=429, form=form, problem=translate_error(exc))
    except UpstreamError:
        return _page(who, status=503, form=form, problem=_(REGISTRAR_DOWN))
    flash(_("The transfer of %(domain)s is requested.", domain=transfer.domain), "success")
    return redirect(url_for("domains.index", slug=slug))


@bp.post("/orgs/<slug>/domains/<row_id:transfer_id>/relaunch")
@login_required  # type: ignore[untyped-decorator]
def relaunch(slug: str, transfer_id: int) -> Page:
    form = RelaunchForm(prefix=f"t{transfer_id}-")
    try:
        who = _who(slug)
    except OrgForbiddenError as exc:
        return _error(403, translate_error(exc))
    if not form.validate_on_submit():
        problem = _(EXPIRED_FORM) if form.csrf_token.errors else None
        return _page(who, status=400, relaunch=form, relaunch_id=transfer_id, problem=problem)
    number = form.failure.data or ""
    try:
        if not number.isdigit() or len(number) > 6:
            raise NotFoundError("no such failure")
        transfer = _service().relaunch_from_page(who, transfer_id, int(number), form.auth_code.data or "",
                                                 request_context())
    except NotFoundError:
        abort(404)
    except ValidationError as exc:
        form.auth_code.errors.append(translate_error(exc))
        return _page(who, status=400, relaunch=form, relaunch_id=transfer_id)
    except LinkRefusedError as exc:
        return _page(who, status=409, problem=translate_error(exc))
    except UpstreamError:
        return _page(who, status=503, problem=_(REGISTRAR_DOWN))
    flash(_("The transfer of %(domain)s is relaunched, without a new fee.", domain=transfer.domain), "success")
    return redirect(url_for("domains.index", slug=slug))


def _link_page(token: str, *, status: int = 200, form: RelaunchForm | None = None) -> Page:
    try:
        opened = _service().open_link(current_user.user, token)
    except LinkRefusedError as exc:
        return render_template("domains/link_refused.html", message=translate_error(exc)), exc.status
    if opened.acting.delegation is not None:
        g.delegation = opened.acting.delegation
    return render_template("domains/relaunch.html", opened=opened, view=opened.view, org=opened.acting.org,
                           token=token, form=form or RelaunchForm(formdata=None)), status


@bp.get("/domains/relaunch/<token>")
@login_required  # type: ignore[untyped-decorator]
def link(token: str) -> Page:
    """Nothing changes on GET (mail scanners follow links): relaunching is the page's form."""
    return _link_page(token)


@bp.post("/domains/relaunch/<token>")
def link_relaunch(token: str) -> Page:
    if not current_user.is_authenticated:
        return redirect(url_for("domains.link", token=token))
    form = RelaunchForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            return render_template("domains/link_refused.html", message=_(EXPIRED_FORM), again=token), 400
        return _link_page(token, status=400, form=form)
    try:
        transfer = _service().relaunch_by_link(current_user.user, token, form.auth_code.data or "", request_context())
    except ValidationError as exc:
        form.auth_code.errors.append(translate_error(exc))
        return _link_page(token, status=400, form=form)
    except LinkRefusedError as exc:
        return render_template("domains/link_refused.html", message=translate_error(exc)), exc.status
    except UpstreamError:
        return render_template("domains/link_refused.html", message=_(REGISTRAR_DOWN), again=token), 503
    org = _service().orgs.get(transfer.org_id)
    flash(_("The transfer of %(domain)s is relaunched, without a new fee.", domain=transfer.domain), "success")
    return redirect(url_for("domains.index", slug=org.slug) if org else url_for("account.home"))
