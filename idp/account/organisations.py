"""Organisations as their members see them: create one, see who is in it, change roles, remove,
leave, hand over the legal representation, require a second factor, delete it. Every method asks
the permission table (idp.account.org_rules) first."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from typing import Protocol

from idp.account.org_rules import OrgAct
from idp.account.org_rules import Target
from idp.account.org_rules import may
from idp.account.org_rules import require
from idp.account.service import SLUG
from idp.auth.factors import FactorEnrolment
from idp.clock import Clock
from idp.errors import N_
from idp.errors import ConflictError
from idp.errors import NotFoundError
from idp.errors import ValidationError
from idp.events import EventRecorder
from idp.events import EventTag
from idp.events import Product
from idp.model import Membership
from idp.model import Organisation
from idp.model import RequestContext
from idp.model import Role
from idp.model import User

LR = Role.LEGAL_REPRESENTATIVE
MAX_SLUG = 64
# Addresses under /orgs/ that are not an organisation's.
RESERVED = frozenset({"invitations", "new"})
NOT_A_MEMBER = N_("This person is not a member of the organisation.")
CHANGED_MEANWHILE = N_("Someone changed this member's role meanwhile; look again and retry.")


class OrganisationStore(Protocol):
    def create_with(self, *, slug: str, name: str, user_id: int, role: Role, now: dt.datetime) -> Organisation: ...
    def by_slug(self, slug: str) -> Organisation | None: ...
    def delete(self, org_id: int) -> bool: ...
    def set_require_factor(self, org_id: int, required: bool) -> None: ...
    def requires_factor(self, user_id: int) -> bool: ...
    def membership(self, user_id: int, org_id: int) -> Membership | None: ...
    def memberships_of(self, user_id: int) -> list[Membership]: ...
    def members(self, org_id: int) -> list[tuple[User, Role]]: ...
    def count_role(self, org_id: int, role: Role) -> int: ...
    def add(self, *, user_id: int, org_id: int, role: Role, now: dt.datetime) -> bool: ...
    def set_role(self, user_id: int, org_id: int, role: Role, *, was: Role) -> bool: ...
    def remove(self, user_id: int, org_id: int) -> bool: ...
    def hand_over(self, org_id: int, *, giver: int, receiver: int, receiver_was: Role) -> bool: ...


class HasFactors(Protocol):
    """The factor registry (idp.auth.factors.FactorRegistry): what an account has enrolled."""

    def for_user(self, user: User) -> Sequence[object]: ...


@dataclass(frozen=True)
class Member:
    """A row of the organisation's page, with what the viewer may do to it: the permission
    table's `may` decides these, the same call the service makes when the form comes back."""

    user: User
    role: Role
    has_factor: bool | None  # None: the viewer may not see it
    # The roles the viewer may give this member, its current one among them; empty when none other.
    roles: tuple[Role, ...] = ()
    removable: bool = False
    hand_over: bool = False


@dataclass(frozen=True)
class OrgView:
    """An organisation as one of its members may see it."""

    org: Organisation
    me: Membership
    members: list[Member]
    legal_representatives: int
    # The roles the viewer may invite someone with (the same `may` as the invitation service's).
    invite_roles: tuple[Role, ...] = ()

    def may(self, act: OrgAct) -> bool:
        return may(self.me, act)


def parse_role(raw: str) -> Role:
    try:
        return Role(raw.strip())
    except ValueError as exc:
        raise ValidationError(N_("Choose a role from the list."), field="role") from exc


def _row(me: Membership, target: Membership, count: int, user: User, has_factor: bool | None) -> Member:
    """What `me` may do to `target`'s row, asked of `may` exactly as the service asks it."""
    others = [r for r in Role if r is not target.role and may(me, OrgAct.CHANGE_ROLE, Target(target, r, count))]
    return Member(
        user, target.role, has_factor,
        roles=tuple(r for r in Role if r is target.role or r in others) if others else (),
        removable=may(me, OrgAct.REMOVE, Target(target, None, count)),
        hand_over=may(me, OrgAct.HAND_OVER, Target(target, LR, count)),
    )


