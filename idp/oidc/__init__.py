"""The OpenID Provider: applications sign their users in through OpenID Connect."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from typing import Protocol

from idp.capability import Slot
from idp.model import RequestContext
from idp.model import User

if TYPE_CHECKING:
    from idp.oidc.clients import ClientService
    from idp.oidc.keys import KeyService
    from idp.oidc.logout import BackchannelLogout
    from idp.oidc.server import IdpAuthorizationServer
    from idp.oidc.service import OidcService
    from idp.oidc.tokens import TokenService


class Subjects(Protocol):
    """Accounts by their OIDC subject (the `sub` of tokens), read at every call."""

    def by_subject(self, subject: str) -> User | None: ...


@dataclass(frozen=True)
class DemoClient:
    """The demo relying party of `idp serve --demo` (the page at /demo uses it)."""

    client_id: str
    secret: str
    base: str


@dataclass
class OidcExtension:
    """The OpenID Provider's services, in the `OIDC` slot: other capabilities, the views, the
    fast lane and the `idp client|keys` commands use them."""

    issuer: str
    algorithms: list[str]
    service: OidcService
    clients: ClientService
    keys: KeyService
    tokens: TokenService
    subjects: Subjects
    backchannel: BackchannelLogout
    # Authlib's server, built on the Flask application (None without one: the commands).
    server: IdpAuthorizationServer | None = None
    # How many proxies in front set X-Forwarded-* (`server.trusted_proxies`): the fast lane
    # reads the request's scheme and host through them as ProxyFix does for the views.
    trusted_proxies: int = 0
    # Set by `idp serve --demo`.
    demo: DemoClient | None = None

    def revoke_all_grants(self, user: User, ctx: RequestContext) -> int:
        """Withdraw every consent and revoke every refresh token of the person (compromised
        account); returns the number of applications affected."""
        return int(self.service.revoke_all_grants(user, ctx))


OIDC: Slot[OidcExtension] = Slot("oidc")
