"""Plain records of the partners capability: requests, partnerships, assignments, the access asked
and granted. No framework, no ORM: the store builds them, the services and pages read them."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from dataclasses import field

from idp.capability import ClientTerms
from idp.capability import Delegation
from idp.capability import PartnerRight
from idp.errors import N_

# The duration a partner asks for and a client grants, in days: one day to two years.
MIN_DAYS = 1
MAX_DAYS = 730
ALL_RIGHTS = frozenset(PartnerRight)

RIGHT_NAMES: dict[PartnerRight, str] = {
    PartnerRight.PRODUCTS: N_("Products"),
    PartnerRight.BILLING: N_("Billing"),
    PartnerRight.USERS: N_("Users"),
    PartnerRight.ACTIVITY: N_("Activity"),
}
RIGHT_HINTS: dict[PartnerRight, str] = {
    PartnerRight.PRODUCTS: N_("Domains and hostings, their orders and renewals."),
    PartnerRight.BILLING: N_("The prepaid balance, its ledger, orders and their payment (never payouts)."),
    PartnerRight.USERS: N_("The members list and invitations (never a member's own security settings)."),
    PartnerRight.ACTIVITY: N_("The organisation's activity log."),
}


class Status(enum.StrEnum):
    """A partnership's state. `active` is stored until the client ends it or the sweep marks it
    expired; one past its end that does not renew reads as expired before the sweep comes."""

    ACTIVE = "active"
    ENDED = "ended"
    EXPIRED = "expired"


class RequestState(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    CANCELLED = "cancelled"  # withdrawn by the partner, or its organisation went


@dataclass(frozen=True)
class Access:
    """What a partner may do for a client: everything (`full`) or the listed rights; for how many
    days, renewed or not; paid with whose means."""

    full: bool
    rights: frozenset[PartnerRight]
    payer_is_partner: bool
    days: int
    auto_renew: bool

    @property
    def granted_rights(self) -> frozenset[PartnerRight]:
        """The rights in effect: every one under full access."""
        return ALL_RIGHTS if self.full else self.rights


@dataclass(frozen=True)
class PartnerRequest:
    """A partner's request to manage a client organisation, e-mailed to the client's address.
    Its link works once (the row keeps the nonce's digest) while it is pending and unexpired."""

    id: int
    partner_org_id: int
    partner_name: str
    partner_slug: str
    email: str
    access: Access
    nonce_digest: str
    invited_by: int | None
    state: RequestState
    created_at: dt.datetime
    expires_at: dt.datetime
    decided_at: dt.datetime | None = None
    client_org_id: int | None = None

    def open_at(self, now: dt.datetime) -> bool:
        return self.state is RequestState.PENDING and self.expires_at > now


@dataclass(frozen=True)
class Partnership:
    """A client organisation managed by a partner organisation, as granted by the client."""

    id: int
    partner_org_id: int
    partner_slug: str
    partner_name: str
    client_org_id: int
    client_slug: str
    client_name: str
    contact_email: str  # the address the request was sent to
    full: bool
    rights: frozenset[PartnerRight]
    payer_is_partner: bool
    term_days: int
    auto_renew: bool
    starts_at: dt.datetime
    ends_at: dt.datetime
    status: Status
    granted_by: int | None
    ended_at: dt.datetime | None = None
    assigned: frozenset[int] = field(default_factory=frozenset)  # partner collaborators

    def status_at(self, now: dt.datetime) -> Status:
        """The status as of `now`: an active partnership past its end is expired unless it renews."""
        if self.status is Status.ACTIVE and self.ends_at <= now and not self.auto_renew:
            return Status.EXPIRED
        return self.status

    def live_at(self, now: dt.datetime) -> bool:
        return self.status_at(now) is Status.ACTIVE

    def current_end(self, now: dt.datetime) -> dt.datetime:
        """When it ends as things stand: a renewing one past `ends_at` runs a term more, and more."""
        end = self.ends_at
        if self.status is Status.ACTIVE and self.auto_renew:
            step = dt.timedelta(days=self.term_days)
            while end <= now:
                end += step
        return end

    @property
    def granted_rights(self) -> frozenset[PartnerRight]:
        return ALL_RIGHTS if self.full else self.rights

    def terms(self) -> ClientTerms:
        return ClientTerms(partner_org_id=self.partner_org_id, full=self.full,
                           payer_is_partner=self.payer_is_partner, rights=self.granted_rights)

    def delegation(self, actor_id: int) -> Delegation:
        return Delegation(partnership_id=self.id, partner_org_id=self.partner_org_id,
                          client_org_id=self.client_org_id, actor_id=actor_id, full=self.full,
                          rights=self.granted_rights)


@dataclass(frozen=True)
class Reach:
    """What decides a delegation, read in one query: the client's live partnership with the
    person's partner organisation, the person's role there, and whether they are assigned."""

    partnership_id: int
    partner_org_id: int
    client_org_id: int
    full: bool
    rights: frozenset[PartnerRight]
    ends_at: dt.datetime
    auto_renew: bool
    role: str
    assigned: bool
