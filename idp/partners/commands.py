"""`idp org set-partner`, `idp org unset-partner` and `idp partners sweep | list`."""

from __future__ import annotations

import click

from idp.account.service import CLI
from idp.capability import command_services
from idp.capability import friendly
from idp.partners import PARTNERS

# Joins the foundation's `idp org` group (idp.cli adds a capability's subcommands to a group of
# the same name).
org_group = click.Group("org", help="Organisations and their members.")
partners_group = click.Group("partners", help="Partner organisations and the clients they manage.")


def _set(slug: str, on: bool) -> None:
    with command_services() as container:
        org, changed, ended = container.get(PARTNERS).lifecycle.set_partner(slug, on, CLI)
    if on:
        click.echo(f"{org.slug} is a partner" + ("" if changed else " already"))
        return
    if not changed:
        click.echo(f"{org.slug} was not a partner")
        return
    click.echo(f"{org.slug} is no longer a partner; {ended} partnership(s) ended")


@org_group.command("set-partner")
@click.argument("slug")
@click.option("--off", is_flag=True, help="Make it no longer a partner (as unset-partner).")
@friendly
def set_partner(slug: str, off: bool) -> None:
    """Make an organisation a partner: its legal representatives may then add clients."""
    _set(slug, not off)


@org_group.command("unset-partner")
@click.argument("slug")
@friendly
def unset_partner(slug: str) -> None:
    """Make an organisation no longer a partner: its partnerships end, its pending requests are withdrawn."""
    _set(slug, False)


@partners_group.command("sweep")
@friendly
def sweep() -> None:
    """Renew the partnerships past their end that renew; mark and e-mail the others expired.
    Run it from cron or a systemd timer (docs/production.md); running it twice does nothing more."""
    with command_services() as container:
        report = container.get(PARTNERS).lifecycle.sweep()
    click.echo(f"{report.renewed} partnership(s) renewed, {report.expired} expired")


@partners_group.command("list")
@click.argument("slug")
@friendly
def list_clients(slug: str) -> None:
    """The partnerships of a partner organisation (tab-separated)."""
    with command_services() as container:
        rows = container.get(PARTNERS).operator_list(slug)
    for p, status, until in rows:
        access = "full" if p.full else ",".join(sorted(r.value for r in p.rights))
        click.echo(f"{p.client_slug}\t{status}\t{access}\t{'partner' if p.payer_is_partner else 'client'}\t"
                   f"{until.isoformat(timespec='seconds')}")
