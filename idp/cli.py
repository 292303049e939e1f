"""The `idp` command: initialise an instance, serve it, manage the database, people and organisations."""

from __future__ import annotations

import json
import secrets
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

import click
from cryptography.fernet import Fernet

from idp.capability import CommandServices
from idp.capability import friendly
from idp.errors import SettingsError
from idp.model import Role
from idp.settings import Settings
from idp.settings import config_file_path
from idp.settings import instance_path_from_env
from idp.settings import load_settings

if TYPE_CHECKING:
    from idp.container import Container

DEMO_ORG = ("demo", "Demo Organisation")
DEMO_EMAIL = "demo@example.com"


def _container(**overrides: Any) -> Container:
    from idp.container import Container

    return Container.build(load_settings(**overrides))


@contextmanager
def _with_capabilities() -> Iterator[Container]:
    """Every capability's services, without the web application: what capability commands use
    (`idp.capability.command_services`)."""
    from idp import capabilities
    from idp.container import Container

    container = Container.build(load_settings(), capabilities=capabilities())
    try:
        yield container
    finally:
        container.close()


def _write_instance_config(instance: Path, *, force: bool = False) -> Path:
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / "idp.toml"
    if path.exists() and not force:
        return path
    path.write_text(
        "# Instance configuration written by `idp init`. Every setting is described in\n"
        "# config/idp.example.toml; IDP_* environment variables override this file.\n"
        f'secret_key = "{secrets.token_urlsafe(48)}"\n'
        "# Encrypts secrets at rest (TOTP seeds, client secrets, private keys). Keep it with backups.\n"
        f'encryption_keys = "{Fernet.generate_key().decode()}"\n'
    )
    path.chmod(0o600)
    return path


def _initialise(force: bool = False) -> Settings:
    instance = instance_path_from_env()
    if config_file_path() is None or force:
        written = _write_instance_config(instance, force=force)
        click.echo(f"wrote {written}")
    settings = load_settings()
    settings.instance_path.mkdir(parents=True, exist_ok=True)
    from idp.stores.migrate import upgrade

    upgrade(settings.database_url)
    return settings


@click.group()
@click.pass_context
def main(ctx: click.Context) -> None:
    """Identity provider and account-security service."""
    ctx.obj = CommandServices(_with_capabilities)


@main.command()
@click.option("--force", is_flag=True, help="Replace an existing instance config (new secrets).")
@friendly
def init(force: bool) -> None:
    """Write an instance config with fresh secrets and create or upgrade the database."""
    settings = _initialise(force)
    click.echo(f"instance ready in {settings.instance_path.resolve()}")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--demo", is_flag=True, help="Create a demo organisation and account, print the credentials.")
@friendly
def serve(host: str, port: int, demo: bool) -> None:
    """Run the embedded default: SQLite + in-process store, one process (not for production)."""
    from werkzeug.serving import run_simple

    from idp import create_app

    settings = _initialise()
    # A loopback or wildcard address is shown as `localhost`: WebAuthn refuses an IP address as
    # relying-party id, so passkeys work only on a name.
    local = host in ("0.0.0.0", "::", "", "127.0.0.1", "localhost", "::1")  # noqa: S104 - recognising it, not binding
    shown = "localhost" if local else f"[{host}]" if ":" in host else host
    if "base_url" not in settings.server.model_fields_set:
        # Unconfigured public URL: the address being served is the one people and the demo
        # application reach, so links, the OIDC issuer and the WebAuthn origin must name it.
        server = settings.server.model_copy(update={"base_url": f"http://{shown}:{port}"})
        settings = settings.model_copy(update={"server": server})
    if settings.redis.embedded and host not in ("127.0.0.1", "localhost", "::1"):
        click.echo("note: the embedded store keeps sessions in this process only", err=True)
    app = create_app(settings)
    if demo:
        _seed_demo(app.extensions["idp"], shown, port)
    run_simple(host, port, app, threaded=True, use_reloader=False)


def _seed_demo(container: Container, host: str, port: int) -> None:
    accounts = container.accounts
    password = secrets.token_urlsafe(12)
    org = container.accounts.orgs.by_slug(DEMO_ORG[0]) or accounts.create_org(*DEMO_ORG)
    user = container.users.by_email(DEMO_EMAIL)
    if user is None:
        user = accounts.create_user(DEMO_EMAIL, password, display_name="Demo Person")
    else:
        user = accounts.set_password(user, password)
    accounts.add_member(org, user, Role.ADMIN)
    click.echo(
        f"\n  demo organisation: {org.name}\n  demo account:      {DEMO_EMAIL}\n"
        f"  demo password:     {password}\n  sign in at:        http://{host}:{port}/login\n"
    )
    from idp.oidc.demo import announce

    click.echo(announce(container, host, port))


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@friendly
def db_upgrade() -> None:
    """Apply every pending migration (SQLite or PostgreSQL)."""
    from idp.stores.migrate import current
    from idp.stores.migrate import upgrade

    settings = load_settings(require_secret=False)
    settings.instance_path.mkdir(parents=True, exist_ok=True)
    upgrade(settings.database_url)
    click.echo(f"database at revision {current(settings.database_url)}")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


@main.group()
def user() -> None:
    """People's accounts."""


