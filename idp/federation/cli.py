"""`idp sso`: single sign-on connections of organisations, from the command line."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click

from idp.account.service import AccountService
from idp.capability import command_services
from idp.capability import friendly
from idp.errors import IdpError
from idp.federation import FEDERATION
from idp.federation.service import FederationService


@contextmanager
def _service() -> Iterator[tuple[AccountService, FederationService]]:
    with command_services() as container:
        yield container.accounts, container.get(FEDERATION)


@click.group("sso")
def sso_group() -> None:
    """Single sign-on connections (Entra ID, OpenID Connect)."""


@sso_group.command("add")
@click.argument("org_slug")
@click.option("--kind", type=click.Choice(["entra", "oidc"]), default="entra", show_default=True)
@click.option("--name", required=True, help="What members see, e.g. \"Contoso Entra ID\".")
@click.option("--tenant", "tenant_id", default="", help="Entra ID tenant id (GUID).")
@click.option("--issuer", default="", help="OpenID Connect issuer URL (https).")
@click.option("--client-id", required=True)
@click.option("--secret-stdin", is_flag=True, help="Read the client secret from standard input.")
@click.option("--cert-key", type=click.Path(exists=True, dir_okay=False), default=None,
              help="PEM private key of the certificate credential (Entra ID).")
@click.option("--cert-thumbprint", default="", help="SHA-1 thumbprint of that certificate.")
@click.option("--domain", "domains", multiple=True, required=True, help="An e-mail domain (repeatable).")
@click.option("--jit/--no-jit", default=False, show_default=True, help="Create unknown members on first sign-in.")
@click.option("--role", type=click.Choice(["collaborator", "admin"]), default="collaborator", show_default=True)
@click.option("--sso-only", is_flag=True, help="Refuse passwords for these domains.")
@friendly
def sso_add(
    org_slug: str, kind: str, name: str, tenant_id: str, issuer: str, client_id: str, secret_stdin: bool,
    cert_key: str | None, cert_thumbprint: str, domains: tuple[str, ...], jit: bool, role: str, sso_only: bool,
) -> None:
    """Add a connection to an organisation."""
    from pathlib import Path

    from idp.account.service import CLI
    from idp.federation.service import ConnectionInput

    secret = sys.stdin.readline().strip() if secret_stdin else None
    with _service() as (accounts, service):
        saved = service.save_connection(accounts.org(org_slug), ConnectionInput(
            kind=kind, name=name, client_id=client_id, domains=",".join(domains), tenant_id=tenant_id,
            issuer=issuer, client_secret=secret, cert_key=Path(cert_key).read_text() if cert_key else None,
            cert_thumbprint=cert_thumbprint, jit_enabled=jit, jit_role=role, password_allowed=not sso_only,
        ), ctx=CLI)
    click.echo(f"added connection {saved.id} ({saved.name}) for {', '.join(saved.domains)}")


@sso_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@friendly
def sso_list(as_json: bool) -> None:
    """List every connection (secrets are never shown)."""
    with _service() as (_accounts, service):
        rows = service.all_connections()
    if as_json:
        click.echo(json.dumps([{
            "id": c.id, "org_id": c.org_id, "kind": c.kind, "name": c.name, "tenant_id": c.tenant_id,
            "issuer": c.issuer, "client_id": c.client_id, "domains": list(c.domains), "jit": c.jit_enabled,
            "jit_role": c.jit_role, "password_allowed": c.password_allowed, "enabled": c.enabled,
        } for c in rows], indent=2))
        return
    for c in rows:
        state = "on " if c.enabled else "off"
        where = c.tenant_id or c.issuer
        click.echo(f"{c.id:>4}  {state}  {c.kind:<5}  {c.name}  [{', '.join(c.domains)}]  {where}")


@sso_group.command("test")
@click.argument("connection_id", type=int)
@friendly
def sso_test(connection_id: int) -> None:
    """Run discovery against the directory and say what is wrong, if anything."""
    from idp.account.service import CLI

    with _service() as (_accounts, service):
        checks = service.test_connection(service.connection(connection_id), ctx=CLI)
    for check in checks:
        text = check.message % check.params if check.params else check.message
        click.echo(f"{'ok     ' if check.ok else 'PROBLEM'}  {text}")
    if not all(c.ok for c in checks):
        sys.exit(1)


@sso_group.command("disable")
@click.argument("connection_id", type=int)
@friendly
def sso_disable(connection_id: int) -> None:
    """Turn a connection off: its domains can no longer sign in through it."""
    from idp.account.service import CLI

    with _service() as (_accounts, service):
        try:
            connection = service.connection(connection_id)
        except IdpError as exc:
            raise click.ClickException(str(exc)) from None
        service.set_enabled(connection, False, ctx=CLI)
    click.echo(f"connection {connection.id} ({connection.name}) is off")

