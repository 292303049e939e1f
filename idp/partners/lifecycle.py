"""A partnership once granted: the client changes the rights or ends it, the sweep renews or
expires it (exactly once: each step is a compare-and-set, with its events and mail in the same
transaction), the partner assigns collaborators; an operator makes an organisation a partner or
not; deleting an organisation ends its partnerships."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from idp.errors import N_
from idp.errors import NotFoundError
from idp.errors import ValidationError
from idp.events import EventTag
from idp.events import Product
from idp.model import Organisation
from idp.model import RequestContext
from idp.model import Role
from idp.model import User
from idp.partners.common import Notifier
from idp.partners.common import Ports
from idp.partners.common import find_org
from idp.partners.common import find_partner
from idp.partners.model import Access
from idp.partners.model import Partnership
from idp.partners.model import Status
from idp.partners.rules import PartnerAct
from idp.partners.rules import require

NO_LONGER = N_("This partnership is no longer active.")


@dataclass(frozen=True)
class SweepReport:
    renewed: int = 0
    expired: int = 0


class PartnershipService:
    def __init__(self, ports: Ports) -> None:
        self.ports = ports
        self.notify = Notifier(ports)

    # -- the client's side ----------------------------------------------------------------------

    def _live_of_client(self, user: User, client_slug: str, partnership_id: int) -> Partnership:
        org, me = find_org(self.ports, user, client_slug)
        require(me, PartnerAct.DECIDE)
        p = self.ports.partners.partnership(partnership_id)
        if p is None or p.client_org_id != org.id:
            raise NotFoundError("no such partnership")
        if not p.live_at(self.ports.clock.now()):
            raise ValidationError(NO_LONGER)
        return p

    def partnership_of_client(self, user: User, client_slug: str, partnership_id: int) -> Partnership:
        """A live partnership over the organisation, for its legal representatives (the change
        and end pages); NotFoundError for another organisation's."""
        return self._live_of_client(user, client_slug, partnership_id)

    def change(self, user: User, client_slug: str, partnership_id: int, access: Access,
               ctx: RequestContext) -> Partnership:
        """New rights (full or limited) and renewal, from now on (`partners:partnership:changed`,
        both logs, both sides e-mailed); the term and its end stay. The payer stays as granted."""
        p = self._live_of_client(user, client_slug, partnership_id)
        access = dataclasses.replace(access, days=p.term_days, payer_is_partner=p.payer_is_partner)
        ends_at = p.current_end(self.ports.clock.now())
        with self.ports.unit():
            if not self.ports.partners.set_access(p.id, access, ends_at=ends_at):
                raise ValidationError(NO_LONGER)
            changed = dataclasses.replace(p, full=access.full, rights=access.granted_rights,
                                          auto_renew=access.auto_renew, ends_at=ends_at)
            self.notify.record(EventTag.PARTNER_CHANGED, ctx, user.id, changed, {
                "access": "full" if changed.full else "limited", "rights": sorted(r.value for r in changed.rights),
                "auto_renew": changed.auto_renew,
            })
            self.notify.mail_both("changed", changed, by=user.display_name)
        return changed

    def end(self, user: User, client_slug: str, partnership_id: int, confirmed: bool,
            ctx: RequestContext) -> Partnership:
        """End the partnership now (`partners:partnership:ended`): the partner's next request is
        refused on every host. Only the client's legal representatives, with the box ticked."""
        p = self._live_of_client(user, client_slug, partnership_id)
        if not confirmed:
            raise ValidationError(N_("Tick the box to confirm."), field="confirm")
        if not self._close(p, Status.ENDED, user.id, ctx, "client", by=user.display_name):
            raise ValidationError(NO_LONGER)
        return p

    def _close(self, p: Partnership, status: Status, actor_id: int | None, ctx: RequestContext | None,
               reason: str, *, by: str = "") -> bool:
        now = self.ports.clock.now()
        with self.ports.unit():
            if not self.ports.partners.close(p.id, status, now, actor_id):
                return False
            closed = dataclasses.replace(p, status=status, ended_at=now)
            tag = EventTag.PARTNER_EXPIRED if status is Status.EXPIRED else EventTag.PARTNER_ENDED
            self.notify.record(tag, ctx, actor_id, closed, {"reason": reason})
            self.notify.mail_both("expired" if status is Status.EXPIRED else "ended", closed, by=by)
        return True

    # -- expiry and renewal ---------------------------------------------------------------------

    def sweep(self) -> SweepReport:
        """Renew the partnerships past their end that renew, and mark (and e-mail) the others
        expired. Each partnership is handled once whoever runs the sweep, however often."""
        renewed = expired = 0
        seen: set[int] = set()
        while True:
            batch = [p for p in self.ports.partners.due(self.ports.clock.now()) if p.id not in seen]
            if not batch:
                return SweepReport(renewed, expired)
            for p in batch:
                seen.add(p.id)
                if p.auto_renew:
                    renewed += self._renew(p)
                else:
                    expired += self._close(p, Status.EXPIRED, None, None, "term")

    def _renew(self, p: Partnership) -> int:
        now = self.ports.clock.now()
        ends_at = p.current_end(now)
        with self.ports.unit():
            if not self.ports.partners.renew(p.id, was=p.ends_at, ends_at=ends_at):
                return 0
            renewed = dataclasses.replace(p, ends_at=ends_at)
            self.notify.record(EventTag.PARTNER_RENEWED, None, None, renewed, {"until": ends_at.isoformat()})
            self.notify.mail_both("renewed", renewed)
        return 1

    def expire_overdue(self, client_org_id: int) -> None:
        """Do the sweep's work now for the client's partnership that is over and does not renew
        (before another is granted: a client has one live partnership at most)."""
        now = self.ports.clock.now()
        for p in self.ports.partners.of_client(client_org_id):
            if p.status is Status.ACTIVE and not p.live_at(now):
                self._close(p, Status.EXPIRED, None, None, "term")

    # -- the partner's side: assignments --------------------------------------------------------

    def _assignable(self, actor: User, partner_slug: str, client_slug: str, member_id: int) -> Partnership:
        partner, me = find_partner(self.ports, actor, partner_slug)
        require(me, PartnerAct.ASSIGN)
        client = self.ports.orgs.by_slug(client_slug.strip().lower()[:64])
        now = self.ports.clock.now()
        live = [p for p in self.ports.partners.of_client(client.id)
                if p.partner_org_id == partner.id and p.live_at(now)] if client is not None else []
        if not live:
            raise NotFoundError("no such client")
        member = self.ports.orgs.membership(member_id, partner.id)
        if member is None:
            raise NotFoundError("no such member")
        if member.role is not Role.COLLABORATOR:
            raise ValidationError(N_("Legal representatives and administrators reach every client: only "
                                     "collaborators are assigned."))
        return live[0]

    def assign(self, actor: User, partner_slug: str, client_slug: str, member_id: int, ctx: RequestContext,
               *, on: bool = True) -> bool:
        """Let a partner collaborator reach this client (or no longer); by the partner's legal
        representatives and administrators (`partners:assignment:added` / `removed`, both logs)."""
        p = self._assignable(actor, partner_slug, client_slug, member_id)
        store = self.ports.partners
        with self.ports.unit():
            done = (store.assign(p.id, member_id, by=actor.id, now=self.ports.clock.now()) if on
                    else store.unassign(p.id, member_id))
            if done:
                member = self.ports.users.get(member_id)
                self.notify.record(EventTag.PARTNER_ASSIGNED if on else EventTag.PARTNER_UNASSIGNED, ctx, actor.id,
                                   p, {"member": member_id, "member_name": member.display_name if member else ""})
        return done

    # -- the operator, and organisations that go -------------------------------------------------

    def set_partner(self, slug: str, on: bool, ctx: RequestContext) -> tuple[Organisation, bool, int]:
        """Make the organisation a partner (or no longer one: its live partnerships end, its
        pending requests are withdrawn). Returns (organisation, changed, partnerships ended)."""
        org = self.ports.orgs.by_slug(slug.strip().lower()[:64])
        if org is None:
            raise NotFoundError(f"no organisation {slug!r}")
        now = self.ports.clock.now()
        if on:
            changed = self.ports.partners.set_partner(org.id, now)
            ended = 0
        else:
            ended = self._end_all(org, None, ctx, "no longer a partner", partner_side_only=True)
            changed = self.ports.partners.unset_partner(org.id)
        if changed:
            self.ports.events.record_event(
                EventTag.PARTNER_MARKED if on else EventTag.PARTNER_UNMARKED, ctx=ctx, org_id=org.id,
                product=Product.PARTNERS, details={"slug": org.slug, "ended": ended},
            )
        return org, changed, ended

    def _end_all(self, org: Organisation, actor_id: int | None, ctx: RequestContext | None, reason: str,
                 *, partner_side_only: bool = False) -> int:
        ended = 0
        for p in self.ports.partners.live_of(org.id):
            if partner_side_only and p.partner_org_id != org.id:
                continue
            ended += self._close(p, Status.ENDED, actor_id, ctx, reason)
        self.ports.partners.cancel_requests_of(org.id, self.ports.clock.now())
        return ended

    def org_deleted(self, org: Organisation, actor: User, ctx: RequestContext) -> None:
        """Before an organisation is deleted: its partnerships, on either side, end (recorded in
        both logs, both sides told), its pending requests are withdrawn."""
        self._end_all(org, actor.id, ctx, "organisation deleted")

    def erase(self, user: User, _ctx: RequestContext) -> None:
        """The account is deleted: the requests pending for its address are withdrawn (its
        assignments go with its row)."""
        self.ports.partners.cancel_requests_to(user.email, self.ports.clock.now())
