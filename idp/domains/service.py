"""Domain transfers as an organisation's account managers see them: the list, a new request (its
fee charged once), and the relaunch of a failed one, from the page or the e-mailed link, which
charges nothing. Reports from the registrar and operators are in idp.domains.reports."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from idp.account.org_rules import OrgForbiddenError
from idp.capability import DelegatedAccess
from idp.clock import Clock
from idp.crypto import SecretBox
from idp.domains.links import RelaunchLinks
from idp.domains.model import Failure
from idp.domains.model import Fee
from idp.domains.model import Reason
from idp.domains.model import Status
from idp.domains.model import Transfer
from idp.domains.model import TransferView
from idp.domains.names import check_auth_code
from idp.domains.names import display_name
from idp.domains.names import normalise_domain
from idp.domains.ports import Organisations
from idp.domains.ports import TransferStore
from idp.domains.receiver import WebhookReceiver
from idp.domains.registrar import Registrar
from idp.domains.reports import Reports
from idp.domains.rights import Acting
from idp.domains.rights import acting
from idp.errors import N_
from idp.errors import ConflictError
from idp.errors import IdpError
from idp.errors import NotFoundError
from idp.errors import UpstreamError
from idp.errors import ValidationError
from idp.events import EventRecorder
from idp.events import EventTag
from idp.events import Product
from idp.foundation.ratelimit import RateLimiter
from idp.model import RequestContext
from idp.model import User

MAX_SLUG = 64
# Requests per organisation per hour: each one reaches the registrar.
REQUESTS_PER_HOUR = 30
UNDER_WAY = N_("A transfer of this domain is already under way.")
LINK_NOT_VALID = N_("This relaunch link is not valid. Open the link of the latest e-mail, or the domains page.")
LINK_EXPIRED = N_("This relaunch link has expired. Relaunch the transfer from the domains page.")
LINK_NO_RIGHTS = N_(
    "This link is for the legal representatives and administrators of the domain's organisation. "
    "Sign in with such an account to relaunch the transfer."
)
ALREADY_RELAUNCHED = N_("This transfer was already relaunched: the link works once. Its status is on the domains page.")
NEWER_FAILURE = N_(
    "The transfer failed again since this link was sent: use the link of the latest e-mail, or the domains page."
)
REGISTRAR_DOWN = N_("The registrar cannot be reached at the moment: nothing was done and nothing charged. "
                    "Try again in a few minutes.")


class LinkRefusedError(IdpError):
    """The relaunch link opens nothing; the message (N_-marked) says why and what to do."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.template, self.status = message, status
        self.params: dict[str, object] = {}


@dataclass(frozen=True)
class Opened:
    """A relaunch link that may be used now, by this person."""

    acting: Acting
    view: TransferView


