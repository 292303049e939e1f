"""Who acts on an organisation's money: a member whose role the permission table allows, or a
partner person acting for the client by delegation (never for payouts); and the activity log
entries that say so, in both organisations' logs when a partner acts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from typing import Protocol

from idp.account.org_rules import OrgAct
from idp.account.org_rules import OrgForbiddenError
from idp.account.org_rules import may
from idp.capability import DelegatedAccess
from idp.capability import Delegation
from idp.capability import PartnerRight
from idp.clock import Clock
from idp.errors import N_
from idp.errors import NotFoundError
from idp.events import EventRecorder
from idp.events import EventTag
from idp.events import Product
from idp.model import Membership
from idp.model import Organisation
from idp.model import RequestContext
from idp.model import Role
from idp.model import User

MAX_SLUG = 64


class OrgDirectory(Protocol):
    """What money reads of organisations (idp.stores.orgs.SqlOrganisationStore)."""

    def by_slug(self, slug: str) -> Organisation | None: ...
    def get(self, org_id: int) -> Organisation | None: ...
    def membership(self, user_id: int, org_id: int) -> Membership | None: ...
    def members(self, org_id: int) -> list[tuple[User, Role]]: ...


@dataclass(frozen=True)
class Caller:
    """A person acting on an organisation's money, and in what capacity."""

    org: Organisation
    user: User
    membership: Membership | None  # None when acting by delegation
    delegation: Delegation | None = None

    @property
    def as_partner(self) -> bool:
        return self.delegation is not None

    @property
    def may_request_payouts(self) -> bool:
        return self.delegation is None and may(self.membership, OrgAct.REQUEST_PAYOUT)


class BillingAccess:
    def __init__(
        self, orgs: OrgDirectory, events: EventRecorder, clock: Clock,
        delegated: Callable[[], DelegatedAccess | None] = lambda: None,
    ) -> None:
        self.orgs, self.events, self.clock = orgs, events, clock
        # The partners capability's hook, read at each call (None when it is not installed).
        self.delegated = delegated

    def _org(self, slug: str) -> Organisation:
        org = self.orgs.by_slug(slug.strip().lower()[:MAX_SLUG])
        if org is None:
            raise NotFoundError("no such organisation")
        return org

    def billing(self, user: User, slug: str) -> Caller:
        """The caller for the billing pages: a member whose role has `billing`, else a partner
        person the client delegated the billing right to. NotFoundError for anyone else (the
        answer an unknown organisation gets), OrgForbiddenError for a member without the act."""
        org = self._org(slug)
        membership = self.orgs.membership(user.id, org.id)
        if may(membership, OrgAct.BILLING):
            return Caller(org, user, membership)
        hook = self.delegated()
        delegation = hook(user.id, org.id, PartnerRight.BILLING, self.clock.now()) if hook is not None else None
        if delegation is not None and delegation.client_org_id == org.id and delegation.actor_id == user.id:
            return Caller(org, user, None, delegation)
        if membership is not None:
            raise OrgForbiddenError(N_("Your role in this organisation does not allow this."))
        raise NotFoundError("no such organisation")

    def payouts(self, user: User, slug: str) -> Caller:
        """The caller for payouts: a legal representative of the organisation, in person. A
        partner acting for the client never gets here (OrgForbiddenError if they also hold a
        role without the act, NotFoundError otherwise)."""
        org = self._org(slug)
        membership = self.orgs.membership(user.id, org.id)
        if may(membership, OrgAct.REQUEST_PAYOUT):
            return Caller(org, user, membership)
        if membership is not None:
            raise OrgForbiddenError(N_("Only a legal representative of the organisation asks for payouts."))
        raise NotFoundError("no such organisation")

    def org(self, org_id: int) -> Organisation | None:
        return self.orgs.get(org_id)

    def by_slug(self, slug: str) -> Organisation:
        """For the operator's commands."""
        return self._org(slug)

    def legal_representatives(self, org_id: int) -> list[User]:
        return [u for u, role in self.orgs.members(org_id) if role is Role.LEGAL_REPRESENTATIVE and u.is_active]

    # -- the activity log ----------------------------------------------------------------------

    def record(
        self, tag: EventTag, ctx: RequestContext, caller: Caller, details: dict[str, Any],
    ) -> None:
        """One entry in the client organisation's log; when a partner person acts, a second in
        the partner organisation's, both with the person as actor."""
        partner = caller.delegation.partner_org_id if caller.delegation is not None else None
        self.events.record_event(
            tag, ctx=ctx, user_id=caller.user.id, actor_id=caller.user.id, org_id=caller.org.id,
            product=Product.BILLING, details=details | ({"partner_org_id": partner} if partner else {}),
        )
        if partner is not None:
            self.events.record_event(
                tag, ctx=ctx, user_id=None, actor_id=caller.user.id, org_id=partner, product=Product.BILLING,
                details=details | {"client_org_id": caller.org.id},
            )

    def record_operator(
        self, tag: EventTag, ctx: RequestContext, org_id: int, details: dict[str, Any],
        actor_id: int | None = None,
    ) -> None:
        """An entry for what an operator (or the system, on an operator's act) did."""
        self.events.record_event(tag, ctx=ctx, user_id=None, actor_id=actor_id, org_id=org_id,
                                 product=Product.BILLING, details=details)
