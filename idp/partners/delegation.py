"""Acting for a client, in the web application: the check at the start of every request, the
banner every page shows while a partner person acts for a client (or while a page works under a
delegation, `flask.g.delegation`), and `require`, the one call a page makes to let the partner
person acting for an organisation in (other capabilities reach it as the `DELEGATED_PAGE` hook).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING
from typing import Any

from flask import Flask
from flask import flash
from flask import g
from flask import request
from flask_babel import gettext as _
from flask_login import current_user

from idp.capability import Delegation
from idp.capability import PartnerRight
from idp.errors import IdpError
from idp.errors import NotFoundError
from idp.model import Organisation
from idp.partners import DELEGATED
from idp.partners.acting import Current
from idp.partners.acting import Dropped
from idp.partners.delegated import DelegatedForbiddenError
from idp.partners.model import RIGHT_NAMES
from idp.web.current import request_context
from idp.web.current import services

if TYPE_CHECKING:
    from idp.container import Container
    from idp.foundation.sessions import Acting
    from idp.partners.delegated import DelegatedSide
    from idp.web.current import SignedIn


class DelegationRefusedError(IdpError):
    """A delegated page refused (its message already in the page's language): the partnership
    does not grant the right (403), or the session no longer acts for the organisation (403)."""

    status = 403
    code = "forbidden"


def side(container: Container | None = None) -> DelegatedSide:
    return (container or services()).get(DELEGATED)


def current() -> Current | None:
    """What this request acts under, as the check at its start found it (None: not acting)."""
    found: Current | None = g.get("partner_current")
    return found


def dropped() -> Acting | None:
    """The acting state this request found gone (the partnership ended, ...), if it did."""
    found: Acting | None = g.get("partner_dropped")
    return found


def ended_message(acting: Acting) -> str:
    return str(_("You no longer act for %(client)s on behalf of %(partner)s: the partnership ended, or your role "
             "no longer reaches this client.", client=acting.client_name, partner=acting.partner_name))


def refused(exc: DelegatedForbiddenError) -> str:
    return str(_(exc.template, client=exc.client, right=_(RIGHT_NAMES[exc.right])))


def check_acting() -> None:
    """Before every request: a session that acts for a client has its delegation read again
    from SQL. Gone, the acting state is dropped at this very request (and the person told);
    otherwise the request acts under it (`current()`), and `current_user.session` carries the
    acting state as checked now (the rights in effect)."""
    if request.endpoint in (None, "static") or not current_user.is_authenticated:
        return
    signed_in = current_user._get_current_object()
    session = signed_in.session
    if session.acting is None:
        return
    result = side().acting.check(signed_in.user, session, request_context())
    if isinstance(result, Dropped):
        signed_in.session = dataclasses.replace(session, acting=None)
        g.partner_dropped = result.acting
        flash(ended_message(result.acting), "warning")
    elif isinstance(result, Current):
        signed_in.session = dataclasses.replace(session, acting=result.acting)
        g.partner_current = result


def _enter(container: Container, user: SignedIn, slug: str, right: PartnerRight) -> tuple[Organisation, Delegation]:
    gone = dropped()
    if gone is not None and gone.client_slug == slug.strip().lower()[:64]:
        # The reason is in the notice the check at the start of the request left.
        raise DelegationRefusedError(str(_("You no longer act for %(client)s.", client=gone.client_name)))
    found = current()
    if found is not None and found.delegation.actor_id != user.id:
        raise NotFoundError("no such organisation")  # only the request's own person acts
    try:
        org = side(container).org.reach(found, slug, right)
    except DelegatedForbiddenError as exc:
        raise DelegationRefusedError(refused(exc)) from exc
    assert found is not None  # noqa: S101 - reach() refuses None
    g.delegation = found.delegation
    return org, found.delegation


def require(container: Container, user: SignedIn, org: Organisation, right: PartnerRight) -> Delegation:
    """Let the partner person acting for `org` into a page of it that needs `right`: the
    delegation, read from SQL at this request, when the browser session acts for `org` and the
    partnership grants `right` (it sets `flask.g.delegation`, so the banner shows). NotFoundError
    when the session does not act for `org` (the answer for any organisation one is not a member
    of); DelegationRefusedError (403, its message translated) without the right, or when the
    acting state was dropped at this request. The page records what it changes with
    `side(container).acting.record(...)`, in both organisations' logs."""
    found = current()
    if found is not None and found.acting.client_org_id != org.id:
        raise NotFoundError("no such organisation")
    return _enter(container, user, org.slug, right)[1]


def delegated_org(user: SignedIn, slug: str, right: PartnerRight) -> tuple[Organisation, Delegation]:
    """`require` for an organisation named by its short name: the `DELEGATED_PAGE` hook."""
    return _enter(services(), user, slug, right)


@dataclass(frozen=True)
class Banner:
    """What the banner says: for whom, on whose behalf; whether it offers to stop acting."""

    client: str
    partner: str
    acting: bool


def banner() -> Banner | None:
    """The banner of this page: while the session acts for a client, or when the page works
    under a delegation (`g.delegation`, set by `require` or by a page that asked
    `DELEGATED_ACCESS` itself)."""
    found = current()
    if found is not None:
        return Banner(found.acting.client_name, found.acting.partner_name, True)
    delegation: Delegation | None = g.get("delegation")
    if delegation is None:
        return None
    orgs = side().org.ports.orgs
    client, partner = orgs.get(delegation.client_org_id), orgs.get(delegation.partner_org_id)
    return Banner(client.name if client else "", partner.name if partner else "", False)


def init_flask(_service: Any, app: Flask) -> None:
    from idp.partners.delegated_views import bp

    app.register_blueprint(bp)
    app.before_request(check_acting)
    app.add_template_global(banner, "acting_banner")
