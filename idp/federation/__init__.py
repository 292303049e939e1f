"""Single sign-on: organisations' Entra ID tenants (msal) and generic OpenID Connect directories
(Authlib's client), linked identities, and the "Sign in with SSO" button."""

from __future__ import annotations

from typing import Any

from idp.auth.factors import ReauthMethod
from idp.auth.factors import SignInAlternative
from idp.errors import N_


def init_app(app: Any, container: Any) -> None:
    from flask_babel import lazy_gettext

    from idp.federation import views
    from idp.federation.entra import EntraClient
    from idp.federation.http import UpstreamHttp
    from idp.federation.oidc_upstream import OidcUpstreamClient
    from idp.federation.service import FederationService
    from idp.stores.federation import RedisFederationStore
    from idp.stores.federation import SqlFederationStore
    from idp.stores.redis import Keys

    settings = container.settings
    conf = settings.federation
    http = UpstreamHttp(ca_bundle=conf.ca_bundle, timeout=conf.http_timeout, clock=container.clock)
    service = FederationService(
        sql=SqlFederationStore(container.db),
        state=RedisFederationStore(container.redis, Keys(settings.redis.key_prefix)),
        http=http, entra=EntraClient(http, authority_host=conf.entra_authority_host),
        oidc=OidcUpstreamClient(http), accounts=container.accounts, users=container.users,
        signin=container.signin, events=container.events, mail=container.mail,
        secrets_box=container.secrets, ratelimit=container.ratelimit, clock=container.clock, settings=conf,
    )
    container.ext["federation"] = service
    app.register_blueprint(views.bp)
    # The directory's form_post arrives without our CSRF token; the state (single use, bound
    # to the browser) is what protects the callback.
    app.extensions["csrf"].exempt(views.callback)
    container.alternatives.append(SignInAlternative(lazy_gettext(N_("Sign in with SSO")), "federation.start"))
    container.identify_routes.append(views.identify_route)
    container.signin.password_policies.append(service)
    app.jinja_env.globals.setdefault("reauth_alternatives", []).append(
        ReauthMethod(
            lazy_gettext(N_("Confirm with your organisation's directory")), "federation.reauth",
            lambda user: service.reauth_connection(user) is not None,
        )
    )

    from idp.foundation.review import ReviewItem
    from idp.web.nav import NavEntry

    def links_status(user: Any) -> str:
        names = [c.name if c else link.namespace for link, c in service.links(user)]
        return ", ".join(names) or str(lazy_gettext(N_("No linked account")))

    container.review.append(ReviewItem(N_("Linked directory accounts"), "federation.links", links_status))
    container.nav.append(NavEntry(
        N_("Linked directory accounts"), "federation.links", order=50,
        description=N_("Sign in through your organisation's directory (single sign-on)."),
        visible=lambda user: bool(service.links(user) or service.linkable(user)),
    ))
