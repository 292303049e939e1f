"""The OpenID Provider: applications sign their users in through OpenID Connect."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from idp.model import RequestContext
from idp.model import User


@dataclass
class OidcExtension:
    """What `container.ext["oidc"]` holds: the services other features and the views use."""

    issuer: str
    algorithms: list[str]
    service: Any
    server: Any
    clients: Any
    keys: Any
    tokens: Any
    subjects: Any
    backchannel: Any
    # How many proxies in front set X-Forwarded-* (`server.trusted_proxies`): the fast lane
    # reads the request's scheme and host through them as ProxyFix does for the views.
    trusted_proxies: int = 0

    def revoke_all_grants(self, user: User, ctx: RequestContext) -> int:
        """Withdraw every consent and revoke every refresh token of the person (compromised
        account); returns the number of applications affected."""
        return int(self.service.revoke_all_grants(user, ctx))


def build(container: Any) -> OidcExtension:
    """The OIDC services from the container (no Flask): also used by the `idp client|keys` commands."""
    from idp.oidc.clients import ClientService
    from idp.oidc.keys import KeyService
    from idp.oidc.logout import BackchannelLogout
    from idp.oidc.service import OidcService
    from idp.oidc.tokens import TokenService
    from idp.stores.oidc import RedisOidcStore
    from idp.stores.oidc import SqlClientStore
    from idp.stores.oidc import SqlConsentStore
    from idp.stores.oidc import SqlKeyStore
    from idp.stores.oidc import SqlRefreshTokenStore
    from idp.stores.oidc import SqlSubjects
    from idp.stores.redis import Keys

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
        base_url=settings.server.base_url,
        access_lifetime=conf.access_token_lifetime, id_lifetime=conf.id_token_lifetime,
        refresh_lifetime=conf.refresh_token_lifetime,
    )
    service = OidcService(
        issuer=issuer, clients=clients, keys=keys, tokens=tokens, consents=SqlConsentStore(db),
        redis=redis_store, events=events, clock=clock, users=container.users,
        code_lifetime=conf.authorization_code_lifetime, request_ttl=settings.session.signin_flow_ttl * 2,
        session_lifetime=settings.session.absolute_lifetime, unit=db.unit, subjects=(subjects := SqlSubjects(db)),
    )
    backchannel = BackchannelLogout(
        tokens=tokens, clients=clients, redis=redis_store, users=container.users, events=events,
        timeout=conf.backchannel_timeout, inline=settings.testing,
    )
    return OidcExtension(
        issuer=issuer, algorithms=list(keys.algorithms), service=service, server=None, clients=clients,
        keys=keys, tokens=tokens, subjects=subjects, backchannel=backchannel,
        trusted_proxies=settings.server.trusted_proxies,
    )


def init_app(app: Any, container: Any) -> None:
    from idp.errors import N_
    from idp.foundation.review import ReviewItem
    from idp.oidc import server as server_mod
    from idp.oidc import views
    from idp.oidc.demo import bp as demo_bp
    from idp.oidc.pages import pages
    from idp.web.nav import NavEntry

    ext = build(container)
    ext.server = server_mod.build(app, ext.service)
    server_mod.warn_if_insecure(ext.issuer, "oidc.issuer" if container.settings.oidc.issuer else "server.base_url")
    container.ext["oidc"] = ext
    container.sessions.on_end.append(ext.backchannel.session_ended)
    app.register_blueprint(views.bp)
    app.register_blueprint(pages)
    app.register_blueprint(demo_bp)
    views.exempt_from_csrf(app)
    container.nav.append(NavEntry(
        N_("Applications"), "oidc_pages.applications", order=40, top=True,
        description=N_("The applications you allowed to use your account, and what they may see."),
    ))

    def status(user: User) -> str:
        from flask_babel import lazy_gettext

        count = len(ext.service.applications(user))
        return str(count) if count else str(lazy_gettext("None"))

    container.review.append(ReviewItem(N_("Applications"), "oidc_pages.applications", status))