@user.command("create")
@click.argument("email")
@click.option("--name", default="", help="Display name.")
@click.option("--locale", type=click.Choice(["en", "fr"]), default=None)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--no-password", is_flag=True, help="No password (SSO only, or set later).")
@friendly
def user_create(email: str, name: str, locale: str | None, password_stdin: bool, no_password: bool) -> None:
    """Create an account."""
    container = _container()
    password = None if no_password else _read_password(password_stdin)
    created = container.accounts.create_user(email, password, display_name=name, locale=locale)
    click.echo(f"created {created.email} (id {created.id})")


@user.command("list")
@click.option("--json", "as_json", is_flag=True)
@friendly
def user_list(as_json: bool) -> None:
    """List accounts."""
    users = _container().users.page(limit=10_000)
    if as_json:
        click.echo(json.dumps([
            {"id": u.id, "email": u.email, "name": u.display_name, "status": u.status.value,
             "locked": u.locked_at is not None} for u in users
        ], indent=2))
        return
    for u in users:
        flags = " locked" if u.locked_at else ""
        click.echo(f"{u.id:>6}  {u.status.value:<8}{flags:<7}  {u.email}  ({u.display_name})")


@user.command("disable")
@click.argument("email")
@friendly
def user_disable(email: str) -> None:
    """Disable an account and end its sessions."""
    accounts = _container().accounts
    target = accounts.find(email)
    ended = accounts.disable(target)
    click.echo(f"disabled {target.email}; {ended} session(s) ended")


@user.command("delete")
@click.argument("email")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@friendly
def user_delete(email: str, yes: bool) -> None:
    """Delete an account at once, by the same rules as its owner's deletion page (refused while it
    is the only member, or the only legal representative, of an organisation)."""
    from idp.account.service import CLI

    with _with_capabilities() as container:
        target = container.accounts.find(email)
        if not yes:
            click.confirm(f"Delete {target.email} for good?", abort=True)
        container.deletion.delete(target, ctx=CLI)
        click.echo(f"deleted {target.email}")


@user.command("enable")
@click.argument("email")
@friendly
def user_enable(email: str) -> None:
    """Enable a disabled account."""
    accounts = _container().accounts
    target = accounts.find(email)
    accounts.enable(target)
    click.echo(f"enabled {target.email}")


@user.command("set-password")
@click.argument("email")
@click.option("--password-stdin", is_flag=True)
@friendly
def user_set_password(email: str, password_stdin: bool) -> None:
    """Set an account's password and end its sessions."""
    accounts = _container().accounts
    target = accounts.find(email)
    accounts.reset_password(target, _read_password(password_stdin))
    click.echo(f"password set for {target.email}")


@user.command("unlock")
@click.argument("email")
@friendly
def user_unlock(email: str) -> None:
    """Unlock an account locked after failed sign-ins."""
    container = _container()
    from idp.account.service import CLI

    target = container.accounts.find(email)
    done = container.lockout.unlock(target, CLI, actor_id=None, how="cli")
    click.echo(f"unlocked {target.email}" if done else f"{target.email} was not locked")


@user.command("prune-pending")
@friendly
def user_prune_pending() -> None:
    """Delete the accounts signed up but never confirmed (7 x signup.link_ttl after signing up)."""
    removed = _container().signup.prune_pending()
    click.echo(f"{removed} unconfirmed account(s) deleted")


@main.group()
def org() -> None:
    """Organisations and their members."""


@org.command("create")
@click.argument("slug")
@click.option("--name", default="", help="Display name (defaults to the short name).")
@friendly
def org_create(slug: str, name: str) -> None:
    """Create an organisation with a short name (letters, digits, dashes)."""
    created = _container().accounts.create_org(slug, name)
    click.echo(f"created organisation {created.slug} ({created.name})")


@org.command("add-member")
@click.argument("slug")
@click.argument("email")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.COLLABORATOR.value, show_default=True)
@friendly
def org_add_member(slug: str, email: str, role: str) -> None:
    """Add a person to an organisation, or change their role there."""
    container = _container()
    organisation = container.accounts.org(slug)
    member = container.accounts.find(email)
    container.accounts.add_member(organisation, member, Role(role))
    click.echo(f"{member.email} is {role} of {organisation.slug}")


@main.group()
def mail() -> None:
    """The mail outbox."""


@mail.command("deliver")
@friendly
def mail_deliver() -> None:
    """Send every due message once and exit."""
    sent = _container().outbox.deliver_due()
    click.echo(f"{sent} message(s) sent")


@mail.command("worker")
@click.option("--interval", default=5.0, show_default=True, type=click.FloatRange(0.5, 3600))
@friendly
def mail_worker(interval: float) -> None:
    """Deliver the outbox continuously (when web processes run with background delivery off)."""
    _container().outbox.run_forever(interval)


# Command groups of the capabilities (`idp client`, `idp keys`, `idp sso` ...), as each
# capability declares them. A capability's group named like one of the foundation's (`org`)
# adds its subcommands to it: `idp org set-partner`.
def _add_capability_commands() -> None:
    from idp import capabilities

    for capability in capabilities():
        for command in capability.commands:
            existing = main.commands.get(command.name or "")
            if isinstance(existing, click.Group) and isinstance(command, click.Group):
                for name, sub in command.commands.items():
                    if name in existing.commands:
                        raise RuntimeError(f"`idp {existing.name} {name}` is declared twice")
                    existing.add_command(sub, name)
                continue
            main.add_command(command)


_add_capability_commands()


def run() -> None:  # pragma: no cover - console entry for `python -m idp.cli`
    try:
        main()
    except SettingsError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)


if __name__ == "__main__":  # pragma: no cover
    run()
