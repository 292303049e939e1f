"""Who may do what in a partnership, on both sides: the permission table (role -> acts) and `may`.

The partner side acts on its clients; the client side on the partnerships over it. The table is
data: docs/partners.md shows it, and a test checks that the document and this module agree.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

from idp.errors import N_
from idp.errors import IdpError
from idp.model import Membership
from idp.model import Role


class PartnerAct(enum.StrEnum):
    # the partner organisation's members
    SEE_CLIENTS = "see_clients"  # the client list (a collaborator sees only the clients assigned)
    ADD_CLIENT = "add_client"  # send a request to a client, withdraw a pending one
    ASSIGN = "assign"  # assign collaborators to a client, or unassign them
    REACH_ALL = "reach_all"  # act for every client (a collaborator: the assigned ones only)
    # the client organisation's members
    SEE_ACCESS = "see_access"  # who has access: the partners, their rights, until when
    DECIDE = "decide"  # accept or decline a request, change the rights, end a partnership


class Side(enum.StrEnum):
    PARTNER = "partner"
    CLIENT = "client"


LR, ADMIN, COLLABORATOR = Role.LEGAL_REPRESENTATIVE, Role.ADMIN, Role.COLLABORATOR

SIDES: Mapping[PartnerAct, Side] = {
    PartnerAct.SEE_CLIENTS: Side.PARTNER,
    PartnerAct.ADD_CLIENT: Side.PARTNER,
    PartnerAct.ASSIGN: Side.PARTNER,
    PartnerAct.REACH_ALL: Side.PARTNER,
    PartnerAct.SEE_ACCESS: Side.CLIENT,
    PartnerAct.DECIDE: Side.CLIENT,
}

# act -> the roles that have it.
TABLE: Mapping[PartnerAct, frozenset[Role]] = {
    PartnerAct.SEE_CLIENTS: frozenset({LR, ADMIN, COLLABORATOR}),
    PartnerAct.ADD_CLIENT: frozenset({LR}),
    PartnerAct.ASSIGN: frozenset({LR, ADMIN}),
    PartnerAct.REACH_ALL: frozenset({LR, ADMIN}),
    PartnerAct.SEE_ACCESS: frozenset({LR, ADMIN}),
    PartnerAct.DECIDE: frozenset({LR}),
}


class PartnerForbiddenError(IdpError):
    """The permission table refuses this act to this member, or the organisation is not a
    partner (a 403 page)."""

    status = 403


NOT_ALLOWED = N_("Your role in this organisation does not allow this.")
NOT_A_PARTNER = N_("This organisation is not a partner: an operator makes it one.")


def may(actor: Membership | None, act: PartnerAct) -> bool:
    """Whether `actor` (their membership of the organisation on the act's side, None for a
    non-member) may do `act`. Pure: the service passes what it read."""
    return actor is not None and actor.role in TABLE[act]


def require(actor: Membership | None, act: PartnerAct) -> Membership:
    if not may(actor, act):
        raise PartnerForbiddenError(NOT_ALLOWED)
    assert actor is not None  # noqa: S101 - may() refuses a non-member
    return actor
