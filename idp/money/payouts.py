"""Payouts of the prepaid balance to a bank account (IBAN) or a PayPal address: asked for by a
legal representative in person (never by a partner acting for the client), decided by an
operator. The amount is debited when asked for, so that a payout never exceeds the balance,
and credited back when it is rejected or withdrawn; the legal representatives get a mail at
each step, and each step is in the activity log."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from contextlib import AbstractContextManager
from decimal import Decimal
from typing import Any
from typing import Protocol

from idp.account.org_rules import OrgForbiddenError
from idp.clock import Clock
from idp.errors import N_
from idp.errors import ConflictError
from idp.errors import NotFoundError
from idp.errors import ValidationError
from idp.events import EventTag
from idp.model import RequestContext
from idp.money.access import BillingAccess
from idp.money.access import Caller
from idp.money.amounts import parse_amount
from idp.money.destinations import Destination
from idp.money.destinations import parse_destination
from idp.money.destinations import shown
from idp.money.model import BalanceTooLowError
from idp.money.model import EntryKind
from idp.money.model import Payout
from idp.money.model import PayoutState
from idp.money.model import Reason
from idp.money.ports import Box
from idp.money.ports import LedgerStore
from idp.money.ports import PayoutStore
from idp.money.pricing import Currency

MAX_REASON = 300
STEP_TAGS = {
    PayoutState.REQUESTED: EventTag.MONEY_PAYOUT_REQUESTED,
    PayoutState.WITHDRAWN: EventTag.MONEY_PAYOUT_WITHDRAWN,
    PayoutState.APPROVED: EventTag.MONEY_PAYOUT_APPROVED,
    PayoutState.REJECTED: EventTag.MONEY_PAYOUT_REJECTED,
    PayoutState.PAID: EventTag.MONEY_PAYOUT_PAID,
}


class Mail(Protocol):
    def queue_for(self, user: Any, template: str, **values: Any) -> int: ...


class PayoutService:
    def __init__(
        self, *, payouts: PayoutStore, ledger: LedgerStore, access: BillingAccess, box: Box, mail: Mail,
        clock: Clock, unit: Callable[[], AbstractContextManager[None]], max_amount: Decimal,
    ) -> None:
        self.payouts, self.ledger, self.access, self.box, self.mail = payouts, ledger, access, box, mail
        self.clock, self.unit, self.max_amount = clock, unit, max_amount

    def history(self, caller: Caller) -> list[Payout]:
        return self.payouts.of_org(caller.org.id)

    def balances(self, caller: Caller) -> dict[Currency, Decimal]:
        return {c: Decimal("0.00") for c in Currency} | self.ledger.balances(caller.org.id)

    @staticmethod
    def _in_person(caller: Caller) -> None:
        if not caller.may_request_payouts:
            raise OrgForbiddenError(N_("Only a legal representative of the organisation asks for payouts."))

    def request(
        self, caller: Caller, *, amount: str | None, currency: str | None, method: str | None, iban: str | None,
        paypal: str | None, ctx: RequestContext,
    ) -> tuple[Payout, Destination]:
        """Ask for a payout. The amount is checked against the balance and debited under the
        account's lock, with the payout's row, in one transaction: two requests at once can never
        both take the same money."""
        self._in_person(caller)
        try:
            cur = Currency((currency or "").strip())
        except ValueError as exc:
            raise ValidationError(N_("Choose CHF or EUR."), field="currency") from exc
        value = parse_amount(amount, maximum=self.max_amount)
        destination = parse_destination(method, iban, paypal)
        now = self.clock.now()
        try:
            with self.unit():
                payout = self.payouts.add(
                    org_id=caller.org.id, currency=cur, amount=value, method=destination.method,
                    destination_encrypted=self.box.encrypt(destination.value), destination_hint=destination.hint,
                    requested_by=caller.user.id, now=now,
                )
                self.ledger.append(
                    org_id=caller.org.id, currency=cur, kind=EntryKind.DEBIT, amount=value, reason=Reason.PAYOUT,
                    reference=f"payout:{payout.id}", note=None, actor_id=caller.user.id, now=now,
                )
                self.access.record(EventTag.MONEY_PAYOUT_REQUESTED, ctx, caller, _details(payout))
                self._tell(payout)
        except BalanceTooLowError as exc:
            raise ValidationError(
                N_("The payout is more than the balance (%(balance)s %(currency)s)."), field="amount",
                balance=f"{self.ledger.balance(caller.org.id, cur):.2f}", currency=cur.value,
            ) from exc
        return payout, destination

    def withdraw(self, caller: Caller, payout_id: int, ctx: RequestContext) -> Payout:
        """The organisation takes back a request no operator has decided yet."""
        self._in_person(caller)
        stored = self.payouts.get(payout_id)
        if stored is None or stored.payout.org_id != caller.org.id:
            raise NotFoundError("no such payout")
        if stored.payout.state is not PayoutState.REQUESTED:
            raise ValidationError(N_("Only a payout no one has decided yet can be withdrawn."))
        with self.unit():
            payout = self._move(stored.payout, PayoutState.REQUESTED, PayoutState.WITHDRAWN, credit=True,
                                actor_id=caller.user.id)
            self.access.record(EventTag.MONEY_PAYOUT_WITHDRAWN, ctx, caller, _details(payout))
            self._tell(payout)
        return payout

    # -- the operator's acts (idp money payout-...) -------------------------------------------------

    def in_state(self, state: PayoutState | None) -> list[Payout]:
        return self.payouts.in_state(state)

    def destination(self, payout_id: int) -> str:
        """The full IBAN or address, for the operator who sends the money."""
        stored = self._get(payout_id)
        return shown(stored.payout.method, self.box.decrypt_str(stored.destination_encrypted))

    def approve(self, payout_id: int, ctx: RequestContext) -> Payout:
        return self._decide(payout_id, (PayoutState.REQUESTED,), PayoutState.APPROVED, ctx)

    def reject(self, payout_id: int, reason: str, ctx: RequestContext) -> Payout:
        """Refuse a requested (or approved, not yet paid) payout; the amount goes back to the balance."""
        reason = " ".join(reason.split())
        if not reason or len(reason) > MAX_REASON:
            raise ValidationError(N_("Say why, in 1 to %(max)s characters."), field="reason", max=MAX_REASON)
        return self._decide(payout_id, (PayoutState.REQUESTED, PayoutState.APPROVED), PayoutState.REJECTED, ctx,
                            reason=reason)

    def paid(self, payout_id: int, ctx: RequestContext) -> Payout:
        return self._decide(payout_id, (PayoutState.APPROVED,), PayoutState.PAID, ctx)

    def _get(self, payout_id: int) -> Any:
        stored = self.payouts.get(payout_id)
        if stored is None:
            raise NotFoundError(f"no payout {payout_id}")
        return stored

    def _decide(
        self, payout_id: int, starts: tuple[PayoutState, ...], state: PayoutState, ctx: RequestContext,
        reason: str | None = None,
    ) -> Payout:
        payout: Payout = self._get(payout_id).payout
        if payout.state not in starts:
            raise ConflictError(f"payout {payout_id} is {payout.state.value}; it cannot become {state.value}")
        with self.unit():
            payout = self._move(payout, payout.state, state, credit=state is PayoutState.REJECTED, reason=reason)
            self.access.record_operator(STEP_TAGS[state], ctx, payout.org_id,
                                        _details(payout) | ({"reason": reason} if reason else {}))
            self._tell(payout)
        return payout

    def _move(
        self, payout: Payout, was: PayoutState, state: PayoutState, *, credit: bool, actor_id: int | None = None,
        reason: str | None = None,
    ) -> Payout:
        now = self.clock.now()
        values: dict[str, Any] = {"paid_at": now} if state is PayoutState.PAID else {"decided_at": now}
        if reason is not None:
            values["reason"] = reason
        if not self.payouts.change(payout.id, was=was, state=state, **values):
            raise ConflictError(f"payout {payout.id} changed meanwhile")
        if credit:
            self.ledger.append(
                org_id=payout.org_id, currency=payout.currency, kind=EntryKind.CREDIT, amount=payout.amount,
                reason=Reason.PAYOUT, reference=f"payout:{payout.id}", note=reason, actor_id=actor_id, now=now,
            )
        return dataclasses.replace(payout, state=state, **values)

    def _tell(self, payout: Payout) -> None:
        """A mail to each legal representative of the organisation about this step."""
        org = self.access.org(payout.org_id)
        for person in self.access.legal_representatives(payout.org_id):
            self.mail.queue_for(
                person, "money_payout", step=payout.state.value, org_name=org.name if org else "",
                amount=f"{payout.amount:.2f}", currency=payout.currency.value, destination=payout.destination_hint,
                reason=payout.reason or "", payout_id=payout.id,
            )


def _details(payout: Payout) -> dict[str, object]:
    return {"payout_id": payout.id, "amount": f"{payout.amount:.2f}", "currency": payout.currency.value,
            "method": payout.method.value, "destination": payout.destination_hint}
