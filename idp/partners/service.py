"""The partners capability's public face: delegated access and the terms a client is managed
under (the hooks other capabilities read), what each side sees, and the services that change
things (`requests`, `lifecycle`). Every read of a delegation goes to SQL: nothing is cached, so
a partnership ended on one host is refused on the next request on every host."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from idp.capability import ClientTerms
from idp.capability import Delegation
from idp.capability import PartnerRight
from idp.errors import NotFoundError
from idp.model import Membership
from idp.model import Organisation
from idp.model import Role
from idp.model import User
from idp.partners.common import Ports
from idp.partners.common import find_org
from idp.partners.common import find_partner
from idp.partners.lifecycle import PartnershipService
from idp.partners.listing import ClientQuery
from idp.partners.listing import ClientRow
from idp.partners.listing import rows_of
from idp.partners.listing import select_rows
from idp.partners.listing import to_csv
from idp.partners.model import PartnerRequest
from idp.partners.model import Partnership
from idp.partners.requests import RequestService
from idp.partners.rules import PartnerAct
from idp.partners.rules import may
from idp.partners.rules import require

_REACH_ALL = frozenset({Role.LEGAL_REPRESENTATIVE, Role.ADMIN})


@dataclass(frozen=True)
class PartnerSide:
    """A partner organisation as one of its members sees it."""

    org: Organisation
    me: Membership

    def may(self, act: PartnerAct) -> bool:
        return may(self.me, act)


@dataclass(frozen=True)
class ClientList:
    side: PartnerSide
    rows: list[ClientRow]
    query: ClientQuery
    collaborators: list[User]  # the partner's collaborators, whom LRs and admins assign


@dataclass(frozen=True)
class Reached:
    """A client as a partner person reaches it: the partnership and the delegation it gives them."""

    side: PartnerSide
    partnership: Partnership
    delegation: Delegation
    collaborators: list[User]


@dataclass(frozen=True)
class ClientSide:
    """A client organisation's partnerships, as one of its members sees them."""

    org: Organisation
    me: Membership
    live: list[Partnership]
    past: list[Partnership]

    def may(self, act: PartnerAct) -> bool:
        return may(self.me, act)


@dataclass(frozen=True)
class OrgSummary:
    """What the organisation page says of partners: is it one, who has access to it now (for
    those who may see it), and how many requests wait for this person."""

    is_partner: bool
    live: list[Partnership]
    pending_for_me: int
    sees_access: bool
    decides: bool
    now: dt.datetime

    @property
    def live_partners(self) -> int:
        return len(self.live)