class OrganisationService:
    def __init__(
        self, *, orgs: OrganisationStore, factors: HasFactors, events: EventRecorder, clock: Clock,
        enrolment: Callable[[], FactorEnrolment | None] = lambda: None,
    ) -> None:
        self.orgs, self.factors, self.events, self.clock = orgs, factors, events, clock
        # Where a second factor is enrolled; None when no capability offers one.
        self.enrolment = enrolment
        # Called before an organisation is deleted, while its rows are there (a capability's
        # partnerships end and the other side is told); filled when capabilities are installed.
        self.before_delete: list[Callable[[Organisation, User, RequestContext], None]] = []

    def factor_enrolment(self) -> bool:
        return self.enrolment() is not None

    # -- finding ------------------------------------------------------------------------------

    def mine(self, user: User) -> list[Membership]:
        return self.orgs.memberships_of(user.id)

    def _find(self, user: User, slug: str) -> tuple[Organisation, Membership]:
        """The organisation and the person's membership; NotFoundError for a non-member, the
        same answer as for an organisation that does not exist."""
        org = self.orgs.by_slug(slug.strip().lower()[:MAX_SLUG])
        membership = self.orgs.membership(user.id, org.id) if org is not None else None
        if org is None or membership is None:
            raise NotFoundError("no such organisation")
        return org, membership

    def allowed(self, user: User, slug: str, act: OrgAct) -> Organisation:
        """The organisation, when `user` is a member whose role has `act` (the security center's
        and single sign-on's pages ask this); NotFoundError for a non-member, OrgForbiddenError
        for a member without the act."""
        org, me = self._find(user, slug)
        require(me, act)
        return org

    def orgs_where(self, user: User, act: OrgAct) -> list[Membership]:
        """The person's memberships whose role has `act`."""
        return [m for m in self.orgs.memberships_of(user.id) if may(m, act)]

    def view(self, user: User, slug: str) -> OrgView:
        org, me = self._find(user, slug)
        require(me, OrgAct.SEE_MEMBERS)
        factors = may(me, OrgAct.SEE_FACTORS)
        people = self.orgs.members(org.id)
        count = sum(1 for _u, r in people if r is LR)
        members = [
            _row(me, Membership(u.id, org.id, r), count, u, bool(self.factors.for_user(u)) if factors else None)
            for u, r in people
        ]
        invite = tuple(r for r in Role if may(me, OrgAct.INVITE, Target(None, r, count)))
        return OrgView(org, me, members, count, invite)

    def _member(self, org: Organisation, member_id: int) -> Membership:
        found = self.orgs.membership(member_id, org.id)
        if found is None:
            raise NotFoundError(NOT_A_MEMBER)
        return found

    # -- changes ------------------------------------------------------------------------------

    def create(self, user: User, slug: str, name: str, ctx: RequestContext) -> Organisation:
        """A new organisation whose legal representative is its creator (`account:organisation:created`)."""
        slug = slug.strip().lower()
        if not SLUG.match(slug) or slug in RESERVED:
            raise ValidationError(
                N_("The short name takes 2 to 63 lower-case letters, digits and dashes."), field="slug"
            )
        name = " ".join(name.split())
        if not name:
            raise ValidationError(N_("Enter the organisation's name."), field="name")
        if len(name) > 200:
            raise ValidationError(N_("The name is too long (200 characters at most)."), field="name")
        try:
            org = self.orgs.create_with(slug=slug, name=name, user_id=user.id, role=LR, now=self.clock.now())
        except ConflictError as exc:
            raise ValidationError(N_("This short name is taken; choose another."), field="slug") from exc
        self.events.record_event(
            EventTag.ORG_CREATED, ctx=ctx, user_id=user.id, actor_id=user.id, org_id=org.id,
            product=Product.ACCOUNT, details={"slug": slug},
        )
        return org

    def change_role(self, actor: User, slug: str, member_id: int, new_role: Role, ctx: RequestContext) -> Membership:
        org, me = self._find(actor, slug)
        target = self._member(org, member_id)
        require(me, OrgAct.CHANGE_ROLE, self._target(org, target, new_role))
        if target.role is new_role:
            return target
        if not self.orgs.set_role(member_id, org.id, new_role, was=target.role):
            raise ValidationError(CHANGED_MEANWHILE)
        self._record(EventTag.ORG_ROLE_CHANGED, ctx, org, actor, member_id,
                     {"from": target.role.value, "to": new_role.value})
        return Membership(member_id, org.id, new_role)

    def remove(self, actor: User, slug: str, member_id: int, ctx: RequestContext) -> None:
        """Remove a member (their account stays); `account:organisation:member_removed`."""
        org, me = self._find(actor, slug)
        self.remove_by(org, me, actor, member_id, ctx)

    def remove_by(self, org: Organisation, me: Membership, actor: User, member_id: int, ctx: RequestContext, *,
                  on_behalf: dict[str, Any] | None = None) -> bool:
        """`remove` with the permission table asked of `me`, the standing the caller found (a
        member's own, or the one a partner acting for the organisation has, idp.partners);
        `on_behalf` joins the event's details. False when the member had left meanwhile."""
        target = self._member(org, member_id)
        require(me, OrgAct.REMOVE, self._target(org, target))
        if not self.orgs.remove(member_id, org.id):
            return False
        self._record(EventTag.ORG_MEMBER_REMOVED, ctx, org, actor, member_id,
                     {"role": target.role.value, **(on_behalf or {})})
        return True

    def leave(self, user: User, slug: str, ctx: RequestContext) -> None:
        """Leave the organisation; refused to its last legal representative (hand over first)."""
        org, me = self._find(user, slug)
        require(me, OrgAct.LEAVE, Target(legal_representatives=self.orgs.count_role(org.id, LR)))
        if self.orgs.remove(user.id, org.id):
            self._record(EventTag.ORG_MEMBER_LEFT, ctx, org, user, user.id, {"role": me.role.value})

    def hand_over(self, actor: User, slug: str, member_id: int, ctx: RequestContext) -> None:
        """Make another member legal representative; the giver becomes an administrator."""
        org, me = self._find(actor, slug)
        target = self._member(org, member_id)
        require(me, OrgAct.HAND_OVER, self._target(org, target, LR))
        try:
            done = self.orgs.hand_over(org.id, giver=actor.id, receiver=member_id, receiver_was=target.role)
        except ConflictError:
            done = False
        if not done:
            raise ValidationError(CHANGED_MEANWHILE)
        self._record(EventTag.ORG_HANDED_OVER, ctx, org, actor, member_id, {"from_role": target.role.value})

    def set_require_factor(self, actor: User, slug: str, required: bool, ctx: RequestContext) -> Organisation:
        """Require (or stop requiring) a second factor of every member; refused when no second
        factor can be enrolled on this server."""
        org, me = self._find(actor, slug)
        require(me, OrgAct.REQUIRE_FACTOR)
        if required and not self.factor_enrolment():
            raise ValidationError(N_("This server offers no second factor to enrol."))
        if org.require_factor != required:
            self.orgs.set_require_factor(org.id, required)
            self._record(EventTag.ORG_FACTOR_REQUIRED, ctx, org, actor, None, {"required": required})
        return self.orgs.by_slug(org.slug) or org

    def delete(self, actor: User, slug: str, confirmed: bool, ctx: RequestContext) -> Organisation:
        """Delete the organisation: its memberships, pending invitations and single sign-on
        connections (with the directory links of its members) go with it; the members' accounts
        stay, and so does the activity log. The page asks for a recent sign-in and a ticked box."""
        org, me = self._find(actor, slug)
        require(me, OrgAct.DELETE_ORG)
        if not confirmed:
            raise ValidationError(N_("Tick the box to confirm."), field="confirm")
        members = len(self.orgs.members(org.id))
        for hook in self.before_delete:
            hook(org, actor, ctx)
        if self.orgs.delete(org.id):
            self._record(EventTag.ORG_DELETED, ctx, org, actor, None, {"slug": org.slug, "members": members})
        return org

    # -- the second-factor requirement ---------------------------------------------------------

    def needs_factor(self, user: User) -> bool:
        """True when one of the account's organisations requires a second factor and it has none
        (the sign-in then sends it to enrol). One query for most accounts (no such organisation)."""
        if not self.orgs.requires_factor(user.id) or not self.factor_enrolment():
            return False
        return not self.factors.for_user(user)

    # -- helpers ------------------------------------------------------------------------------

    def _target(self, org: Organisation, target: Membership, new_role: Role | None = None) -> Target:
        return Target(target, new_role, self.orgs.count_role(org.id, LR))

    def _record(
        self, tag: EventTag, ctx: RequestContext, org: Organisation, actor: User, member_id: int | None,
        details: dict[str, object],
    ) -> None:
        self.events.record_event(
            tag, ctx=ctx, user_id=member_id, actor_id=actor.id, org_id=org.id, product=Product.ACCOUNT,
            details=details,
        )
