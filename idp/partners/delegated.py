"""The client organisation as the partner person acting for it reaches it, with exactly the rights
granted: under `users`, the members list and the pending invitations, inviting a member with a
role below legal representative, withdrawing an invitation, removing a collaborator or an
administrator. Nothing of a member's own security settings, nor of the organisation's (single
sign-on, locks, second-factor requirement, hand-over, deletion, its partnerships), is reachable
this way: those stay with the organisation's own members.

For the permission table a partner acting with `users` stands as an administrator of the client
(`STANDING`), and only for the acts above. Each change is recorded in both organisations' logs:
the client's entry by the account services, with the details' `on_behalf_of`; the partner's copy
here, in the same transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from typing import Protocol

from idp.account.org_rules import OrgAct
from idp.account.org_rules import Target
from idp.account.org_rules import may
from idp.account.org_rules import require
from idp.capability import PartnerRight
from idp.errors import N_
from idp.errors import NotFoundError
from idp.errors import ValidationError
from idp.events import EventTag
from idp.model import Invitation
from idp.model import Membership
from idp.model import Organisation
from idp.model import RequestContext
from idp.model import Role
from idp.model import User
from idp.partners.acting import ActingService
from idp.partners.acting import Current
from idp.partners.acting import on_behalf
from idp.partners.common import MAX_SLUG
from idp.partners.common import Ports
from idp.partners.model import RIGHT_NAMES
from idp.partners.rules import PartnerForbiddenError

# The role whose permissions a partner acting with `users` has over the client's members.
STANDING = Role.ADMIN
NOT_GRANTED = N_("Your partnership with %(client)s does not include this: %(right)s.")
NO_LR = N_("A partner invites members with a role below legal representative.")
KEEP_LR = N_("A partner removes collaborators and administrators, never a legal representative.")


class Invitations(Protocol):
    """idp.account.invitations.InvitationService, as the delegated pages use it."""

    def send(self, org: Organisation, actor: User, email: str, role: Role, ctx: RequestContext, *,
             on_behalf: dict[str, Any] | None = None) -> Invitation: ...
    def pending_of(self, org: Organisation) -> list[Invitation]: ...
    def withdraw(self, org: Organisation, actor: User, invitation_id: int, ctx: RequestContext, *,
                 on_behalf: dict[str, Any] | None = None) -> Invitation: ...


class Members(Protocol):
    """idp.account.organisations.OrganisationService, as the delegated pages use it."""

    def remove_by(self, org: Organisation, me: Membership, actor: User, member_id: int, ctx: RequestContext, *,
                  on_behalf: dict[str, Any] | None = None) -> bool: ...


class DelegatedForbiddenError(PartnerForbiddenError):
    """The session acts for the organisation, but the partnership does not grant the right (403)."""

    def __init__(self, client: str, right: PartnerRight) -> None:
        super().__init__(NOT_GRANTED % {"client": client, "right": RIGHT_NAMES[right]})
        self.template, self.client, self.right = NOT_GRANTED, client, right
        # For translate_error; the pages translate the right's name too (delegation.refused).
        self.params = {"client": client, "right": RIGHT_NAMES[right]}


@dataclass(frozen=True)
class DelegatedMembers:
    """The client's members and pending invitations, as the partner person acting for it sees them."""

    org: Organisation
    current: Current
    members: list[tuple[User, Role]]
    pending: list[Invitation]
    legal_representatives: int

    @property
    def standing(self) -> Membership:
        return Membership(self.current.delegation.actor_id, self.org.id, STANDING)

    def may_remove(self, user: User, role: Role) -> bool:
        target = Target(Membership(user.id, self.org.id, role), None, self.legal_representatives)
        return may(self.standing, OrgAct.REMOVE, target)


