"""What a domain transfer is: its status, its fee (an exact decimal, never a float), its numbered
failures and the reasons a registrar gives, each with what it means and what the owner must do."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from idp.errors import N_

Currency = Literal["CHF", "EUR"]
CENT = Decimal("0.01")


class Status(enum.StrEnum):
    REQUESTED = "requested"  # sent to the registrar, not started there yet
    IN_PROGRESS = "in_progress"  # the registrar says the transfer runs
    FAILED = "failed"  # the last attempt failed; the owners were told how to relaunch it
    RELAUNCHED = "relaunched"  # sent again after a failure, without a new fee
    COMPLETED = "completed"


# Statuses in which the registrar still owes an answer: a failure or a completion applies only here.
OPEN = frozenset({Status.REQUESTED, Status.IN_PROGRESS, Status.RELAUNCHED})

STATUS_NAMES = {
    Status.REQUESTED: N_("Requested"),
    Status.IN_PROGRESS: N_("In progress"),
    Status.FAILED: N_("Failed"),
    Status.RELAUNCHED: N_("Relaunched"),
    Status.COMPLETED: N_("Completed"),
}


class Reason(enum.StrEnum):
    """Why a registrar refused a transfer (the codes the webhook, the result files and
    `idp domain transfer-failed --reason` take)."""

    WRONG_AUTH_CODE = "wrong_auth_code"
    DOMAIN_LOCKED = "domain_locked"
    OWNER_REFUSED = "owner_refused"
    REGISTRY_TIMEOUT = "registry_timeout"
    OTHER = "other"


@dataclass(frozen=True)
class ReasonText:
    label: str
    explanation: str
    instructions: str


# N_-marked: pages and mails translate them in the reader's language.
REASONS: dict[Reason, ReasonText] = {
    Reason.WRONG_AUTH_CODE: ReasonText(
        N_("Wrong authorisation code"),
        N_("The current registrar did not accept the authorisation code (also called transfer or EPP code)."),
        N_("Ask the current registrar for the domain's authorisation code again, copy it without spaces, "
           "and give it when you relaunch the transfer."),
    ),
    Reason.DOMAIN_LOCKED: ReasonText(
        N_("Domain locked at the current registrar"),
        N_("The domain carries a transfer lock at its current registrar, which refuses every transfer."),
        N_("In the current registrar's control panel, remove the transfer lock (sometimes called "
           "\"registrar lock\" or \"transfer protection\"), then relaunch the transfer."),
    ),
    Reason.OWNER_REFUSED: ReasonText(
        N_("The owner refused the transfer"),
        N_("The domain's owner, as the registry knows them, answered no to the confirmation request."),
        N_("Check that the owner's address at the registry is right and that they expect the transfer, "
           "then relaunch it and ask them to accept the confirmation message."),
    ),
    Reason.REGISTRY_TIMEOUT: ReasonText(
        N_("The registry did not answer in time"),
        N_("The registry of the domain's extension did not answer before the deadline; nothing is wrong on your side."),
        N_("Relaunch the transfer; if it fails again for this reason, wait a few hours before the next try."),
    ),
    Reason.OTHER: ReasonText(
        N_("Another reason"),
        N_("The registrar refused the transfer for a reason of its own, quoted below."),
        N_("Do what the registrar's message asks, then relaunch the transfer. Contact us if it is unclear."),
    ),
}


def parse_reason(raw: str) -> Reason | None:
    try:
        return Reason(raw.strip().lower())
    except ValueError:
        return None


@dataclass(frozen=True)
class Fee:
    """The transfer fee: an exact amount to the cent, in CHF or EUR."""

    amount: Decimal
    currency: Currency

    def __str__(self) -> str:
        return f"{self.currency} {self.amount:.2f}"


@dataclass(frozen=True)
class Transfer:
    id: int
    org_id: int
    domain: str  # the ASCII (IDNA) form
    status: Status
    fee: Fee | None  # None: the catalogue has no transfer product, nothing was charged
    fee_charged: bool
    charged_at: dt.datetime | None
    failures: int  # how many failures were reported; the last one's number
    requested_by: int | None
    created_at: dt.datetime
    updated_at: dt.datetime
    completed_at: dt.datetime | None = None


@dataclass(frozen=True)
class Failure:
    """One reported failure of a transfer, numbered from 1: a relaunch link names one of them."""

    transfer_id: int
    number: int
    reason: Reason
    detail: str | None  # the registrar's (or operator's) own words
    source: str  # "registrar" or "operator"
    created_at: dt.datetime
    resolved_at: dt.datetime | None = None
    resolved_how: str | None = None  # "link" or "page"
    resolved_by: int | None = None


@dataclass(frozen=True)
class TransferView:
    """A transfer as its page shows it: with its last failure while it is failed."""

    transfer: Transfer
    failure: Failure | None
    display_name: str  # the Unicode form of an internationalised name

    @property
    def failed(self) -> bool:
        return self.transfer.status is Status.FAILED and self.failure is not None

    @property
    def asks_auth_code(self) -> bool:
        return self.failed and self.failure is not None and self.failure.reason is Reason.WRONG_AUTH_CODE
