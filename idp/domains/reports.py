"""What the registrar (through the webhook or its result files) and operators (`idp domain ...`)
report about a transfer: it failed, for a reason, and its owners are e-mailed a relaunch link;
it completed; it runs. Each report is a compare-and-set on the transfer's status, recorded once."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from contextlib import nullcontext
from dataclasses import dataclass

from idp.clock import Clock
from idp.domains.links import RelaunchLinks
from idp.domains.model import OPEN
from idp.domains.model import REASONS
from idp.domains.model import Failure
from idp.domains.model import Reason
from idp.domains.model import Status
from idp.domains.model import Transfer
from idp.domains.names import display_name
from idp.domains.ports import Organisations
from idp.domains.ports import TransferStore
from idp.domains.registrar import Registrar
from idp.domains.registrar import Report
from idp.domains.registrar import ReportError
from idp.domains.registrar import parse_report
from idp.domains.rights import MANAGERS
from idp.errors import ConflictError
from idp.errors import NotFoundError
from idp.errors import ValidationError
from idp.events import EventRecorder
from idp.events import EventTag
from idp.events import Product
from idp.mail import MailService
from idp.model import RequestContext
from idp.model import UserStatus

RELAUNCH_PATH = "/domains/relaunch/"


@dataclass(frozen=True)
class Collected:
    """One result file read by `poll`: applied (problem None) or refused, and why."""

    name: str
    problem: str | None


class Reports:
    def __init__(
        self, *, store: TransferStore, orgs: Organisations, registrar: Registrar, events: EventRecorder,
        mail: MailService, clock: Clock, links: RelaunchLinks, base_url: str, link_days: int,
        unit: Callable[[], AbstractContextManager[None]] = nullcontext,
    ) -> None:
        self.unit = unit
        self.store, self.orgs, self.registrar, self.events, self.mail = store, orgs, registrar, events, mail
        self.clock, self.links, self.base_url, self.link_days = clock, links, base_url.rstrip("/"), link_days

    def _open(self, domain: str) -> Transfer:
        transfer = self.store.open_by_domain(domain)
        if transfer is None:
            raise NotFoundError(f"no open transfer of {domain}")
        return transfer

    @staticmethod
    def _conflict(transfer: Transfer, what: str) -> ConflictError:
        return ConflictError(f"the transfer of {transfer.domain} has status {transfer.status.value}: "
                             f"it cannot be {what}")

    def fail(self, domain: str, reason: Reason, detail: str | None, *, source: str, ctx: RequestContext) -> Failure:
        """The open transfer of `domain` failed (`domains:transfer:failed`): a new numbered
        failure, and each legal representative and administrator of the organisation is
        e-mailed, in their language, the reason, what to do and a relaunch link for this
        failure. NotFoundError for a domain without an open transfer; ConflictError when no
        attempt is under way (it failed already, or completed)."""
        transfer = self._open(domain)
        # All or nothing: the failure is not recorded without its mails and its event.
        with self.unit():
            failure = self.store.add_failure(transfer.id, were=OPEN, reason=reason, detail=detail, source=source,
                                             now=self.clock.now())
            if failure is None:
                raise self._conflict(self.store.get(transfer.id) or transfer, "reported as failed")
            self._tell_owners(transfer, failure)
            self.events.record_event(EventTag.DOMAIN_TRANSFER_FAILED, ctx=ctx, org_id=transfer.org_id,
                                     product=Product.DOMAINS, details={
                                         "domain": transfer.domain, "transfer": transfer.id,
                                         "failure": failure.number, "reason": reason.value, "source": source,
                                     })
        return failure

    def _tell_owners(self, transfer: Transfer, failure: Failure) -> None:
        org = self.orgs.get(transfer.org_id)
        if org is None:
            return
        link = self.base_url + RELAUNCH_PATH + self.links.make(transfer.id, failure.number, transfer.org_id)
        text = REASONS[failure.reason]
        for user, role in self.orgs.members(org.id):
            if role in MANAGERS and user.status is UserStatus.ACTIVE:
                self.mail.queue_for(
                    user, "domains_transfer_failed", org_name=org.name, domain=display_name(transfer.domain),
                    reason=text.label, explanation=text.explanation, instructions=text.instructions,
                    detail=failure.detail, link=link, days=self.link_days,
                    asks_code=failure.reason is Reason.WRONG_AUTH_CODE,
                )

    def complete(self, domain: str, *, source: str, ctx: RequestContext) -> Transfer:
        """The open transfer of `domain` completed (`domains:transfer:completed`); its
        authorisation code is forgotten and the domain may be transferred again later."""
        transfer = self._open(domain)
        if not self.store.move(transfer.id, were=OPEN, to=Status.COMPLETED, now=self.clock.now()):
            raise self._conflict(self.store.get(transfer.id) or transfer, "completed")
        self.events.record_event(EventTag.DOMAIN_TRANSFER_COMPLETED, ctx=ctx, org_id=transfer.org_id,
                                 product=Product.DOMAINS, details={
                                     "domain": transfer.domain, "transfer": transfer.id, "source": source,
                                 })
        done = self.store.get(transfer.id)
        assert done is not None  # noqa: S101 - moved above
        return done

    def progress(self, domain: str) -> Transfer:
        """The registrar started the requested or relaunched transfer (no event: nothing was decided)."""
        transfer = self._open(domain)
        if transfer.status is not Status.IN_PROGRESS and not self.store.move(
            transfer.id, were=(Status.REQUESTED, Status.RELAUNCHED), to=Status.IN_PROGRESS, now=self.clock.now(),
        ):
            raise self._conflict(self.store.get(transfer.id) or transfer, "in progress")
        moved = self.store.get(transfer.id)
        assert moved is not None  # noqa: S101 - open above
        return moved

    def apply(self, report: Report, *, ctx: RequestContext) -> Transfer:
        """A registrar's report (the webhook's body or a result file, checked by parse_report)."""
        if report.status == "failed":
            assert report.reason is not None  # noqa: S101 - parse_report requires it
            self.fail(report.domain, report.reason, report.detail, source="registrar", ctx=ctx)
            transfer = self.store.open_by_domain(report.domain)
            assert transfer is not None  # noqa: S101 - a failed transfer stays open
            return transfer
        if report.status == "completed":
            return self.complete(report.domain, source="registrar", ctx=ctx)
        return self.progress(report.domain)

    def poll(self, ctx: RequestContext) -> list[Collected]:
        """Apply the reports the registrar left to collect (the file twin's result files), oldest
        first; each is acknowledged as applied or refused with its reason."""
        collected = []
        for delivered in self.registrar.pending_reports():
            problem = delivered.problem
            if problem is None:
                try:
                    self.apply(parse_report(delivered.payload), ctx=ctx)
                except (ReportError, ValidationError, NotFoundError, ConflictError) as exc:
                    problem = str(exc)
            self.registrar.acknowledge(delivered.name, problem)
            collected.append(Collected(delivered.name, problem))
        return collected