class PartnerService:
    def __init__(self, ports: Ports, requests: RequestService, lifecycle: PartnershipService) -> None:
        self.ports, self.requests, self.lifecycle = ports, requests, lifecycle

    # -- the hooks (DELEGATED_ACCESS, PARTNERSHIP_TERMS) ------------------------------------------

    def delegation_for(self, user_id: int, client_org_id: int, right: PartnerRight,
                       now: dt.datetime | None = None) -> Delegation | None:
        """The delegation when `user_id` is a member of a partner organisation whose live
        partnership over `client_org_id` allows `right`, and their role reaches that client
        (legal representatives and administrators: every client; collaborators: the ones they
        are assigned to); None otherwise. One SQL query per call, never cached."""
        delegation = self.delegation_of(user_id, client_org_id, now)
        return delegation if delegation is not None and delegation.allows(right) else None

    def delegation_of(self, user_id: int, client_org_id: int, now: dt.datetime | None = None) -> Delegation | None:
        """`delegation_for` whatever the right: the person's delegation over the client with the
        rights it holds now (the acting state is checked with it at every request)."""
        now = now or self.ports.clock.now()
        reach = self.ports.partners.reach(user_id, client_org_id)
        if reach is None or (reach.ends_at <= now and not reach.auto_renew):
            return None
        if Role(reach.role) not in _REACH_ALL and not reach.assigned:
            return None
        return Delegation(partnership_id=reach.partnership_id, partner_org_id=reach.partner_org_id,
                          client_org_id=client_org_id, actor_id=user_id, full=reach.full, rights=reach.rights)

    def terms_for(self, client_org_id: int, now: dt.datetime | None = None) -> ClientTerms | None:
        """The terms of the client's live partnership at `now`, or None."""
        now = now or self.ports.clock.now()
        for p in self.ports.partners.of_client(client_org_id):
            if p.live_at(now):
                return p.terms()
        return None

    # -- the partner's side ---------------------------------------------------------------------

    def partner_side(self, user: User, slug: str) -> PartnerSide:
        """NotFoundError for a non-member; PartnerForbiddenError when the organisation is no partner."""
        org, me = find_partner(self.ports, user, slug)
        return PartnerSide(org, me)

    def _visible(self, side: PartnerSide) -> list[Partnership]:
        assigned_to = None if side.may(PartnerAct.REACH_ALL) else side.me.user_id
        return self.ports.partners.of_partner(side.org.id, assigned_to=assigned_to)

    def collaborators(self, org_id: int) -> list[User]:
        return [u for u, role in self.ports.orgs.members(org_id) if role is Role.COLLABORATOR]

    def clients_of(self, user: User, partner_slug: str, query: ClientQuery | None = None) -> ClientList:
        """The clients the person reaches (every one for legal representatives and administrators,
        the assigned ones for collaborators), with the pending requests for those who see them all,
        searched and sorted."""
        side = self.partner_side(user, partner_slug)
        require(side.me, PartnerAct.SEE_CLIENTS)
        query = query or ClientQuery()
        now = self.ports.clock.now()
        requests = self.ports.partners.pending_of(side.org.id, now) if side.may(PartnerAct.REACH_ALL) else []
        rows = select_rows(rows_of(self._visible(side), requests, now), query)
        collaborators = self.collaborators(side.org.id) if side.may(PartnerAct.ASSIGN) else []
        return ClientList(side, rows, query, collaborators)

    def export_csv(self, user: User, partner_slug: str, query: ClientQuery | None = None) -> bytes:
        """The list as the person sees it, as CSV (listing.to_csv)."""
        return to_csv(self.clients_of(user, partner_slug, query).rows)

    def client_of(self, user: User, partner_slug: str, client_slug: str) -> Reached:
        """The client under its live partnership with this partner, when the person reaches it;
        NotFoundError otherwise (a client of another partner, an ended partnership, a collaborator
        not assigned: the same answer)."""
        side = self.partner_side(user, partner_slug)
        client = self.ports.orgs.by_slug(client_slug.strip().lower()[:64])
        now = self.ports.clock.now()
        if client is None:
            raise NotFoundError("no such client")
        live = [p for p in self.ports.partners.of_client(client.id)
                if p.partner_org_id == side.org.id and p.live_at(now)]
        if not live:
            raise NotFoundError("no such client")
        partnership = live[0]
        if not side.may(PartnerAct.REACH_ALL) and user.id not in partnership.assigned:
            raise NotFoundError("no such client")
        collaborators = self.collaborators(side.org.id) if side.may(PartnerAct.ASSIGN) else []
        return Reached(side, partnership, partnership.delegation(user.id), collaborators)

    def operator_list(self, slug: str) -> list[tuple[Partnership, str, dt.datetime]]:
        """Every partnership of a partner organisation, for `idp partners list`: with its status
        and end as of now."""
        org = self.ports.orgs.by_slug(slug.strip().lower()[:64])
        if org is None:
            raise NotFoundError(f"no organisation {slug!r}")
        now = self.ports.clock.now()
        return [(p, p.status_at(now).value, p.current_end(now) if p.live_at(now) else (p.ended_at or p.ends_at))
                for p in self.ports.partners.of_partner(org.id)]

    # -- the client's side ----------------------------------------------------------------------

    def partnerships_of_client(self, user: User, client_slug: str) -> ClientSide:
        """The partners of the organisation (live, then past), for its legal representatives and
        administrators; PartnerForbiddenError for a collaborator, NotFoundError for a non-member."""
        org, me = find_org(self.ports, user, client_slug)
        require(me, PartnerAct.SEE_ACCESS)
        now = self.ports.clock.now()
        every = self.ports.partners.of_client(org.id)
        return ClientSide(org, me, [p for p in every if p.live_at(now)], [p for p in every if not p.live_at(now)])

    def requests_for(self, user: User) -> list[PartnerRequest]:
        """The pending requests sent to the person's login address."""
        return self.ports.partners.pending_to(user.email, self.ports.clock.now())

    def summary(self, user: User, org: Organisation, me: Membership) -> OrgSummary:
        """For the organisation page: whether it is a partner, how many partners manage it now,
        and how many requests wait for this person."""
        now = self.ports.clock.now()
        sees = may(me, PartnerAct.SEE_ACCESS)
        live = [p for p in self.ports.partners.of_client(org.id) if p.live_at(now)] if sees else []
        pending = len(self.requests_for(user))
        return OrgSummary(self.ports.partners.is_partner(org.id), live, pending, sees, may(me, PartnerAct.DECIDE), now)
