"""Who may do what in an organisation: the permission table (role -> acts) and `may`, its one reader.

The table is data: docs/account.md shows it, and a test checks that the document and this module
agree. `OrganisationService` asks `may` before every change, and the security center (members'
locks, activity) and single sign-on (connections) ask it before their pages, so one table
decides everywhere.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

from idp.errors import N_
from idp.errors import IdpError
from idp.model import Membership
from idp.model import Role


class OrgAct(enum.StrEnum):
    SEE_MEMBERS = "see_members"
    INVITE = "invite"
    CHANGE_ROLE = "change_role"
    REMOVE = "remove"
    UNLOCK = "unlock"
    MANAGE_SSO = "manage_sso"
    SEE_ACTIVITY = "see_activity"
    SEE_FACTORS = "see_factors"
    MANAGE_PRODUCTS = "manage_products"  # the organisation's products: domains, hostings
    REQUIRE_FACTOR = "require_factor"
    HAND_OVER = "hand_over"
    DELETE_ORG = "delete_org"
    LEAVE = "leave"
    BILLING = "billing"  # the prepaid balance, its ledger, orders (idp.money)
    REQUEST_PAYOUT = "request_payout"  # pay the balance out to a bank or PayPal account


LR, ADMIN, COLLABORATOR = Role.LEGAL_REPRESENTATIVE, Role.ADMIN, Role.COLLABORATOR
_EVERYONE = frozenset({LR, ADMIN, COLLABORATOR})
_MANAGERS = frozenset({LR, ADMIN})
_LR = frozenset({LR})

# act -> the roles that have it. Rules about the target (below, in `may`) narrow it further.
TABLE: Mapping[OrgAct, frozenset[Role]] = {
    OrgAct.SEE_MEMBERS: _EVERYONE,
    OrgAct.INVITE: _MANAGERS,
    OrgAct.CHANGE_ROLE: _MANAGERS,
    OrgAct.REMOVE: _MANAGERS,
    OrgAct.UNLOCK: _MANAGERS,
    OrgAct.MANAGE_SSO: _MANAGERS,
    OrgAct.SEE_ACTIVITY: _MANAGERS,
    OrgAct.SEE_FACTORS: _MANAGERS,
    OrgAct.MANAGE_PRODUCTS: _MANAGERS,
    OrgAct.REQUIRE_FACTOR: _LR,
    OrgAct.HAND_OVER: _LR,
    OrgAct.DELETE_ORG: _LR,
    OrgAct.LEAVE: _EVERYONE,
    OrgAct.BILLING: _MANAGERS,
    OrgAct.REQUEST_PAYOUT: _LR,
}

# The rules on the target, as docs/account.md states them (the test reads this list too).
TARGET_RULES = (
    "Only a legal representative gives the legal-representative role (invitation or role change) "
    "or acts on another legal representative (change role, remove).",
    "Change role, remove and hand over act on another member, never on oneself: one leaves instead.",
    "The last legal representative can neither leave nor be removed nor demoted: they hand over "
    "first (or delete the organisation).",
    "Hand over goes to a member of the organisation who is not a legal representative yet; the giver "
    "becomes an administrator.",
)

ROLE_NAMES = {LR: N_("Legal representative"), ADMIN: N_("Administrator"), COLLABORATOR: N_("Collaborator")}
# A role inside a sentence: lower case, with its article, and French elides "que" before a vowel
# ("en tant qu'administrateur"), so each role has its whole sentence and each language its grammar.
INVITED_AS = {
    LR: N_("%(inviter)s invites you to join %(org)s as a legal representative."),
    ADMIN: N_("%(inviter)s invites you to join %(org)s as an administrator."),
    COLLABORATOR: N_("%(inviter)s invites you to join %(org)s as a collaborator."),
}
INVITATION_FOR = {
    LR: N_("This invitation is for %(email)s, as a legal representative."),
    ADMIN: N_("This invitation is for %(email)s, as an administrator."),
    COLLABORATOR: N_("This invitation is for %(email)s, as a collaborator."),
}


class OrgForbiddenError(IdpError):
    """The permission table refuses this act to this member (a 403 page)."""

    status = 403


@dataclass(frozen=True)
class Target:
    """Who an act is aimed at, with what the rules need to know about the organisation."""

    membership: Membership | None = None
    new_role: Role | None = None  # change_role, invite
    legal_representatives: int = 1  # how many the organisation has now


def may(actor: Membership | None, act: OrgAct, target: Target | None = None) -> bool:
    """Whether `actor` (their membership of the organisation, None for a non-member) may do
    `act`, aimed at `target` when the act has one (leave's target is the organisation: only its
    count of legal representatives). Pure: the service passes what it read."""
    if actor is None or actor.role not in TABLE[act]:
        return False
    if target is None:  # "does the role have the act at all?" (which forms a page shows)
        return True
    aimed = target.membership
    if target.new_role is Role.LEGAL_REPRESENTATIVE and actor.role is not LR:
        return False
    if act is OrgAct.LEAVE:
        return not (actor.role is LR and target.legal_representatives <= 1)
    if aimed is None:
        return act is OrgAct.INVITE
    if aimed.org_id != actor.org_id or aimed.user_id == actor.user_id:
        return False
    if act is OrgAct.HAND_OVER and aimed.role is LR:
        return False
    if act in (OrgAct.CHANGE_ROLE, OrgAct.REMOVE) and aimed.role is LR:
        if actor.role is not LR:
            return False
        demoted = act is OrgAct.REMOVE or target.new_role is not LR
        if demoted and target.legal_representatives <= 1:
            return False
    return True


def require(actor: Membership | None, act: OrgAct, target: Target | None = None) -> Membership:
    """`actor`, when `may` allows the act; OrgForbiddenError otherwise."""
    if not may(actor, act, target):
        raise OrgForbiddenError(N_("Your role in this organisation does not allow this."))
    assert actor is not None  # noqa: S101 - may() refuses a non-member
    return actor
