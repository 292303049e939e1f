"""A partner's request to manage a client: sent by a partner's legal representative to the
client's address, reviewed by that person in their account (or after signing up through the
link), accepted for one of the organisations they legally represent (or a new one) with the
rights they choose, or declined."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from idp.account.signup import SignupRequest
from idp.account.signup import SignupService
from idp.auth.service import normalise_login
from idp.errors import N_
from idp.errors import ConflictError
from idp.errors import NotFoundError
from idp.errors import ValidationError
from idp.events import EventTag
from idp.events import Product
from idp.foundation.links import RowLinks
from idp.model import Membership
from idp.model import Organisation
from idp.model import RequestContext
from idp.model import Role
from idp.model import User
from idp.partners.common import Notifier
from idp.partners.common import Ports
from idp.partners.common import find_partner
from idp.partners.common import rights_words
from idp.partners.lifecycle import PartnershipService
from idp.partners.model import Access
from idp.partners.model import PartnerRequest
from idp.partners.model import Partnership
from idp.partners.model import RequestState
from idp.partners.rules import PartnerAct
from idp.partners.rules import require

REVIEW_PATH = "/partners/requests/link/"
NOT_VALID = N_("This link is not valid. Ask the partner to send the request again.")
EXPIRED = N_("This request has expired. Ask the partner to send a new one.")
DECIDED = N_("This request was already answered.")
CANCELLED = N_("The partner withdrew this request.")
WRONG_ACCOUNT = N_(
    "This request is for another e-mail address. Sign out, then open the link again and sign in with that address."
)
ITSELF = N_("An organisation cannot be its own client.")
MANAGED = N_("This organisation is already under your management.")
MANAGED_BY_THEM = N_("This partner already manages this organisation.")
MANAGED_ELSEWHERE = N_("Another partner manages this organisation: end that partnership first.")
HAS_ACCOUNT = N_("An account has this address already: sign in to review the request.")

# Creates an organisation whose legal representative is the person (OrganisationService.create).
CreateOrg = Callable[[User, str, str, RequestContext], Organisation]


@dataclass(frozen=True)
class Opened:
    """A valid request, as its link's page shows it."""

    request: PartnerRequest
    has_account: bool


@dataclass(frozen=True)
class Choice:
    """The organisation a person may accept a request for, or why not."""

    membership: Membership
    refused: str | None = None  # N_-marked reason


@dataclass(frozen=True)
class Review:
    request: PartnerRequest
    choices: list[Choice]

    @property
    def eligible(self) -> list[Membership]:
        return [c.membership for c in self.choices if c.refused is None]


@dataclass(frozen=True)
class Decision:
    """What the reviewer chose: an organisation they legally represent (its short name), or a
    new one (`new`, named `new_name`, `new_slug`), and the access they grant."""

    access: Access
    org_slug: str = ""
    new_name: str = ""
    new_slug: str = ""
    new: bool = False  # a new organisation, named new_name and new_slug

    @property
    def creates(self) -> bool:
        return self.new


