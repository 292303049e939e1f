"""Security center rules: the person's lockout threshold, and organisation admins' view of members."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from idp.account.org_rules import OrgAct
from idp.account.org_rules import may
from idp.clock import Clock
from idp.errors import N_
from idp.errors import NotFoundError
from idp.errors import ValidationError
from idp.events import EventRecorder
from idp.events import EventTag
from idp.foundation.lockout import LockoutService
from idp.model import Membership
from idp.model import Organisation
from idp.model import RequestContext
from idp.model import Role
from idp.model import User

MIN_THRESHOLD = 3
MAX_THRESHOLD = 100
MAX_SLUG = 64


class ThresholdStore(Protocol):
    def set_lockout_threshold(self, user_id: int, threshold: int, now: dt.datetime) -> User: ...


class OrgLookup(Protocol):
    """The organisation store (idp.stores.orgs.SqlOrganisationStore), as these pages read it."""

    def by_slug(self, slug: str) -> Organisation | None: ...
    def membership(self, user_id: int, org_id: int) -> Membership | None: ...
    def members(self, org_id: int) -> list[tuple[User, Role]]: ...


class SecurityCenterService:
    def __init__(
        self, *, users: ThresholdStore, orgs: OrgLookup, lockout: LockoutService, events: EventRecorder,
        clock: Clock,
    ) -> None:
        self.users, self.orgs = users, orgs
        self.lockout, self.events, self.clock = lockout, events, clock

    def set_threshold(self, user: User, threshold: int | None, ctx: RequestContext) -> User:
        """The number of failed attempts that locks this account, 3 to 100 (NIST 800-63B caps
        throttling at 100 consecutive failures)."""
        if threshold is None or not MIN_THRESHOLD <= threshold <= MAX_THRESHOLD:
            raise ValidationError(
                N_("Choose a number from %(low)s to %(high)s."), field="threshold",
                low=MIN_THRESHOLD, high=MAX_THRESHOLD,
            )
        updated = self.users.set_lockout_threshold(user.id, threshold, self.clock.now())
        self.events.record_event(
            EventTag.LOCKOUT_THRESHOLD_CHANGED, ctx=ctx, user_id=user.id,
            details={"from": user.lockout_threshold, "to": threshold},
        )
        return updated

    def org_for_admin(self, user: User, slug: str, act: OrgAct) -> Organisation:
        """The organisation, if the permission table gives `user`'s role `act` there;
        NotFoundError otherwise, so that a non-admin cannot tell an existing organisation from a
        missing one."""
        org = self.orgs.by_slug(slug.strip().lower()[:MAX_SLUG])
        membership = self.orgs.membership(user.id, org.id) if org is not None else None
        if org is None or not may(membership, act):
            raise NotFoundError("no such organisation")
        return org

    def members(self, org: Organisation) -> list[tuple[User, Role]]:
        return self.orgs.members(org.id)

    def unlock_member(self, actor: User, org: Organisation, member_id: int, ctx: RequestContext) -> User:
        """Unlock a member of `org` on behalf of `actor` (the permission table's `unlock`, asked
        again here); recorded with the actor's id. A person outside the organisation is not found."""
        self.org_for_admin(actor, org.slug, OrgAct.UNLOCK)
        for member, _role in self.orgs.members(org.id):
            if member.id == member_id:
                self.lockout.unlock(member, ctx, actor_id=actor.id, how="admin")
                return member
        raise NotFoundError("no such member")
