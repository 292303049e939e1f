"""Who may act on an organisation's domains: its legal representatives and administrators, and a
partner acting for it with the products right. The one rule (docs/domains.md)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from idp.account.org_rules import OrgAct
from idp.account.org_rules import OrgForbiddenError
from idp.account.org_rules import may
from idp.capability import DelegatedAccess
from idp.capability import Delegation
from idp.capability import PartnerRight
from idp.domains.ports import Organisations
from idp.errors import N_
from idp.errors import NotFoundError
from idp.model import Membership
from idp.model import Organisation
from idp.model import Role
from idp.model import User

MANAGERS = frozenset({Role.LEGAL_REPRESENTATIVE, Role.ADMIN})
NO_RIGHTS = N_("Only the organisation's legal representatives and administrators manage its domains.")


@dataclass(frozen=True)
class Acting:
    """A person acting on an organisation's domains: a member with rights, or a partner under
    `delegation` (whose actions are recorded in both organisations' logs)."""

    org: Organisation
    user: User
    delegation: Delegation | None = None


def may_manage(membership: Membership | None) -> bool:
    """The permission table's `manage_products` (idp.account.org_rules)."""
    return membership is not None and may(membership, OrgAct.MANAGE_PRODUCTS)


def acting(orgs: Organisations, delegated: Callable[[], DelegatedAccess | None], user: User, org: Organisation,
           now: dt.datetime) -> Acting:
    """The person's standing on `org`'s domains: OrgForbiddenError for a member without rights
    (a collaborator), NotFoundError for anyone else (as for an organisation that does not exist)."""
    membership = orgs.membership(user.id, org.id)
    if may_manage(membership):
        return Acting(org, user)
    hook = delegated()
    delegation = hook(user.id, org.id, PartnerRight.PRODUCTS, now) if hook is not None else None
    if delegation is not None and delegation.allows(PartnerRight.PRODUCTS):
        return Acting(org, user, delegation)
    if membership is not None:
        raise OrgForbiddenError(NO_RIGHTS)
    raise NotFoundError("no such organisation")
