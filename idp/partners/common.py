"""What the partners services share: the ports they are given, finding an organisation as one of
its members sees it, and telling both sides (the two activity logs, the legal representatives' mail)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from collections.abc import Collection
from contextlib import AbstractContextManager
from contextlib import nullcontext
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import Protocol

from idp.capability import PartnerRight
from idp.clock import Clock
from idp.errors import NotFoundError
from idp.events import EventRecorder
from idp.events import EventTag
from idp.events import Product
from idp.foundation.ratelimit import RateLimiter
from idp.mail import MailService
from idp.model import Membership
from idp.model import Organisation
from idp.model import RequestContext
from idp.model import Role
from idp.model import User
from idp.partners.model import RIGHT_NAMES
from idp.partners.model import Access
from idp.partners.model import PartnerRequest
from idp.partners.model import Partnership
from idp.partners.model import Reach
from idp.partners.model import RequestState
from idp.partners.model import Status
from idp.partners.rules import NOT_A_PARTNER
from idp.partners.rules import PartnerForbiddenError

MAX_SLUG = 64


class PartnerStore(Protocol):
    def is_partner(self, org_id: int) -> bool: ...
    def set_partner(self, org_id: int, now: dt.datetime) -> bool: ...
    def unset_partner(self, org_id: int) -> bool: ...
    def add_request(
        self, *, partner_org_id: int, email: str, access: Access, nonce_digest: str, invited_by: int,
        now: dt.datetime, expires_at: dt.datetime,
    ) -> PartnerRequest: ...
    def request(self, request_id: int) -> PartnerRequest | None: ...
    def pending_to(self, email: str, now: dt.datetime) -> list[PartnerRequest]: ...
    def pending_of(self, partner_org_id: int, now: dt.datetime) -> list[PartnerRequest]: ...
    def close_request(self, request_id: int, state: RequestState, now: dt.datetime,
                      client_org_id: int | None = None) -> bool: ...
    def cancel_requests_of(self, partner_org_id: int, now: dt.datetime) -> int: ...
    def cancel_requests_to(self, email: str, now: dt.datetime) -> int: ...
    def add_partnership(
        self, *, partner_org_id: int, client_org_id: int, request_id: int | None, contact_email: str,
        access: Access, granted_by: int, now: dt.datetime,
    ) -> Partnership: ...
    def partnership(self, partnership_id: int) -> Partnership | None: ...
    def of_partner(self, partner_org_id: int, *, assigned_to: int | None = None) -> list[Partnership]: ...
    def of_client(self, client_org_id: int) -> list[Partnership]: ...
    def live_of(self, org_id: int) -> list[Partnership]: ...
    def managed_among(self, partner_org_id: int, org_ids: Collection[int], now: dt.datetime) -> set[int]: ...
    def due(self, now: dt.datetime, limit: int = 100) -> list[Partnership]: ...
    def set_access(self, partnership_id: int, access: Access, *, ends_at: dt.datetime) -> bool: ...
    def close(self, partnership_id: int, status: Status, now: dt.datetime, by: int | None) -> bool: ...
    def renew(self, partnership_id: int, *, was: dt.datetime, ends_at: dt.datetime) -> bool: ...
    def reach(self, user_id: int, client_org_id: int) -> Reach | None: ...
    def assign(self, partnership_id: int, user_id: int, *, by: int, now: dt.datetime) -> bool: ...
    def unassign(self, partnership_id: int, user_id: int) -> bool: ...


class OrgStore(Protocol):
    """The organisations' store (idp.stores.orgs): what the partners capability reads of it."""

    def by_slug(self, slug: str) -> Organisation | None: ...
    def get(self, org_id: int) -> Organisation | None: ...
    def membership(self, user_id: int, org_id: int) -> Membership | None: ...
    def memberships_of(self, user_id: int) -> list[Membership]: ...
    def members(self, org_id: int) -> list[tuple[User, Role]]: ...


