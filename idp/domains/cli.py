"""`idp domain`: domain transfers from the command line (an operator reports what a registrar
said by telephone or mail, or applies the file twin's result files)."""

from __future__ import annotations

import json
import sys

import click

from idp.capability import command_services
from idp.capability import friendly
from idp.domains import DOMAINS
from idp.domains.model import Reason
from idp.domains.model import parse_reason
from idp.domains.names import normalise_domain
from idp.domains.registrar import ReportError
from idp.domains.registrar import clean_detail
from idp.errors import NotFoundError
from idp.errors import ValidationError


def _domain(raw: str) -> str:
    try:
        return normalise_domain(raw)
    except ValidationError as exc:
        raise ValidationError(f"{raw!r} is not a domain name that can be transferred: {exc}") from None


@click.group("domain")
def domain_group() -> None:
    """Domain transfers: list them, report a failure or a completion, collect the registrar's results."""


@domain_group.command("list")
@click.option("--org", "org_slug", default=None, help="Only this organisation's transfers.")
@click.option("--json", "as_json", is_flag=True)
@friendly
def domain_list(org_slug: str | None, as_json: bool) -> None:
    """List transfers, the newest first (authorisation codes are never shown)."""
    with command_services() as container:
        service = container.get(DOMAINS)
        org_id = None
        if org_slug is not None:
            org = service.orgs.by_slug(org_slug.strip().lower())
            if org is None:
                raise NotFoundError(f"no organisation named {org_slug}")
            org_id = org.id
        views = service.views(service.store.transfers(org_id))
    rows = [{
        "id": v.transfer.id, "org_id": v.transfer.org_id, "domain": v.transfer.domain, "name": v.display_name,
        "status": v.transfer.status.value, "failures": v.transfer.failures,
        "fee": f"{v.transfer.fee.amount:.2f}" if v.transfer.fee else None,
        "currency": v.transfer.fee.currency if v.transfer.fee else None, "charged": v.transfer.fee_charged,
        "reason": v.failure.reason.value if v.failed and v.failure else None,
    } for v in views]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        fee = f"{row['currency']} {row['fee']}" if row["fee"] else "no fee"
        reason = f"  ({row['reason']})" if row["reason"] else ""
        click.echo(f"{row['id']:>5}  {row['status']:<11}  {row['name']:<30}  {fee}{reason}")


@domain_group.command("transfer-failed")
@click.argument("domain")
@click.option("--reason", "reason_code", required=True, type=click.Choice([r.value for r in Reason]),
              help="Why the registrar refused it.")
@click.option("--detail", default=None, help="The registrar's own words (needed with --reason other).")
@friendly
def transfer_failed(domain: str, reason_code: str, detail: str | None) -> None:
    """Report that the transfer of DOMAIN failed: its owners get an e-mail with a relaunch link."""
    from idp.account.service import CLI

    reason = parse_reason(reason_code)
    assert reason is not None  # noqa: S101 - click checked the choice
    try:
        text = clean_detail(detail)
    except ReportError as exc:
        raise ValidationError(str(exc)) from None
    if reason is Reason.OTHER and not text:
        raise ValidationError("--reason other needs --detail with the registrar's words")
    with command_services() as container:
        failure = container.get(DOMAINS).reports.fail(_domain(domain), reason, text, source="operator", ctx=CLI)
    click.echo(f"failure {failure.number} of {domain} recorded ({reason.value}); the owners are e-mailed")


@domain_group.command("transfer-completed")
@click.argument("domain")
@friendly
def transfer_completed(domain: str) -> None:
    """Report that the transfer of DOMAIN completed."""
    from idp.account.service import CLI

    with command_services() as container:
        transfer = container.get(DOMAINS).reports.complete(_domain(domain), source="operator", ctx=CLI)
    click.echo(f"the transfer of {transfer.domain} is completed")


@domain_group.command("poll")
@friendly
def poll() -> None:
    """Apply the result files the registrar (or a tester) left (registrar = "file")."""
    from idp.account.service import CLI

    with command_services() as container:
        collected = container.get(DOMAINS).reports.poll(CLI)
    for item in collected:
        click.echo(f"{'applied' if item.problem is None else 'refused'}  {item.name}"
                   + (f": {item.problem}" if item.problem else ""))
    if any(item.problem for item in collected):
        sys.exit(1)
