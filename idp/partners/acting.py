"""A partner person acting for a client organisation in their browser session: beginning (for a
client they reach), the check at every request (the delegation read again from SQL: when it is
gone the acting state is dropped at that very request, on every host), stopping, and the record
of what is done that way in both organisations' activity logs."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from idp.capability import Delegation
from idp.capability import PartnerRight
from idp.errors import NotFoundError
from idp.events import EventTag
from idp.events import Product
from idp.foundation.sessions import Acting
from idp.foundation.sessions import BrowserSession
from idp.foundation.sessions import SessionService
from idp.model import RequestContext
from idp.model import User
from idp.partners.common import Ports
from idp.partners.service import PartnerService
from idp.partners.service import Reached

# Why an acting state ended, as the events say it.
STOPPED, SWITCHED, GONE = "stopped", "switched", "no_longer_allowed"


def rights_of(delegation: Delegation) -> tuple[str, ...]:
    """The rights a delegation holds now, in the list's order (every one under full access)."""
    return tuple(r.value for r in PartnerRight if delegation.allows(r))


def on_behalf(acting: Acting) -> dict[str, Any]:
    """What an event done while acting says of it (the details' `on_behalf_of`): the partner on
    whose behalf, the partnership, the client acted for."""
    return {"partner": acting.partner_slug, "partner_name": acting.partner_name, "partnership": acting.partnership_id,
            "client": acting.client_slug, "client_name": acting.client_name}


@dataclass(frozen=True)
class Current:
    """What a request acts under: the session's acting state, and the delegation read for it at
    this request."""

    acting: Acting
    delegation: Delegation

    def allows(self, right: PartnerRight) -> bool:
        return self.delegation.allows(right)


@dataclass(frozen=True)
class Dropped:
    """The session acted for `acting` until this request, which found the delegation gone."""

    acting: Acting


class ActingService:
    def __init__(self, ports: Ports, sessions: SessionService, partners: PartnerService) -> None:
        self.ports, self.sessions, self.partners = ports, sessions, partners

    def offer(self, user: User, partner_slug: str, client_slug: str) -> Reached:
        """The client as the person reaches it, for the page that offers to act for it;
        NotFoundError when they do not (`PartnerService.client_of`)."""
        return self.partners.client_of(user, partner_slug, client_slug)

    def start(self, user: User, session: BrowserSession, partner_slug: str, client_slug: str,
              ctx: RequestContext) -> Acting:
        """Act for the client in this browser session (`partners:acting:started`, in both logs);
        an acting state for another client ends first. NotFoundError when the person does not
        reach the client: another partner's, an ended partnership, a collaborator not assigned."""
        reached = self.offer(user, partner_slug, client_slug)
        p = reached.partnership
        delegation = self.partners.delegation_of(user.id, p.client_org_id)
        if delegation is None or delegation.partnership_id != p.id:
            raise NotFoundError("no such client")
        if session.acting is not None:
            if session.acting.partnership_id == p.id:
                return session.acting
            self._end(user, session, session.acting, ctx, SWITCHED)
        acting = Acting(
            partnership_id=p.id, partner_org_id=p.partner_org_id, partner_slug=p.partner_slug,
            partner_name=p.partner_name, client_org_id=p.client_org_id, client_slug=p.client_slug,
            client_name=p.client_name, rights=rights_of(delegation), since=int(self.ports.clock.now().timestamp()),
        )
        if self.sessions.act_for(session, acting) is None:
            raise NotFoundError("the session ended")
        self.record(EventTag.PARTNER_ACTING_STARTED, ctx, user.id, acting, {"rights": list(acting.rights)})
        return acting

    def stop(self, user: User, session: BrowserSession, ctx: RequestContext) -> Acting | None:
        """Stop acting (`partners:acting:stopped`, in both logs); the acting state it ended, or
        None when the session acted for no one."""
        if session.acting is None:
            return None
        self._end(user, session, session.acting, ctx, STOPPED)
        return session.acting

    def _end(self, user: User, session: BrowserSession, acting: Acting, ctx: RequestContext, reason: str) -> None:
        self.sessions.act_for(session, None)
        self.record(EventTag.PARTNER_ACTING_STOPPED, ctx, user.id, acting, {"reason": reason})

    def check(self, user: User, session: BrowserSession, ctx: RequestContext) -> Current | Dropped | None:
        """At every request of a session that acts for a client: the delegation read from SQL
        (one query, never cached). Gone (the partnership ended, expired, was replaced, or the
        person's role no longer reaches the client): the acting state is dropped now and the
        caller says so. Rights changed: the session's record follows (applications are told the
        rights in effect)."""
        acting = session.acting
        if acting is None:
            return None
        delegation = self.partners.delegation_of(user.id, acting.client_org_id)
        if delegation is None or delegation.partnership_id != acting.partnership_id:
            self._end(user, session, acting, ctx, GONE)
            return Dropped(acting)
        rights = rights_of(delegation)
        if rights != acting.rights:
            acting = dataclasses.replace(acting, rights=rights)
            self.sessions.act_for(session, acting)
        return Current(acting, delegation)

    def record(self, tag: EventTag, ctx: RequestContext | None, actor_id: int, acting: Acting,
               details: dict[str, Any] | None = None, *, product: str = Product.PARTNERS) -> None:
        """One act done while acting, in both organisations' logs: the partner person as the
        actor, the details naming the partner, the partnership and the client (`on_behalf_of`)."""
        values = {**(details or {}), "on_behalf_of": on_behalf(acting)}
        for org_id in (acting.client_org_id, acting.partner_org_id):
            self.ports.events.record_event(tag, ctx=ctx, actor_id=actor_id, org_id=org_id, product=product,
                                           details=values)

    def copy_to_partner(self, tag: EventTag, ctx: RequestContext, actor_id: int, acting: Acting,
                        details: dict[str, Any]) -> None:
        """The partner's copy of an act the client's log records itself (the account services
        write the client's entry, with the same `on_behalf_of`)."""
        self.ports.events.record_event(tag, ctx=ctx, actor_id=actor_id, org_id=acting.partner_org_id,
                                       product=Product.ACCOUNT, details={**details, "on_behalf_of": on_behalf(acting)})