class DomainService:
    def __init__(
        self, *, store: TransferStore, orgs: Organisations, registrar: Registrar, reports: Reports,
        events: EventRecorder, clock: Clock, links: RelaunchLinks, box: SecretBox, ratelimit: RateLimiter,
        webhook: WebhookReceiver, delegated: Callable[[], DelegatedAccess | None], fee: Fee | None,
    ) -> None:
        self.webhook = webhook
        self.store, self.orgs, self.registrar, self.reports = store, orgs, registrar, reports
        self.events, self.clock, self.links, self.box, self.ratelimit = events, clock, links, box, ratelimit
        self.delegated, self.fee = delegated, fee

    # -- who acts ----------------------------------------------------------------------------

    def access(self, user: User, slug: str) -> Acting:
        """The person's standing on the organisation's domains (idp.domains.rights.acting)."""
        org = self.orgs.by_slug(slug.strip().lower()[:MAX_SLUG])
        if org is None:
            raise NotFoundError("no such organisation")
        return acting(self.orgs, self.delegated, user, org, self.clock.now())

    def views(self, transfers: list[Transfer]) -> list[TransferView]:
        failures = self.store.last_failures(transfers)
        return [TransferView(t, failures.get(t.id), display_name(t.domain)) for t in transfers]

    def transfers(self, who: Acting) -> list[TransferView]:
        return self.views(self.store.transfers(who.org.id))

    # -- a new transfer ----------------------------------------------------------------------

    def request(self, who: Acting, domain: str, auth_code: str, ctx: RequestContext) -> Transfer:
        """Ask the registrar for a transfer of `domain` (`domains:transfer:requested`), its fee
        recorded as charged. ValidationError names the field; UpstreamError when the registrar
        did not take it, in which case nothing is kept and nothing charged."""
        name, code = normalise_domain(domain), check_auth_code(auth_code)
        if self.store.open_by_domain(name) is not None:
            raise ValidationError(UNDER_WAY, field="domain")
        self.ratelimit.check("domain_transfer", str(who.org.id), limit=REQUESTS_PER_HOUR, window=3600)
        try:
            transfer = self.store.add(org_id=who.org.id, domain=name, fee=self.fee, auth_code=self.box.encrypt(code),
                                      requested_by=who.user.id, now=self.clock.now())
        except ConflictError as exc:  # another request for it, at the same moment
            raise ValidationError(UNDER_WAY, field="domain") from exc
        try:
            self.registrar.start_transfer(name, code, reference=str(transfer.id))
        except UpstreamError:
            self.store.delete(transfer.id)
            raise
        fee = transfer.fee
        self.record(EventTag.DOMAIN_TRANSFER_REQUESTED, who, ctx, {
            "domain": name, "transfer": transfer.id, "charged": transfer.fee_charged,
            **({"fee": f"{fee.amount:.2f}", "currency": fee.currency} if fee else {}),
        })
        return transfer

    # -- relaunching -------------------------------------------------------------------------

    def relaunch_from_page(self, who: Acting, transfer_id: int, failure: int, auth_code: str,
                           ctx: RequestContext) -> Transfer:
        """The page's relaunch button: `failure` is the number the page showed."""
        transfer = self.store.get(transfer_id)
        if transfer is None or transfer.org_id != who.org.id:
            raise NotFoundError("no such transfer")
        return self._relaunch(who, transfer, failure, auth_code, ctx, how="page")

    def open_link(self, user: User, token: str) -> Opened:
        """The transfer and failure a relaunch link names, when `user` may use it now;
        LinkRefusedError otherwise: altered or forged, expired, for an organisation where the
        person has no rights (403), superseded by a newer failure, already used (or relaunched
        from the page). The signature and expiry are checked before anything is read; the
        rights before the transfer's state is told."""
        claim = self.links.read(token)
        if claim is None:
            raise LinkRefusedError(LINK_NOT_VALID)
        if self.links.expired(claim):
            raise LinkRefusedError(LINK_EXPIRED)
        transfer = self.store.get(claim.transfer_id)
        org = self.orgs.get(claim.org_id) if transfer is not None and transfer.org_id == claim.org_id else None
        if transfer is None or org is None:
            raise LinkRefusedError(LINK_NOT_VALID)
        try:
            who = acting(self.orgs, self.delegated, user, org, self.clock.now())
        except (NotFoundError, OrgForbiddenError) as exc:
            raise LinkRefusedError(LINK_NO_RIGHTS, 403) from exc
        failure = self.store.failure(transfer.id, claim.failure)
        if failure is None:
            raise LinkRefusedError(LINK_NOT_VALID)
        self._check_state(transfer, failure)
        return Opened(who, TransferView(transfer, failure, display_name(transfer.domain)))

    def relaunch_by_link(self, user: User, token: str, auth_code: str, ctx: RequestContext) -> Transfer:
        opened = self.open_link(user, token)
        failure = opened.view.failure
        assert failure is not None  # noqa: S101 - open_link returns a view with its failure
        return self._relaunch(opened.acting, opened.view.transfer, failure.number, auth_code, ctx, how="link")

    @staticmethod
    def _check_state(transfer: Transfer, failure: Failure) -> None:
        if failure.number < transfer.failures:
            raise LinkRefusedError(NEWER_FAILURE, 409)
        if failure.resolved_at is not None or transfer.status is not Status.FAILED:
            raise LinkRefusedError(ALREADY_RELAUNCHED, 409)

    def _relaunch(self, who: Acting, transfer: Transfer, number: int, auth_code: str, ctx: RequestContext,
                  *, how: str) -> Transfer:
        """Failed → relaunched (`domains:transfer:relaunched`), no new fee: the transfer keeps the
        one charged at the request, and no charge is recorded. A new authorisation code is
        required when the failure was a wrong one. The state is claimed first (one of two
        concurrent relaunches wins), then the registrar is asked; if it does not take it, the
        claim is undone and the link keeps working."""
        failure = self.store.failure(transfer.id, number)
        if failure is None:
            raise NotFoundError("no such failure")
        self._check_state(transfer, failure)
        new_code = None
        if failure.reason is Reason.WRONG_AUTH_CODE or (auth_code or "").strip():
            new_code = check_auth_code(auth_code)
        now = self.clock.now()
        if not self.store.claim_relaunch(transfer.id, number, by=who.user.id, how=how, now=now):
            raise LinkRefusedError(ALREADY_RELAUNCHED, 409)
        kept = self.store.auth_code(transfer.id)
        code = new_code or (self.box.decrypt_str(kept) if kept else None)
        try:
            self.registrar.relaunch(dataclasses.replace(transfer, status=Status.RELAUNCHED), code)
        except UpstreamError:
            self.store.release_relaunch(transfer.id, number, self.clock.now())
            raise
        if new_code is not None:
            self.store.set_auth_code(transfer.id, self.box.encrypt(new_code), now)
        self.record(EventTag.DOMAIN_TRANSFER_RELAUNCHED, who, ctx, {
            "domain": transfer.domain, "transfer": transfer.id, "failure": number, "how": how,
            "charged": False, "new_auth_code": new_code is not None,
        })
        relaunched = self.store.get(transfer.id)
        assert relaunched is not None  # noqa: S101 - claimed above
        return relaunched

    # -- the log ------------------------------------------------------------------------------

    def record(self, tag: EventTag, who: Acting, ctx: RequestContext, details: dict[str, object]) -> None:
        """One event in the organisation's log; by delegation, one in the partner's log too."""
        delegation = who.delegation
        extra = ({"partner_org": delegation.partner_org_id, "partnership": delegation.partnership_id}
                 if delegation else {})
        self.events.record_event(tag, ctx=ctx, user_id=who.user.id, actor_id=who.user.id, org_id=who.org.id,
                                 product=Product.DOMAINS, details=details | extra)
        if delegation is not None:
            self.events.record_event(
                tag, ctx=ctx, actor_id=who.user.id, org_id=delegation.partner_org_id, product=Product.DOMAINS,
                details=details | {"client_org": who.org.id, "partnership": delegation.partnership_id},
            )