class DelegatedOrgService:
    def __init__(self, ports: Ports, acting: ActingService, members: Members, invitations: Invitations) -> None:
        self.ports, self.acting, self.members_service, self.invitations = ports, acting, members, invitations

    def reach(self, current: Current | None, slug: str, right: PartnerRight | None = None) -> Organisation:
        """The client organisation of `slug`, when this request acts for it (and its partnership
        grants `right`); NotFoundError when it does not act for it (the answer for any
        organisation one is not a member of), DelegatedForbiddenError without the right."""
        if current is None or current.acting.client_slug != slug.strip().lower()[:MAX_SLUG]:
            raise NotFoundError("no such organisation")
        org = self.ports.orgs.get(current.acting.client_org_id)
        if org is None:
            raise NotFoundError("no such organisation")
        if right is not None and not current.allows(right):
            raise DelegatedForbiddenError(org.name, right)
        return org

    def members(self, current: Current | None, slug: str) -> DelegatedMembers:
        org = self.reach(current, slug, PartnerRight.USERS)
        assert current is not None  # noqa: S101 - reach() refuses None
        people = self.ports.orgs.members(org.id)
        lrs = sum(1 for _user, role in people if role is Role.LEGAL_REPRESENTATIVE)
        return DelegatedMembers(org, current, people, self.invitations.pending_of(org), lrs)

    def invite(self, user: User, current: Current | None, slug: str, email: str, role: Role,
               ctx: RequestContext) -> Invitation:
        """Invite to the client a member with a role below legal representative."""
        org = self.reach(current, slug, PartnerRight.USERS)
        assert current is not None  # noqa: S101 - reach() refuses None
        if role is Role.LEGAL_REPRESENTATIVE:
            raise ValidationError(NO_LR, field="role")
        require(Membership(user.id, org.id, STANDING), OrgAct.INVITE, Target(new_role=role))
        behalf = {"on_behalf_of": on_behalf(current.acting)}
        with self.ports.unit():
            invitation = self.invitations.send(org, user, email, role, ctx, on_behalf=behalf)
            self.acting.copy_to_partner(EventTag.ORG_MEMBER_INVITED, ctx, user.id, current.acting,
                                        {"role": role.value, "invitation": invitation.id})
        return invitation

    def withdraw(self, user: User, current: Current | None, slug: str, invitation_id: int,
                 ctx: RequestContext) -> Invitation:
        """Withdraw a pending invitation of the client (NotFoundError for another's)."""
        org = self.reach(current, slug, PartnerRight.USERS)
        assert current is not None  # noqa: S101 - reach() refuses None
        with self.ports.unit():
            invitation = self.invitations.withdraw(org, user, invitation_id, ctx,
                                                   on_behalf={"on_behalf_of": on_behalf(current.acting)})
            self.acting.copy_to_partner(EventTag.ORG_INVITATION_REVOKED, ctx, user.id, current.acting,
                                        {"invitation": invitation.id})
        return invitation

    def remove(self, user: User, current: Current | None, slug: str, member_id: int,
               ctx: RequestContext) -> User:
        """Remove a collaborator or an administrator of the client (their account stays); a
        legal representative is refused (OrgForbiddenError), someone not a member is not found."""
        org = self.reach(current, slug, PartnerRight.USERS)
        assert current is not None  # noqa: S101 - reach() refuses None
        member = self.ports.users.get(member_id)
        membership = self.ports.orgs.membership(member_id, org.id) if member is not None else None
        if member is None or membership is None:
            raise NotFoundError("no such member")
        if membership.role is Role.LEGAL_REPRESENTATIVE:
            raise PartnerForbiddenError(KEEP_LR)
        with self.ports.unit():
            removed = self.members_service.remove_by(
                org, Membership(user.id, org.id, STANDING), user, member_id, ctx,
                on_behalf={"on_behalf_of": on_behalf(current.acting)},
            )
            if removed:
                self.acting.copy_to_partner(EventTag.ORG_MEMBER_REMOVED, ctx, user.id, current.acting,
                                            {"member": member_id, "member_name": member.display_name})
        return member


@dataclass(frozen=True)
class DelegatedSide:
    """The services of acting for a client (the `DELEGATED` slot)."""

    acting: ActingService
    org: DelegatedOrgService
