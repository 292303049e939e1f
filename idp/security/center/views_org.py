"""An organisation's security pages, for the roles the permission table allows: its members'
locks (and unlock) and its members' activity, beside the organisation's page under
`/orgs/<slug>/members/`. The addresses they had under `/org/` answer a permanent redirect."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask import Response
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_login import login_required
from werkzeug.wrappers import Response as BaseResponse

from idp.account.org_rules import OrgAct
from idp.capability import DELEGATED_PAGE
from idp.capability import PartnerRight
from idp.errors import N_
from idp.errors import NotFoundError
from idp.model import Organisation
from idp.security.activity import action_label
from idp.security.activity import product_label
from idp.security.center import SECURITY
from idp.security.center.forms import ActionForm
from idp.security.center.service import SecurityCenterService
from idp.security.center.views_activity import csv_response
from idp.security.center.views_activity import listing
from idp.security.center.views_activity import page_args
from idp.web.current import request_context
from idp.web.current import services
from idp.web.nav import OrgPage

bp = Blueprint("org_security", __name__, url_prefix="/orgs")
# The addresses of the first version, under /org/: each answers 308 (permanent, the method and
# the body kept, so a form posted from an old page still reaches its new address and its CSRF
# check), with its query string.
moved = Blueprint("org_security_moved", __name__, url_prefix="/org")

# Linked from the organisation's page (idp.account.org_views) to the roles that may open them.
ORG_PAGES = (
    OrgPage(N_("Locked accounts"), "org_security.locks", OrgAct.UNLOCK, order=10),
    OrgPage(N_("Activity of members"), "org_security.activity", OrgAct.SEE_ACTIVITY, order=20),
)


def _center() -> SecurityCenterService:
    center: SecurityCenterService = services().get(SECURITY).center
    return center


def _org(slug: str, act: OrgAct) -> Organisation:
    # The same "Page not found" as any unknown address: a non-admin learns nothing about the
    # organisation, and nobody reads the service's internal wording.
    try:
        return _center().org_for_admin(current_user.user, slug, act)
    except NotFoundError:
        abort(404)


@bp.get("/<slug>/members/locks")
@login_required  # type: ignore[untyped-decorator]
def locks(slug: str) -> str:
    org = _org(slug, OrgAct.UNLOCK)
    people = _center().members(org)
    locked = [(u, r) for u, r in people if u.locked_at is not None]
    return render_template("org/members.html", org=org, locked=locked, members=people, form=ActionForm())


@bp.post("/<slug>/members/<row_id:member_id>/unlock")
@login_required  # type: ignore[untyped-decorator]
def unlock(slug: str, member_id: int) -> BaseResponse | tuple[str, int]:
    org = _org(slug, OrgAct.UNLOCK)
    form = ActionForm()
    if not form.validate_on_submit():
        return render_template(
            "errors/error.html", status=400, title=_("Something is not right"),
            message=_("The form has expired; please submit it again."),
        ), 400
    try:
        member = _center().unlock_member(current_user.user, org, member_id, request_context())
    except NotFoundError:
        flash(_("This person is not a member of the organisation."), "error")
    else:
        flash(_("%(name)s can sign in again.", name=member.display_name), "success")
    return redirect(url_for("org_security.locks", slug=org.slug))


def _activity_org(slug: str) -> tuple[Organisation, bool]:
    """The organisation whose log this is, and whether the reader is a partner person acting for
    it with the activity right (partners' `DELEGATED_PAGE`) rather than one of its administrators."""
    try:
        return _center().org_for_admin(current_user.user, slug, OrgAct.SEE_ACTIVITY), False
    except NotFoundError:
        gate = services().find(DELEGATED_PAGE)
    if gate is None:
        abort(404)
    try:
        return gate(current_user, slug, PartnerRight.ACTIVITY)[0], True
    except NotFoundError:
        abort(404)


@bp.get("/<slug>/members/activity")
@login_required  # type: ignore[untyped-decorator]
def activity(slug: str) -> tuple[str, int]:
    org, delegated = _activity_org(slug)
    result = listing(org_id=org.id)
    return render_template(
        "org/activity.html", org=org, result=result, action_label=action_label,
        product_label=product_label, delegated=delegated,
        page_args=page_args, endpoint="org_security.activity",
        # The export records who downloaded it in the organisation's log: its administrators'.
        csv_endpoint=None if delegated else "org_security.activity_csv", endpoint_args={"slug": org.slug},
    ), 200 if result.ok else 400


@bp.get("/<slug>/members/activity/export.csv")
@login_required  # type: ignore[untyped-decorator]
def activity_csv(slug: str) -> Response | tuple[str, int]:
    org = _org(slug, OrgAct.SEE_ACTIVITY)
    return csv_response(org_id=org.id, name=f"activity-{org.slug}")


# -- the first addresses ----------------------------------------------------------------------


def _moved(endpoint: str, **values: Any) -> BaseResponse:
    target = url_for(endpoint, **values)
    query = request.query_string.decode("latin-1")
    return redirect(f"{target}?{query}" if query else target, code=308)


@moved.get("/")
def old_index() -> BaseResponse:
    return _moved("orgs.index")


@moved.get("/<slug>/security")
def old_locks(slug: str) -> BaseResponse:
    return _moved("org_security.locks", slug=slug)


@moved.post("/<slug>/members/<row_id:member_id>/unlock")
def old_unlock(slug: str, member_id: int) -> BaseResponse:
    return _moved("org_security.unlock", slug=slug, member_id=member_id)


@moved.get("/<slug>/activity")
def old_activity(slug: str) -> BaseResponse:
    return _moved("org_security.activity", slug=slug)


@moved.get("/<slug>/activity/export.csv")
def old_activity_csv(slug: str) -> BaseResponse:
    return _moved("org_security.activity_csv", slug=slug)
