"""Pages of acting for a client: the page that offers it (for a client the partner person reaches),
stopping, and the client organisation as the person acting for it sees it: what the partnership
grants, and under `users` its members and invitations. Every page of the client refuses a
session that does not act for it (404, as for any organisation one is not a member of) and a
right the partnership does not grant (403)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask import abort
from flask import current_app
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

from idp.account.org_rules import OrgForbiddenError
from idp.account.organisations import parse_role
from idp.capability import PartnerRight
from idp.errors import N_
from idp.errors import NotFoundError
from idp.errors import RateLimitedError
from idp.errors import ValidationError
from idp.model import Organisation
from idp.partners.delegated import DelegatedForbiddenError
from idp.partners.delegated_forms import ActionForm
from idp.partners.delegated_forms import DelegatedInviteForm
from idp.partners.delegation import current
from idp.partners.delegation import dropped
from idp.partners.delegation import refused
from idp.partners.delegation import side
from idp.partners.model import RIGHT_HINTS
from idp.partners.model import RIGHT_NAMES
from idp.partners.rules import PartnerForbiddenError
from idp.web.current import request_context
from idp.web.current import services
from idp.web.i18n import translate_error

bp = Blueprint("partners_delegated", __name__)

Page = str | BaseResponse | tuple[str, int]
EXPIRED = N_("The form has expired; please submit it again.")


class _Refused(Exception):
    """A page of the client refused: the answer is ready."""

    def __init__(self, page: tuple[str, int]) -> None:
        self.page = page


@bp.errorhandler(_Refused)
def _refused(exc: _Refused) -> tuple[str, int]:
    return exc.page


def _error(status: int, message: str) -> tuple[str, int]:
    return render_template("errors/error.html", status=status, title=_("Something is not right"),
                           message=message), status


def _user() -> Any:
    return current_user.user


def _client(slug: str, right: PartnerRight | None = None) -> Organisation:
    """The client organisation of `slug`, when this request acts for it (with `right`)."""
    gone = dropped()
    if gone is not None and gone.client_slug == slug.strip().lower()[:64]:
        raise _Refused((render_template("partners/delegated/ended.html", acting=gone), 403))
    try:
        org = side().org.reach(current(), slug, right)
    except NotFoundError:
        abort(404)
    except DelegatedForbiddenError as exc:
        raise _Refused(_error(403, refused(exc))) from exc
    found = current()
    assert found is not None  # noqa: S101 - reach() refuses None
    g.delegation = found.delegation
    return org


# -- acting for a client, and stopping ---------------------------------------------------------


@bp.route("/orgs/<partner_slug>/clients/<client_slug>/act", methods=["GET", "POST"])
@login_required  # type: ignore[untyped-decorator]
def act(partner_slug: str, client_slug: str) -> Page:
    """What acting for this client means and what the partnership grants; the button acts."""
    acting = side().acting
    try:
        reached = acting.offer(_user(), partner_slug, client_slug)
    except NotFoundError:
        abort(404)
    except PartnerForbiddenError as exc:
        return _error(403, translate_error(exc))
    form = ActionForm()
    problem = None
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                started = acting.start(_user(), current_user.session, partner_slug, client_slug, request_context())
            except NotFoundError:
                abort(404)
            flash(_("You now act for %(client)s on behalf of %(partner)s.", client=started.client_name,
                    partner=started.partner_name), "success")
            return redirect(url_for(".overview", slug=started.client_slug))
        problem = _(EXPIRED)
    found = current()
    here = found is not None and found.acting.partnership_id == reached.partnership.id
    return render_template(
        "partners/delegated/act.html", reached=reached, p=reached.partnership, form=form, problem=problem,
        acting_here=here, elsewhere=found.acting if found is not None and not here else None,
        rights=_rights(reached.delegation), until=reached.partnership.current_end(services().clock.now()),
    ), 400 if problem else 200


def _rights(delegation: Any) -> list[dict[str, Any]]:
    return [{"right": r, "name": _(RIGHT_NAMES[r]), "hint": _(RIGHT_HINTS[r]), "granted": delegation.allows(r)}
            for r in PartnerRight]


@bp.post("/partners/acting/stop")
@login_required  # type: ignore[untyped-decorator]
def stop() -> Page:
    if not ActionForm().validate_on_submit():
        return _error(400, _(EXPIRED))
    stopped = side().acting.stop(_user(), current_user.session, request_context())
    if stopped is None:
        if dropped() is None:
            flash(_("You were not acting for a client."), "info")
        return redirect(url_for("account.home"))
    flash(_("You no longer act for %(client)s.", client=stopped.client_name), "success")
    return redirect(url_for("orgs.page", slug=stopped.partner_slug))


# -- the client organisation, as the person acting for it sees it -------------------------------


@bp.get("/orgs/<slug>/delegated/")
@login_required  # type: ignore[untyped-decorator]
def overview(slug: str) -> Page:
    org = _client(slug)
    found = current()
    assert found is not None  # noqa: S101 - _client() refuses a request that does not act
    links = {PartnerRight.USERS: url_for(".members", slug=org.slug)}
    if "org_security.activity" in current_app.view_functions:
        links[PartnerRight.ACTIVITY] = url_for("org_security.activity", slug=org.slug)
    return render_template("partners/delegated/overview.html", org=org, acting=found.acting,
                           rights=_rights(found.delegation), links=links)


def _members(slug: str, *, status: int = 200, problem: str | None = None,
             invite: DelegatedInviteForm | None = None) -> Page:
    try:
        view = side().org.members(current(), slug)
    except NotFoundError:
        abort(404)
    except DelegatedForbiddenError as exc:
        return _error(403, refused(exc))
    g.delegation = view.current.delegation
    return render_template(
        "partners/delegated/members.html", view=view, org=view.org, acting=view.current.acting,
        invite=invite or DelegatedInviteForm(formdata=None), button=ActionForm(), problem=problem,
    ), status


@bp.get("/orgs/<slug>/delegated/members")
@login_required  # type: ignore[untyped-decorator]
def members(slug: str) -> Page:
    _client(slug, PartnerRight.USERS)
    return _members(slug)


def _change(slug: str, action: Any, done: str) -> Page:
    """Check the button's CSRF token, make the change and go back to the members page with
    `done`; or the page again with the reason (400, 429), a 403 page, or a 404."""
    _client(slug, PartnerRight.USERS)
    if not ActionForm().validate_on_submit():
        return _members(slug, status=400, problem=_(EXPIRED))
    try:
        action()
    except NotFoundError:
        abort(404)
    except (OrgForbiddenError, PartnerForbiddenError) as exc:
        return _error(403, translate_error(exc))
    except (ValidationError, RateLimitedError) as exc:
        return _members(slug, status=400 if isinstance(exc, ValidationError) else 429, problem=translate_error(exc))
    flash(done, "success")
    return redirect(url_for(".members", slug=slug))


@bp.post("/orgs/<slug>/delegated/invite")
@login_required  # type: ignore[untyped-decorator]
def invite(slug: str) -> Page:
    _client(slug, PartnerRight.USERS)
    form = DelegatedInviteForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            return _members(slug, status=400, problem=_(EXPIRED))
        return _members(slug, status=400, invite=form)
    try:
        role = parse_role(form.role.data or "")
        sent = side().org.invite(_user(), current(), slug, form.email.data or "", role, request_context())
    except NotFoundError:
        abort(404)
    except (OrgForbiddenError, PartnerForbiddenError) as exc:
        return _error(403, translate_error(exc))
    except ValidationError as exc:
        form[exc.field if exc.field in ("email", "role") else "email"].errors.append(translate_error(exc))
        return _members(slug, status=400, invite=form)
    except RateLimitedError as exc:
        return _members(slug, status=429, problem=translate_error(exc))
    flash(_("An invitation is on its way to %(email)s.", email=sent.email), "success")
    return redirect(url_for(".members", slug=slug))


@bp.post("/orgs/<slug>/delegated/invitations/<row_id:invitation_id>/withdraw")
@login_required  # type: ignore[untyped-decorator]
def withdraw(slug: str, invitation_id: int) -> Page:
    return _change(slug, lambda: side().org.withdraw(_user(), current(), slug, invitation_id, request_context()),
                   _("The invitation is withdrawn."))


@bp.post("/orgs/<slug>/delegated/members/<row_id:member_id>/remove")
@login_required  # type: ignore[untyped-decorator]
def remove(slug: str, member_id: int) -> Page:
    return _change(slug, lambda: side().org.remove(_user(), current(), slug, member_id, request_context()),
                   _("The member is removed from the organisation."))
