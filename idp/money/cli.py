"""`idp money`: the operator's side of orders, payouts and prepaid balances."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import click

from idp.account.service import CLI
from idp.capability import command_services
from idp.capability import friendly
from idp.money import MONEY
from idp.money import Money
from idp.money.model import Order
from idp.money.model import OrderStatus
from idp.money.model import Payout
from idp.money.model import PayoutState


@contextmanager
def _money() -> Iterator[Money]:
    with command_services() as container:
        yield container.get(MONEY)


@click.group("money")
def money_group() -> None:
    """Orders, payouts and prepaid balances."""


def _order_line(order: Order) -> str:
    lines = ", ".join(f"{line.quantity} x {line.product_code}" for line in order.lines)
    return (f"order {order.id} ({order.reference}) org {order.org_id}: {order.currency.value} {order.total:.2f}"
            f" {order.status.value} by {order.method.value} [{lines}]")


def _payout_line(payout: Payout) -> str:
    return (f"payout {payout.id} org {payout.org_id}: {payout.currency.value} {payout.amount:.2f}"
            f" {payout.state.value} to {payout.method.value} {payout.destination_hint}")


@money_group.command("orders")
@click.option("--status", type=click.Choice([s.value for s in OrderStatus]), default=None,
              help="Only orders in this status (all without it).")
@click.option("--json", "as_json", is_flag=True)
@friendly
def orders(status: str | None, as_json: bool) -> None:
    """List orders, oldest first (awaiting_transfer: the transfers to look for)."""
    with _money() as money:
        found = money.orders.with_status(OrderStatus(status) if status else None)
    if as_json:
        click.echo(json.dumps([{
            "id": o.id, "reference": o.reference, "org_id": o.org_id, "currency": o.currency.value,
            "total": f"{o.total:.2f}", "status": o.status.value, "method": o.method.value,
            "transfer_sent": o.transfer_sent, "credited": o.credited_at is not None,
        } for o in found], indent=2))
        return
    for order in found:
        click.echo(_order_line(order))


@money_group.command("order-paid")
@click.argument("order_id", type=click.IntRange(1))
@friendly
def order_paid(order_id: int) -> None:
    """An order's bank transfer arrived: mark it paid (the partner's cashback is credited)."""
    with _money() as money:
        order = money.orders.mark_paid(order_id, CLI)
    click.echo(f"{_order_line(order)}; cashback {order.currency.value} {order.cashback:.2f}")


@money_group.command("order-cancel")
@click.argument("order_id", type=click.IntRange(1))
@click.option("--refund-to-balance", is_flag=True,
              help="Its transfer arrived: credit the amount to the paying organisation's prepaid balance.")
@friendly
def order_cancel(order_id: int, refund_to_balance: bool) -> None:
    """Cancel an order awaiting its transfer (or credit a cancelled one's transfer that arrived)."""
    with _money() as money:
        order = money.orders.operator_cancel(order_id, refund_to_balance, CLI)
    credited = f"; {order.currency.value} {order.total:.2f} credited to org {order.paying_org_id}" \
        if refund_to_balance else ""
    click.echo(_order_line(order) + credited)


@money_group.command("payouts")
@click.option("--state", type=click.Choice([s.value for s in PayoutState]), default=None)
@friendly
def payouts(state: str | None) -> None:
    """List payouts, oldest first (requested: those waiting for a decision)."""
    with _money() as money:
        for payout in money.payouts.in_state(PayoutState(state) if state else None):
            click.echo(_payout_line(payout))


@money_group.command("payout-approve")
@click.argument("payout_id", type=click.IntRange(1))
@friendly
def payout_approve(payout_id: int) -> None:
    """Approve a requested payout; prints where to send the money."""
    with _money() as money:
        payout = money.payouts.approve(payout_id, CLI)
        destination = money.payouts.destination(payout_id)
    click.echo(f"{_payout_line(payout)}\nsend {payout.currency.value} {payout.amount:.2f} to {destination}")


@money_group.command("payout-reject")
@click.argument("payout_id", type=click.IntRange(1))
@click.option("--reason", required=True, help="Told to the organisation's legal representatives.")
@friendly
def payout_reject(payout_id: int, reason: str) -> None:
    """Reject a payout; its amount goes back to the balance."""
    with _money() as money:
        payout = money.payouts.reject(payout_id, reason, CLI)
    click.echo(_payout_line(payout))


@money_group.command("payout-paid")
@click.argument("payout_id", type=click.IntRange(1))
@friendly
def payout_paid(payout_id: int) -> None:
    """The money of an approved payout was sent."""
    with _money() as money:
        payout = money.payouts.paid(payout_id, CLI)
    click.echo(_payout_line(payout))


@money_group.command("balance")
@click.argument("org_slug")
@friendly
def balance(org_slug: str) -> None:
    """An organisation's prepaid balance in each currency."""
    with _money() as money:
        for currency, amount in money.ledger.balance_of(org_slug).items():
            click.echo(f"{currency.value} {amount:.2f}")


@money_group.command("adjust")
@click.argument("org_slug")
@click.argument("currency")
@click.argument("amount")
@click.option("--debit", is_flag=True, help="Take the amount off (never below zero); without it, credit it.")
@click.option("--note", required=True, help="Why: kept in the ledger and the activity log.")
@friendly
def adjust(org_slug: str, currency: str, amount: str, debit: bool, note: str) -> None:
    """Correct an organisation's prepaid balance."""
    with _money() as money:
        entry = money.ledger.adjust(org_slug, currency, amount, debit=debit, note=note, ctx=CLI)
    click.echo(f"{entry.kind.value} {entry.currency.value} {entry.amount:.2f} ({entry.note})")