class Accounts(Protocol):
    def get(self, user_id: int) -> User | None: ...
    def by_email(self, email: str) -> User | None: ...


@dataclass
class Ports:
    partners: PartnerStore
    orgs: OrgStore
    users: Accounts
    events: EventRecorder
    mail: MailService
    clock: Clock
    ratelimit: RateLimiter
    base_url: str
    unit: Callable[[], AbstractContextManager[None]] = field(default=nullcontext)


def find_org(ports: Ports, user: User, slug: str) -> tuple[Organisation, Membership]:
    """The organisation and the person's membership; NotFoundError for a non-member, the same
    answer as for an organisation that does not exist."""
    org = ports.orgs.by_slug(slug.strip().lower()[:MAX_SLUG])
    membership = ports.orgs.membership(user.id, org.id) if org is not None else None
    if org is None or membership is None:
        raise NotFoundError("no such organisation")
    return org, membership


def find_partner(ports: Ports, user: User, slug: str) -> tuple[Organisation, Membership]:
    """As `find_org`, and PartnerForbiddenError when the organisation is not a partner."""
    org, membership = find_org(ports, user, slug)
    if not ports.partners.is_partner(org.id):
        raise PartnerForbiddenError(NOT_A_PARTNER)
    return org, membership


def rights_words(rights: Collection[PartnerRight], full: bool) -> list[str]:
    """The N_-marked names of the rights (in the list's order), for pages and mail."""
    return [RIGHT_NAMES[r] for r in PartnerRight if full or r in rights]


class Notifier:
    """One act, told to both sides: an entry in each organisation's activity log (`org_id` of
    each, the details naming the other), and a mail to each side's legal representatives."""

    def __init__(self, ports: Ports) -> None:
        self.ports = ports

    def record(
        self, tag: EventTag, ctx: RequestContext | None, actor_id: int | None, p: Partnership,
        details: dict[str, Any] | None = None,
    ) -> None:
        base = {"partnership": p.id, "partner": p.partner_slug, "client": p.client_slug, **(details or {})}
        events = self.ports.events
        events.record_event(tag, ctx=ctx, actor_id=actor_id, org_id=p.partner_org_id, product=Product.PARTNERS,
                            details={**base, "with": p.client_name})
        events.record_event(tag, ctx=ctx, actor_id=actor_id, org_id=p.client_org_id, product=Product.PARTNERS,
                            details={**base, "with": p.partner_name})

    def legal_representatives(self, org_id: int) -> list[User]:
        return [u for u, role in self.ports.orgs.members(org_id) if role is Role.LEGAL_REPRESENTATIVE]

    def mail_both(self, kind: str, p: Partnership, *, by: str = "") -> int:
        """The notice `kind` (granted, changed, ended, expired, renewed) to both sides' legal
        representatives; returns how many mails were queued."""
        now = self.ports.clock.now()
        values: dict[str, Any] = {
            "kind": kind, "full": p.full, "rights": rights_words(p.rights, p.full),
            "payer_is_partner": p.payer_is_partner, "until": p.current_end(now), "auto_renew": p.auto_renew,
            "by": by, "partner_name": p.partner_name, "client_name": p.client_name,
        }
        sent = 0
        base = self.ports.base_url
        # The partner reaches the client's page while the partnership lives, its list after.
        client_page = f"/{p.client_slug}" if kind in ("granted", "changed", "renewed") else ""
        for side, org_id, other, link in (
            ("partner", p.partner_org_id, p.client_name, f"{base}/orgs/{p.partner_slug}/clients{client_page}"),
            ("client", p.client_org_id, p.partner_name, f"{base}/orgs/{p.client_slug}/partners"),
        ):
            for person in self.legal_representatives(org_id):
                self.ports.mail.queue_for(person, "partners_notice", side=side, other=other, link=link, **values)
                sent += 1
        return sent
