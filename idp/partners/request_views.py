"""The requests a person receives from partners, under /partners/requests: the list, one request
to review (accept with the rights one chooses, or decline), and the e-mailed link's page (sign in,
or create the account, then review)."""

from __future__ import annotations

from flask import Blueprint
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_login import login_required
from wtforms import SelectChoice

from idp.account.org_forms import InvitedSignupForm
from idp.account.signup import SignupRequest
from idp.errors import NotFoundError
from idp.errors import ValidationError
from idp.partners.access import FULL
from idp.partners.access import LIMITED
from idp.partners.forms import NEW_ORG
from idp.partners.forms import ButtonForm
from idp.partners.forms import ReviewForm
from idp.partners.pages import EXPIRED_FORM
from idp.partners.pages import Page
from idp.partners.pages import access_of
from idp.partners.pages import error
from idp.partners.pages import field_error
from idp.partners.pages import service
from idp.partners.pages import user
from idp.partners.requests import Decision
from idp.partners.requests import Review
from idp.partners.rules import PartnerForbiddenError
from idp.web.current import request_context
from idp.web.current import services
from idp.web.i18n import translate_error

bp = Blueprint("partner_requests", __name__, url_prefix="/partners/requests")


@bp.get("")
@login_required  # type: ignore[untyped-decorator]
def index() -> str:
    return render_template("partners/requests.html", requests=service().requests_for(user()))


def _review(request_id: int) -> Review:
    try:
        return service().requests.review(user(), request_id)
    except NotFoundError:
        abort(404)


def _form_for(review: Review) -> ReviewForm:
    asked = review.request.access
    eligible = review.eligible
    form = ReviewForm(formdata=None, access=FULL if asked.full else LIMITED, rights=[r.value for r in asked.rights],
                      days=str(asked.days), auto_renew=asked.auto_renew,
                      org=eligible[0].org_slug if eligible else NEW_ORG)
    return _choices(form, review)


def _choices(form: ReviewForm, review: Review) -> ReviewForm:
    form.org.choices = [SelectChoice(m.org_slug, m.org_name) for m in review.eligible] + [
        SelectChoice(NEW_ORG, _("A new organisation"))]
    return form


def _page(review: Review, form: ReviewForm, status: int = 200, problem: str | None = None) -> tuple[str, int]:
    return render_template("partners/review.html", review=review, r=review.request, form=form, button=ButtonForm(),
                           problem=problem, NEW_ORG=NEW_ORG), status


@bp.get("/<row_id:request_id>")
@login_required  # type: ignore[untyped-decorator]
def review(request_id: int) -> Page:
    try:
        found = _review(request_id)
    except ValidationError as exc:
        return error(400, translate_error(exc))
    return _page(found, _form_for(found))


@bp.post("/<row_id:request_id>/accept")
@login_required  # type: ignore[untyped-decorator]
def accept(request_id: int) -> Page:
    try:
        found = _review(request_id)
    except ValidationError as exc:
        return error(400, translate_error(exc))
    form = _choices(ReviewForm(), found)
    if not form.validate_on_submit():
        return _page(found, form, 400, _(EXPIRED_FORM) if form.csrf_token.errors else None)
    chosen = (form.org.data or "").strip()
    try:
        # The payment means are the partner's offer; the service keeps them as asked.
        access = access_of(form, payer="partner" if found.request.access.payer_is_partner else "client")
        decision = Decision(access, new=True, new_name=form.new_name.data or "", new_slug=form.new_slug.data or "") if (
            chosen == NEW_ORG) else Decision(access, org_slug=chosen)
        p = service().requests.accept(user(), request_id, decision, request_context())
    except NotFoundError:
        abort(404)
    except PartnerForbiddenError as exc:
        return error(403, translate_error(exc))
    except ValidationError as exc:
        exc.field = {"slug": "new_slug", "name": "new_name"}.get(exc.field or "", exc.field)
        if exc.field is None:
            return _page(found, form, 400, translate_error(exc))
        field_error(form, exc, "org")
        return _page(found, form, 400)
    flash(_("%(partner)s now manages %(client)s, with the rights you granted.", partner=p.partner_name,
            client=p.client_name), "success")
    return redirect(url_for("partner_access.index", slug=p.client_slug))


@bp.post("/<row_id:request_id>/decline")
@login_required  # type: ignore[untyped-decorator]
def decline(request_id: int) -> Page:
    if not ButtonForm().validate_on_submit():
        return error(400, _(EXPIRED_FORM))
    try:
        declined = service().requests.decline(user(), request_id, request_context())
    except NotFoundError:
        abort(404)
    except ValidationError as exc:
        return error(400, translate_error(exc))
    flash(_("You declined the request of %(partner)s.", partner=declined.partner_name), "success")
    return redirect(url_for("partner_requests.index"))


# -- the e-mailed link ------------------------------------------------------------------------


def _link_page(token: str, *, status: int = 200, signup: InvitedSignupForm | None = None,
               problem: str | None = None, refused: str | None = None) -> Page:
    """The request as the visitor can act on it: signed in as its address (sent to review it),
    as another account (refused), signed out with an account (sign in first), or without one
    (the sign-up form, its address fixed). Nothing changes on GET: mail scanners follow links."""
    opened = None
    if problem is None:
        try:
            opened = service().requests.open(token)
        except ValidationError as exc:
            problem = translate_error(exc)
    mine = bool(opened and current_user.is_authenticated
                and current_user.user.email.strip().lower() == opened.request.email)
    if opened is not None and mine and status == 200:
        return redirect(url_for("partner_requests.review", request_id=opened.request.id))
    wrong = bool(opened and current_user.is_authenticated and not mine)
    return render_template(
        "partners/link.html", opened=opened, token=token, problem=problem, wrong_account=wrong,
        form=signup or InvitedSignupForm(formdata=None), refused=refused,
        min_length=services().passwords.min_length,
        review_path=url_for("partner_requests.review", request_id=opened.request.id) if opened else "",
    ), status if problem is None or status != 200 else 400


@bp.get("/link/<token>")
def link(token: str) -> Page:
    return _link_page(token)


@bp.post("/link/<token>/signup")
def signup(token: str) -> Page:
    form = InvitedSignupForm()
    if current_user.is_authenticated:
        return redirect(url_for("partner_requests.link", token=token))
    if not form.validate_on_submit():
        return _link_page(token, status=400, signup=form)
    try:
        opened = service().requests.open(token)
        created = service().requests.sign_up(token, SignupRequest(
            email="", given_name=form.given_name.data or "", family_name=form.family_name.data or "",
            password=form.new_password.data or "", confirm=form.confirm.data or "", locale=str(get_locale()),
        ), request_context())
    except ValidationError as exc:
        if exc.field in ("given_name", "family_name", "new_password", "confirm"):
            form[exc.field].errors.append(translate_error(exc))
            return _link_page(token, status=400, signup=form)
        if exc.field is not None:  # the address (an organisation's directory owns its domain)
            return _link_page(token, status=400, signup=form, refused=translate_error(exc))
        return _link_page(token, problem=translate_error(exc))
    flash(_("Your account is ready. Sign in, then review the request and name your organisation."), "success")
    return redirect(url_for("auth.identify", login_hint=created.email,
                            next=url_for("partner_requests.review", request_id=opened.request.id)))
