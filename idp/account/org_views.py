"""Organisation pages: my organisations, create one, one organisation's members, roles,
invitations and settings; and the gate that sends a member without a required second factor to
enrol."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask import abort
from flask import flash
from flask import g
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_login import login_required
from werkzeug.wrappers import Response as BaseResponse

from idp.account.org_forms import ButtonForm
from idp.account.org_forms import CreateOrgForm
from idp.account.org_forms import DeleteOrgForm
from idp.account.org_forms import InviteForm
from idp.account.org_forms import RequireFactorForm
from idp.account.org_forms import RoleForm
from idp.account.org_rules import INVITATION_FOR
from idp.account.org_rules import ROLE_NAMES
from idp.account.org_rules import OrgAct
from idp.account.org_rules import OrgForbiddenError
from idp.account.organisations import parse_role
from idp.errors import NotFoundError
from idp.errors import RateLimitedError
from idp.errors import ValidationError
from idp.web.current import recent_auth_required
from idp.web.current import request_context
from idp.web.current import services
from idp.web.i18n import translate_error

bp = Blueprint("orgs", __name__, url_prefix="/orgs")

Page = str | BaseResponse | tuple[str, int]
# Signed-in pages a member without a required second factor still reaches: signing in and out
# and re-authenticating, the profile, the invitation links, and APIs that no browser page calls.
OPEN_BLUEPRINTS = frozenset({
    "auth", "mfa_signin", "profile", "phones", "email", "health", "signup", "org_invitations",
    "forwardauth", "api_v1", "kauth_api",
})


@bp.before_app_request
def _factor_gate() -> BaseResponse | None:
    """After signing in, a member of an organisation that requires a second factor and who has
    none is sent to the enrolment page, with a notice; every other signed-in page (and form)
    sends them there again until they have one."""
    if request.endpoint in (None, "static") or request.blueprint in OPEN_BLUEPRINTS:
        return None
    enrolment = services().organisations.enrolment()
    if enrolment is None or request.blueprint in enrolment.blueprints or not current_user.is_authenticated:
        return None
    if "needs_factor" not in g:
        g.needs_factor = services().organisations.needs_factor(current_user.user)
    if not g.needs_factor:
        return None
    flash(_("Your organisation requires a second factor: set one up to continue."), "warning")
    return redirect(url_for(enrolment.endpoint))


@bp.app_context_processor
def _role_names() -> dict[str, Any]:
    return {"role_name": lambda role: _(ROLE_NAMES[role]), "invitation_for": INVITATION_FOR}


def _user() -> Any:
    return current_user.user


def _error(status: int, message: str) -> tuple[str, int]:
    return render_template("errors/error.html", status=status, title=_("Something is not right"),
                           message=message), status


@bp.route("/", methods=["GET", "POST"])
@login_required  # type: ignore[untyped-decorator]
def index() -> Page:
    form = CreateOrgForm()
    if form.validate_on_submit():
        try:
            org = services().organisations.create(
                _user(), form.slug.data or "", form.name.data or "", request_context()
            )
        except ValidationError as exc:
            form[exc.field if exc.field in form else "slug"].errors.append(translate_error(exc))
        else:
            flash(_("%(name)s is created; you are its legal representative.", name=org.name), "success")
            return redirect(url_for("orgs.page", slug=org.slug))
    elif request.method == "POST" and not form.errors:
        form.slug.errors.append(_("The form has expired; please submit it again."))
    memberships = services().organisations.mine(_user())
    return render_template("orgs/index.html", memberships=memberships, form=form), 400 if form.errors else 200


def _page(slug: str, *, status: int = 200, problem: str | None = None, invite: InviteForm | None = None) -> Page:
    container = services()
    try:
        view = container.organisations.view(_user(), slug)
    except NotFoundError:
        abort(404)
    pending = container.invitations.pending(_user(), slug) if view.may(OrgAct.INVITE) else []
    links = [p for p in container.org_pages if view.may(p.act)]
    return render_template(
        "orgs/page.html", view=view, org=view.org, pending=pending, problem=problem, links=links,
        invite=invite or InviteForm(formdata=None), button=ButtonForm(),
        factor_form=RequireFactorForm(formdata=None, required=view.org.require_factor), OrgAct=OrgAct,
        can_require=container.organisations.factor_enrolment(),
    ), status


@bp.get("/<slug>")
@login_required  # type: ignore[untyped-decorator]
def page(slug: str) -> Page:
    return _page(slug)


def _act(slug: str, form: Any, action: Any, done: str, *, to: str | None = None) -> Page:
    """Check the form's CSRF token, call the service, and go back to the page with `done`, or
    show the page again with the reason (400), a 403 page, or a 404."""
    if not form.validate_on_submit():
        return _page(slug, status=400, problem=_("The form has expired; please submit it again."))
    try:
        result = action()
    except NotFoundError:
        abort(404)
    except OrgForbiddenError as exc:
        return _error(403, translate_error(exc))
    except (ValidationError, RateLimitedError) as exc:
        return _page(slug, status=400 if isinstance(exc, ValidationError) else 429, problem=translate_error(exc))
    del result
    flash(done, "success")
    return redirect(to or url_for("orgs.page", slug=slug))


@bp.post("/<slug>/invite")
@login_required  # type: ignore[untyped-decorator]
def invite(slug: str) -> Page:
    form = InviteForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            return _page(slug, status=400, problem=_("The form has expired; please submit it again."))
        return _page(slug, status=400, invite=form)
    try:
        role = parse_role(form.role.data or "")
        sent = services().invitations.invite(_user(), slug, form.email.data or "", role, request_context())
    except NotFoundError:
        abort(404)
    except OrgForbiddenError as exc:
        return _error(403, translate_error(exc))
    except ValidationError as exc:
        form[exc.field if exc.field in ("email", "role") else "email"].errors.append(translate_error(exc))
        return _page(slug, status=400, invite=form)
    except RateLimitedError as exc:
        return _page(slug, status=429, problem=translate_error(exc))
    flash(_("An invitation is on its way to %(email)s.", email=sent.email), "success")
    return redirect(url_for("orgs.page", slug=slug))


@bp.post("/<slug>/invitations/<row_id:invitation_id>/revoke")
@login_required  # type: ignore[untyped-decorator]
def revoke(slug: str, invitation_id: int) -> Page:
    return _act(slug, ButtonForm(), lambda: services().invitations.revoke(
        _user(), slug, invitation_id, request_context()), _("The invitation is withdrawn."))


@bp.post("/<slug>/members/<row_id:member_id>/role")
@login_required  # type: ignore[untyped-decorator]
def change_role(slug: str, member_id: int) -> Page:
    form = RoleForm()
    return _act(slug, form, lambda: services().organisations.change_role(
        _user(), slug, member_id, parse_role(form.role.data or ""), request_context()), _("The role is changed."))


@bp.post("/<slug>/members/<row_id:member_id>/remove")
@login_required  # type: ignore[untyped-decorator]
def remove(slug: str, member_id: int) -> Page:
    return _act(slug, ButtonForm(), lambda: services().organisations.remove(
        _user(), slug, member_id, request_context()), _("The member is removed from the organisation."))


@bp.post("/<slug>/members/<row_id:member_id>/hand-over")
@login_required  # type: ignore[untyped-decorator]
def hand_over(slug: str, member_id: int) -> Page:
    return _act(slug, ButtonForm(), lambda: services().organisations.hand_over(
        _user(), slug, member_id, request_context()),
        _("The legal representation is handed over; you are an administrator now."))


@bp.post("/<slug>/leave")
@login_required  # type: ignore[untyped-decorator]
def leave(slug: str) -> Page:
    return _act(slug, ButtonForm(), lambda: services().organisations.leave(_user(), slug, request_context()),
                _("You left the organisation."), to=url_for("orgs.index"))


@bp.post("/<slug>/require-factor")
@login_required  # type: ignore[untyped-decorator]
def require_factor(slug: str) -> Page:
    form = RequireFactorForm()
    return _act(slug, form, lambda: services().organisations.set_require_factor(
        _user(), slug, bool(form.required.data), request_context()), _("The setting is saved."))


@bp.route("/<slug>/delete", methods=["GET", "POST"])
@recent_auth_required
def delete(slug: str) -> Page:
    container = services()
    try:
        view = container.organisations.view(_user(), slug)
    except NotFoundError:
        abort(404)
    if not view.may(OrgAct.DELETE_ORG):
        return _error(403, _("Your role in this organisation does not allow this."))
    form = DeleteOrgForm()
    if form.validate_on_submit():
        try:
            container.organisations.delete(_user(), slug, bool(form.confirm.data), request_context())
        except OrgForbiddenError as exc:
            return _error(403, translate_error(exc))
        except ValidationError as exc:
            form.confirm.errors.append(translate_error(exc))
        else:
            flash(_("%(name)s is deleted.", name=view.org.name), "success")
            return redirect(url_for("orgs.index"))
    elif request.method == "POST" and not form.errors:
        form.confirm.errors.append(_("The form has expired; please submit it again."))
    return render_template("orgs/delete.html", org=view.org, view=view, form=form), 400 if form.errors else 200
