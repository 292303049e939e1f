"""`idp client ...` and `idp keys ...`: relying parties and signing keys, for people and scripts (--json)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from idp.capability import command_services
from idp.capability import friendly
from idp.oidc import OIDC
from idp.oidc import OidcExtension


@contextmanager
def _oidc() -> Iterator[OidcExtension]:
    with command_services() as container:
        yield container.get(OIDC)


def _split(values: tuple[str, ...]) -> list[str]:
    return [v for value in values for v in value.replace(",", " ").split() if v]


@click.group("client")
def client_group() -> None:
    """OpenID Connect clients (relying parties)."""


@client_group.command("create")
@click.argument("name")
@click.option("--kind", type=click.Choice(["confidential", "public", "service"]), default="confidential",
              show_default=True)
@click.option("--redirect-uri", "redirect_uris", multiple=True, help="Exact redirect URI (repeatable).")
@click.option("--post-logout-uri", "post_logout_uris", multiple=True, help="Post-logout redirect URI (repeatable).")
@click.option("--backchannel-uri", default=None, help="Back-channel logout URI.")
@click.option("--scope", "scopes", multiple=True, help="Allowed scopes (default: all OpenID scopes).")
@click.option("--grant-type", "grant_types", multiple=True,
              type=click.Choice(["authorization_code", "refresh_token", "client_credentials"]))
@click.option("--skip-consent", is_flag=True, help="First-party application: no consent page.")
@click.option("--always-refresh", is_flag=True, help="Issue refresh tokens without offline_access.")
@click.option("--access-token-lifetime", type=int, default=None)
@click.option("--refresh-token-lifetime", type=int, default=None)
@click.option("--id-token-alg", type=click.Choice(["RS256", "ES256"]), default="RS256", show_default=True)
@click.option("--client-id", default=None, help="Choose the client id (default: random).")
@click.option("--json", "as_json", is_flag=True)
@friendly
def client_create(name: str, kind: str, redirect_uris: tuple[str, ...], post_logout_uris: tuple[str, ...],
                  backchannel_uri: str | None, scopes: tuple[str, ...], grant_types: tuple[str, ...],
                  skip_consent: bool, always_refresh: bool, access_token_lifetime: int | None,
                  refresh_token_lifetime: int | None, id_token_alg: str, client_id: str | None,
                  as_json: bool) -> None:
    """Register a client; its secret is shown once."""
    from idp.oidc.clients import describe

    with _oidc() as oidc:
        client, secret = oidc.clients.create(
            name, kind=kind, redirect_uris=_split(redirect_uris),
            post_logout_redirect_uris=_split(post_logout_uris), backchannel_logout_uri=backchannel_uri,
            scopes=_split(scopes) or None, grant_types=list(grant_types) or None, skip_consent=skip_consent,
            always_refresh=always_refresh, access_token_lifetime=access_token_lifetime,
            refresh_token_lifetime=refresh_token_lifetime, id_token_alg=id_token_alg, client_id=client_id,
        )
    if as_json:
        click.echo(json.dumps(describe(client) | {"client_secret": secret}, indent=2))
        return
    click.echo(f"created client {client.client_id} ({client.kind})")
    if secret:
        click.echo(f"client secret (shown once): {secret}")


@client_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@friendly
def client_list(as_json: bool) -> None:
    """List clients."""
    from idp.oidc.clients import describe

    with _oidc() as oidc:
        clients = oidc.clients.all()
    if as_json:
        click.echo(json.dumps([describe(c) for c in clients], indent=2))
        return
    for c in clients:
        click.echo(f"{c.client_id:<28} {c.kind:<13} {c.name}")


@client_group.command("show")
@click.argument("client_id")
@click.option("--json", "as_json", is_flag=True)
@friendly
def client_show(client_id: str, as_json: bool) -> None:
    """Show one client (never its secret)."""
    from idp.oidc.clients import describe

    with _oidc() as oidc:
        data = describe(oidc.clients.find(client_id))
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    for key, value in data.items():
        click.echo(f"{key}: {value}")


@client_group.command("rotate-secret")
@click.argument("client_id")
@click.option("--json", "as_json", is_flag=True)
@friendly
def client_rotate_secret(client_id: str, as_json: bool) -> None:
    """Replace a client's secret (the old one stops working at once); the new one is shown once."""
    with _oidc() as oidc:
        secret = oidc.clients.rotate_secret(client_id)
    if as_json:
        click.echo(json.dumps({"client_id": client_id, "client_secret": secret}))
    else:
        click.echo(f"new client secret (shown once): {secret}")


@client_group.command("delete")
@click.argument("client_id")
@click.option("--json", "as_json", is_flag=True)
@friendly
def client_delete(client_id: str, as_json: bool) -> None:
    """Delete a client with its consents and refresh tokens."""
    with _oidc() as oidc:
        oidc.clients.delete(client_id)
    click.echo(json.dumps({"deleted": client_id}) if as_json else f"deleted client {client_id}")


@click.group("keys")
def keys_group() -> None:
    """Token signing keys."""


def _key_state(record: Any, now: Any) -> str:
    if record.retired_at is not None and record.retired_at <= now:
        return "retired"
    if record.activates_at > now:
        return "published"  # in the JWKS, signs from activates_at
    return "signing"


def _key_rows(oidc: Any) -> list[dict[str, Any]]:
    now = oidc.keys.clock.now()
    return [{"kid": r.kid, "alg": r.alg, "state": _key_state(r, now), "created_at": r.created_at.isoformat(),
             "activates_at": r.activates_at.isoformat(),
             "retired_at": r.retired_at.isoformat() if r.retired_at else None} for r in oidc.keys.records()]


@keys_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@friendly
def keys_list(as_json: bool) -> None:
    """Published keys: signing, published (signs from its activation time) or retired."""
    with _oidc() as oidc:
        oidc.keys.ensure()
        rows = _key_rows(oidc)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for r in rows:
        when = {"signing": "", "published": f" from {r['activates_at']}", "retired": f" since {r['retired_at']}"}
        click.echo(f"{r['kid']:<32} {r['alg']:<6} {r['state']}{when[r['state']]}")


@keys_group.command("rotate")
@click.option("--json", "as_json", is_flag=True)
@click.option("--immediately", is_flag=True,
              help="Sign with the new keys at once (a compromised key); relying parties with an older "
                   "JWKS must fetch it again.")
@friendly
def keys_rotate(as_json: bool, immediately: bool) -> None:
    """Publish new keys now; they sign once every cache has seen them, and the old keys retire
    then (published until `idp keys prune`)."""
    from idp.events import EventTag

    with _oidc() as oidc:
        retiring, switch = oidc.keys.rotate(immediately=immediately)
        oidc.service.events.record_event(
            EventTag.OIDC_KEYS_ROTATED, product="admin",
            details={"retired": retiring, "activates_at": switch.isoformat()},
        )
        rows = _key_rows(oidc)
    if as_json:
        click.echo(json.dumps({"retired": retiring, "activates_at": switch.isoformat(), "keys": rows}, indent=2))
    else:
        click.echo(f"published new keys; they sign from {switch.isoformat()}, "
                   f"when {', '.join(retiring) or 'nothing'} retire(s)")


@keys_group.command("prune")
@click.option("--json", "as_json", is_flag=True)
@friendly
def keys_prune(as_json: bool) -> None:
    """Drop retired keys whose tokens have all expired."""
    with _oidc() as oidc:
        dropped = oidc.keys.prune()
    click.echo(json.dumps({"pruned": dropped}) if as_json else f"pruned {len(dropped)} key(s)")

