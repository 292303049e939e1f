"""The OpenID Provider's declaration: its composition root."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from flask import Flask
from flask_babel import lazy_gettext

from idp.account.deletion import AccountEraser
from idp.capability import DELEGATED_ACCESS
from idp.capability import REVOKE_GRANTS
from idp.capability import Capability
from idp.capability import Offer
from idp.errors import N_
from idp.foundation.review import ReviewItem
from idp.foundation.sessions import BrowserSession
from idp.model import RequestContext
from idp.model import User
from idp.oidc import OIDC
from idp.oidc import OidcExtension
from idp.oidc import server as server_mod
from idp.oidc import views
from idp.oidc.cli import client_group
from idp.oidc.cli import keys_group
from idp.oidc.clients import ClientService
from idp.oidc.demo import bp as demo_bp
from idp.oidc.keys import KeyService
from idp.oidc.logout import BackchannelLogout
from idp.oidc.pages import pages
from idp.oidc.service import OidcService
from idp.oidc.tokens import TokenService
from idp.stores.oidc import RedisOidcStore
from idp.stores.oidc import SqlClientStore
from idp.stores.oidc import SqlConsentStore
from idp.stores.oidc import SqlKeyStore
from idp.stores.oidc import SqlRefreshTokenStore
from idp.stores.oidc import SqlSubjects
from idp.stores.redis import Keys
from idp.web.nav import NavEntry

if TYPE_CHECKING:
    from idp.container import Container


def build(container: Container) -> OidcExtension:
    """The OIDC services from the container (no Flask; the commands use them as they are)."""
    settings = container.settings
    conf = settings.oidc
    issuer = conf.issuer or settings.server.base_url
    db, clock, events = container.db, container.clock, container.events
    redis_store = RedisOidcStore(container.redis, Keys(settings.redis.key_prefix))
    clients = ClientService(SqlClientStore(db), events, clock)
    keys = KeyService(
        SqlKeyStore(db), container.secrets, clock, algorithms=list(conf.signing_algorithms),
        rsa_size=conf.rsa_key_size, cache_seconds=conf.key_cache_seconds,
        max_token_lifetime=max(conf.id_token_lifetime, conf.access_token_lifetime),
    )
    tokens = TokenService(
        issuer=issuer, keys=keys, clock=clock, refresh_tokens=SqlRefreshTokenStore(db), redis=redis_store,
        base_url=settings.server.base_url, access_lifetime=conf.access_token_lifetime,
        id_lifetime=conf.id_token_lifetime, refresh_lifetime=conf.refresh_token_lifetime,
    )
    subjects = SqlSubjects(db)
    service = OidcService(
        issuer=issuer, clients=clients, keys=keys, tokens=tokens, consents=SqlConsentStore(db),
        redis=redis_store, events=events, clock=clock, users=container.users,
        code_lifetime=conf.authorization_code_lifetime, request_ttl=settings.session.signin_flow_ttl * 2,
        session_lifetime=settings.session.absolute_lifetime, unit=db.unit, subjects=subjects,
    )
    backchannel = BackchannelLogout(
        tokens=tokens, clients=clients, redis=redis_store, users=container.users, events=events,
        timeout=conf.backchannel_timeout, inline=settings.testing,
    )
    return OidcExtension(
        issuer=issuer, algorithms=list(keys.algorithms), service=service, clients=clients,
        keys=keys, tokens=tokens, subjects=subjects, backchannel=backchannel,
        trusted_proxies=settings.server.trusted_proxies,
    )


def _init_flask(oidc: OidcExtension, app: Flask) -> None:
    oidc.server = server_mod.build(app, oidc.service)
    setting = "oidc.issuer" if app.extensions["idp"].settings.oidc.issuer else "server.base_url"
    server_mod.warn_if_insecure(oidc.issuer, setting)


def _session_ended(oidc: OidcExtension) -> list[Callable[[BrowserSession], None]]:
    return [oidc.backchannel.session_ended]


def _offers(oidc: OidcExtension) -> list[Offer]:
    # The compromised-password wizard withdraws every application's access.
    return [REVOKE_GRANTS.offer(oidc.revoke_all_grants)]


def _connect(oidc: OidcExtension, container: Container) -> None:
    # A grant made while its person acted for a client stands while the delegation does.
    oidc.service.delegated_access = container.find(DELEGATED_ACCESS)
    oidc.service.org_by_slug = container.organisations.orgs.by_slug


def _erasers(oidc: OidcExtension) -> list[AccountEraser]:
    # Back-channel logout went out already, when the account's sessions ended (`session_ended`).
    def erase(user: User, ctx: RequestContext) -> None:
        oidc.revoke_all_grants(user, ctx)

    return [AccountEraser(
        N_("Your applications' access: what you allowed and their refresh tokens (each is told you signed out)"),
        erase,
    )]


def _nav(_oidc: OidcExtension) -> list[NavEntry]:
    return [NavEntry(
        N_("Applications"), "oidc_pages.applications", order=40, top=True,
        description=N_("The applications you allowed to use your account, and what they may see."),
    )]


def _review(oidc: OidcExtension) -> list[ReviewItem]:
    def status(user: User) -> str:
        count = len(oidc.service.applications(user))
        return str(count) if count else str(lazy_gettext("None"))

    return [ReviewItem(N_("Applications"), "oidc_pages.applications", status)]


CAPABILITY = Capability(
    name="oidc", slot=OIDC, build=build,
    blueprints=(views.bp, pages, demo_bp),
    # Protocol endpoints are called by relying parties (no CSRF token); the consent and
    # logout-confirmation forms keep theirs.
    csrf_exempt=views.CSRF_EXEMPT,
    init_flask=_init_flask, session_ended=_session_ended, offers=_offers, connect=_connect, nav=_nav, review=_review,
    erase_account=_erasers,
    commands=(client_group, keys_group),
    tables="idp.stores.tables_oidc", migrations="oidc",
)
