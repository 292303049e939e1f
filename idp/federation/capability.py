"""Single sign-on's declaration: its composition root (the only place that builds its stores)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask_babel import lazy_gettext

from idp.account.deletion import AccountEraser
from idp.account.org_rules import OrgAct
from idp.auth.factors import ReauthMethod
from idp.auth.factors import SignInAlternative
from idp.capability import Capability
from idp.capability import IdentifyRoute
from idp.errors import N_
from idp.federation import FEDERATION
from idp.federation import views
from idp.federation.cli import sso_group
from idp.federation.entra import EntraClient
from idp.federation.http import UpstreamHttp
from idp.federation.oidc_upstream import OidcUpstreamClient
from idp.federation.service import FederationService
from idp.foundation.review import ReviewItem
from idp.model import RequestContext
from idp.model import User
from idp.stores.federation import RedisFederationStore
from idp.stores.federation import SqlFederationStore
from idp.stores.redis import Keys
from idp.web.nav import NavEntry
from idp.web.nav import OrgPage

if TYPE_CHECKING:
    from idp.container import Container


def build(container: Container) -> FederationService:
    settings = container.settings
    conf = settings.federation
    http = UpstreamHttp(ca_bundle=conf.ca_bundle, timeout=conf.http_timeout, clock=container.clock)
    return FederationService(
        sql=SqlFederationStore(container.db),
        state=RedisFederationStore(container.redis, Keys(settings.redis.key_prefix)),
        http=http, entra=EntraClient(http, authority_host=conf.entra_authority_host),
        oidc=OidcUpstreamClient(http), accounts=container.accounts, users=container.users,
        signin=container.signin, events=container.events, mail=container.mail,
        secrets_box=container.secrets, ratelimit=container.ratelimit, clock=container.clock, settings=conf,
    )


def _alternatives(_service: FederationService) -> list[SignInAlternative]:
    return [SignInAlternative(lazy_gettext(N_("Sign in with SSO")), "federation.start")]


def _identify_routes(_service: FederationService) -> list[IdentifyRoute]:
    return [views.identify_route]


def _password_policies(service: FederationService) -> list[FederationService]:
    return [service]


def _reauth(service: FederationService) -> list[ReauthMethod]:
    return [ReauthMethod(
        lazy_gettext(N_("Confirm with your organisation's directory")), "federation.reauth",
        lambda user: service.reauth_connection(user) is not None,
    )]


def _review(service: FederationService) -> list[ReviewItem]:
    def links_status(user: User) -> str:
        names = [c.name if c else link.namespace for link, c in service.links(user)]
        return ", ".join(names) or str(lazy_gettext(N_("No linked account")))

    return [ReviewItem(N_("Linked directory accounts"), "federation.links", links_status)]


def _nav(service: FederationService) -> list[NavEntry]:
    return [NavEntry(
        N_("Linked directory accounts"), "federation.links", order=50,
        description=N_("Sign in through your organisation's directory (single sign-on)."),
        visible=lambda user: bool(service.links(user) or service.linkable(user)),
    )]


# Linked from the organisation's page to the roles that manage its connections.
ORG_PAGES = (OrgPage(N_("Single sign-on"), "federation.org_connections", OrgAct.MANAGE_SSO, order=30),)


def _erasers(service: FederationService) -> list[AccountEraser]:
    def erase(user: User, _ctx: RequestContext) -> None:
        for link in service.sql.links_of(user.id):
            service.sql.remove_link(user.id, link.id)

    return [AccountEraser(N_("Your linked directory accounts"), erase)]


CAPABILITY = Capability(
    name="federation", slot=FEDERATION, build=build,
    blueprints=(views.bp,),
    # The directory's form_post arrives without our CSRF token; the state (single use, bound
    # to the browser) is what protects the callback.
    csrf_exempt=(views.callback,),
    alternatives=_alternatives, identify_routes=_identify_routes, password_policies=_password_policies,
    reauth_methods=_reauth, review=_review, nav=_nav, erase_account=_erasers,
    org_pages=lambda _service: ORG_PAGES,
    commands=(sso_group,),
    tables="idp.stores.tables_federation", migrations="federation",
)