class RequestService:
    def __init__(
        self, ports: Ports, lifecycle: PartnershipService, *, links: RowLinks, signup: SignupService,
        create_org: CreateOrg, ttl: int,
    ) -> None:
        self.ports, self.lifecycle, self.links, self.signup = ports, lifecycle, links, signup
        self.create_org, self.ttl = create_org, ttl
        self.notify = Notifier(ports)

    # -- the partner's side ---------------------------------------------------------------------

    def _refusal(self, partner: Organisation, person: User) -> str | None:
        """Why the partner may not send a request to this existing account: every organisation
        it legally represents is the partner itself or already managed by it."""
        represented = [m.org_id for m in self.ports.orgs.memberships_of(person.id)
                       if m.role is Role.LEGAL_REPRESENTATIVE]
        if not represented:
            return None  # they will create their organisation when they review
        others = [o for o in represented if o != partner.id]
        if not others:
            return ITSELF
        managed = self.ports.partners.managed_among(partner.id, others, self.ports.clock.now())
        return MANAGED if set(others) <= managed else None

    def invite(self, actor: User, partner_slug: str, email: str, access: Access, ctx: RequestContext) -> PartnerRequest:
        """Send a request (`partners:client:invited`, in the partner's log and the invited
        account's). Only a partner's legal representatives; refused for its own organisation,
        one it manages already, and while a request to the address is pending; at most 50 an
        hour per person."""
        partner, me = find_partner(self.ports, actor, partner_slug)
        require(me, PartnerAct.ADD_CLIENT)
        try:
            email = normalise_login(email)
        except ValidationError as exc:
            exc.field = "email"
            raise
        existing = self.ports.users.by_email(email)
        refusal = self._refusal(partner, existing) if existing is not None else None
        if refusal is not None:
            raise ValidationError(refusal, field="email")
        now = self.ports.clock.now()
        if any(r.email == email.lower() for r in self.ports.partners.pending_of(partner.id, now)):
            raise ValidationError(N_("A request to this address is pending: withdraw it to send another."),
                                  field="email")
        self.ports.ratelimit.check("partner_invite", str(actor.id), limit=50, window=3600)
        nonce = secrets.token_urlsafe(24)
        with self.ports.unit():
            request = self.ports.partners.add_request(
                partner_org_id=partner.id, email=email, access=access, nonce_digest=RowLinks.digest(nonce),
                invited_by=actor.id, now=now, expires_at=now + dt.timedelta(seconds=self.ttl),
            )
            recipient = existing or actor  # a new person reads the inviter's language
            self.ports.mail.queue(
                email, "partners_request", locale=recipient.locale, timezone=recipient.timezone,
                partner_name=partner.name, inviter=actor.display_name, full=access.full,
                rights=rights_words(access.rights, access.full), payer_is_partner=access.payer_is_partner,
                days=access.days, auto_renew=access.auto_renew, expires=request.expires_at,
                link=f"{self.ports.base_url}{REVIEW_PATH}{self.links.make(request.id, nonce)}",
            )
            self._record(EventTag.PARTNER_INVITED, ctx, actor.id, partner.id, existing.id if existing else None,
                         request, {"access": "full" if access.full else "limited", "days": access.days})
        return request

    def cancel(self, actor: User, partner_slug: str, request_id: int, ctx: RequestContext) -> PartnerRequest:
        """Withdraw a pending request of this partner (`partners:client:request_cancelled`)."""
        partner, me = find_partner(self.ports, actor, partner_slug)
        require(me, PartnerAct.ADD_CLIENT)
        request = self.ports.partners.request(request_id)
        if request is None or request.partner_org_id != partner.id:
            raise NotFoundError("no such request")
        if not self.ports.partners.close_request(request.id, RequestState.CANCELLED, self.ports.clock.now()):
            raise ValidationError(N_("This request is no longer pending."))
        invited = self.ports.users.by_email(request.email)
        self._record(EventTag.PARTNER_REQUEST_CANCELLED, ctx, actor.id, partner.id,
                     invited.id if invited else None, request, {})
        return request

    # -- the client's side ----------------------------------------------------------------------

    def open(self, token: str) -> Opened:
        """The pending request this link carries, or ValidationError saying why not: altered,
        forged or of a deleted partner (not valid), expired, answered, withdrawn. The signature
        is checked, then the nonce against its digest in constant time."""
        read = self.links.read(token)
        request = self.ports.partners.request(read[0]) if read is not None else None
        if read is None or request is None or not hmac.compare_digest(RowLinks.digest(read[1]), request.nonce_digest):
            raise ValidationError(NOT_VALID)
        self._check_open(request)
        return Opened(request, self.ports.users.by_email(request.email) is not None)

    def _check_open(self, request: PartnerRequest) -> None:
        if request.state is RequestState.CANCELLED:
            raise ValidationError(CANCELLED)
        if request.state is not RequestState.PENDING:
            raise ValidationError(DECIDED)
        if request.expires_at <= self.ports.clock.now():
            raise ValidationError(EXPIRED)

    def _mine(self, user: User, request_id: int) -> PartnerRequest:
        """A pending request sent to the person's login address; NotFoundError for any other."""
        request = self.ports.partners.request(request_id)
        if request is None or request.email != user.email.strip().lower():
            raise NotFoundError("no such request")
        self._check_open(request)
        return request

    def review(self, user: User, request_id: int) -> Review:
        """The request and the organisations the person may accept it for (each one they legally
        represent; those that cannot be chosen say why)."""
        request = self._mine(user, request_id)
        represented = [m for m in self.ports.orgs.memberships_of(user.id) if m.role is Role.LEGAL_REPRESENTATIVE]
        managed = self.ports.partners.managed_among(request.partner_org_id, [m.org_id for m in represented],
                                                    self.ports.clock.now())
        choices = []
        for m in represented:
            refused = ITSELF if m.org_id == request.partner_org_id else MANAGED_BY_THEM if m.org_id in managed else (
                MANAGED_ELSEWHERE if self._managed_elsewhere(m.org_id) else None)
            choices.append(Choice(m, refused))
        return Review(request, choices)

    def _managed_elsewhere(self, org_id: int) -> bool:
        now = self.ports.clock.now()
        return any(p.live_at(now) for p in self.ports.partners.of_client(org_id))

    def _client(self, user: User, request: PartnerRequest, decision: Decision, ctx: RequestContext) -> Organisation:
        """The organisation the request is accepted for: one the person legally represents, not
        the partner, not managed; or a new one, made now."""
        if decision.creates:
            return self.create_org(user, decision.new_slug, decision.new_name, ctx)
        org = self.ports.orgs.by_slug(decision.org_slug.strip().lower()[:64])
        me = self.ports.orgs.membership(user.id, org.id) if org is not None else None
        if org is None or me is None:
            raise ValidationError(N_("Choose one of your organisations."), field="org")
        require(me, PartnerAct.DECIDE)
        if org.id == request.partner_org_id:
            raise ValidationError(ITSELF, field="org")
        live = [p for p in self.ports.partners.of_client(org.id) if p.live_at(self.ports.clock.now())]
        if any(p.partner_org_id == request.partner_org_id for p in live):
            raise ValidationError(MANAGED_BY_THEM, field="org")
        if live:
            raise ValidationError(MANAGED_ELSEWHERE, field="org")
        return org

    def accept(self, user: User, request_id: int, decision: Decision, ctx: RequestContext) -> Partnership:
        """Grant the partnership on `decision`'s terms, which may differ from those asked
        (`partners:partnership:granted` in both logs, both sides e-mailed). Only a legal
        representative of the chosen organisation (PartnerForbiddenError otherwise); the request
        works once (a compare-and-set from pending)."""
        request = self._mine(user, request_id)
        # The payment means are the partner's offer: the client grants rights and a duration.
        access = dataclasses.replace(decision.access, payer_is_partner=request.access.payer_is_partner)
        client = self._client(user, request, decision, ctx)
        now = self.ports.clock.now()
        self.lifecycle.expire_overdue(client.id)
        try:
            with self.ports.unit():
                if not self.ports.partners.close_request(request.id, RequestState.ACCEPTED, now, client.id):
                    raise ValidationError(DECIDED)
                p = self.ports.partners.add_partnership(
                    partner_org_id=request.partner_org_id, client_org_id=client.id, request_id=request.id,
                    contact_email=request.email, access=access, granted_by=user.id, now=now,
                )
                self.notify.record(EventTag.PARTNER_ACCEPTED, ctx, user.id, p, {
                    "request": request.id, "access": "full" if p.full else "limited",
                    "rights": sorted(r.value for r in p.granted_rights), "days": p.term_days,
                    "as_requested": access == request.access,
                })
                self.notify.mail_both("granted", p, by=user.display_name)
        except ConflictError as exc:
            raise ValidationError(MANAGED_ELSEWHERE, field="org") from exc
        return p

    def decline(self, user: User, request_id: int, ctx: RequestContext) -> PartnerRequest:
        """Refuse the request (`partners:partnership:declined`, in the partner's log and the
        person's own); the partner's legal representatives are e-mailed."""
        request = self._mine(user, request_id)
        with self.ports.unit():
            if not self.ports.partners.close_request(request.id, RequestState.DECLINED, self.ports.clock.now()):
                raise ValidationError(DECIDED)
            self._record(EventTag.PARTNER_DECLINED, ctx, user.id, request.partner_org_id, user.id, request, {})
            for person in self.notify.legal_representatives(request.partner_org_id):
                self.ports.mail.queue_for(person, "partners_declined", partner_name=request.partner_name,
                                          email=request.email, who=user.display_name)
        return request

    def sign_up(self, token: str, signup: SignupRequest, ctx: RequestContext) -> User:
        """A new account for the request's address, active at once (the link proves the mailbox);
        the request stays pending, for its owner to review once signed in."""
        opened = self.open(token)
        if opened.has_account:
            raise ValidationError(HAS_ACCOUNT)
        candidate = self.signup.validate(dataclasses.replace(signup, email=opened.request.email))
        try:
            return self.signup.open_account(candidate, ctx, proven=True, how="partner_request")
        except ConflictError as exc:
            raise ValidationError(HAS_ACCOUNT) from exc

    def _record(self, tag: EventTag, ctx: RequestContext, actor_id: int, partner_org_id: int, user_id: int | None,
                request: PartnerRequest, details: dict[str, object]) -> None:
        self.ports.events.record_event(
            tag, ctx=ctx, actor_id=actor_id, user_id=user_id, org_id=partner_org_id, product=Product.PARTNERS,
            details={"request": request.id, "partner": request.partner_slug, "with": request.email, **details},
        )
