"""App passwords and API tokens: the capability's declaration, its composition root."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask_babel import gettext

from idp.account.deletion import AccountEraser
from idp.capability import REVOKE_CREDENTIALS
from idp.capability import Capability
from idp.capability import Offer
from idp.crypto import Purpose
from idp.crypto import keys_for
from idp.errors import N_
from idp.foundation.review import ReviewItem
from idp.model import RequestContext
from idp.model import User
from idp.security.credentials import CREDENTIALS
from idp.security.credentials.api import bp as api_bp
from idp.security.credentials.forwardauth import bp as forward_bp
from idp.security.credentials.service import CredentialService
from idp.security.credentials.service import Limits
from idp.security.credentials.views import bp as pages_bp
from idp.stores.credentials import RedisCredentialFailures
from idp.stores.credentials import SqlCredentialStore
from idp.stores.redis import Keys
from idp.web.nav import NavEntry

if TYPE_CHECKING:
    from idp.container import Container


def build(container: Container) -> CredentialService:
    settings = container.settings
    security = settings.security
    return CredentialService(
        SqlCredentialStore(container.db),
        RedisCredentialFailures(container.redis, Keys(settings.redis.key_prefix)),
        container.users, container.ratelimit, container.events, container.mail, container.clock,
        keys=keys_for(settings.secret_key.get_secret_value() or "testing-only", Purpose.CREDENTIALS),
        limits=Limits(
            max_per_user=security.credentials_max_per_user, token_max_days=security.api_token_max_days,
            per_ip=security.credentials_per_ip, window=security.credentials_window,
            failures_per_ip=security.credentials_failures_per_ip,
            failure_window=security.credentials_failure_window,
        ),
    )


def _offers(service: CredentialService) -> list[Offer]:
    # The compromised-password wizard revokes them all.
    return [REVOKE_CREDENTIALS.offer(service.revoke_all)]


def _nav(_service: CredentialService) -> list[NavEntry]:
    return [NavEntry(
        N_("App passwords and API tokens"), "credentials.index", order=30, top=True,
        description=N_("For mail clients, scripts and tools that cannot use two-step verification."),
    )]


def _review(service: CredentialService) -> list[ReviewItem]:
    def app_passwords_status(user: User) -> str:
        count = service.count_app_passwords(user)
        if count == 1:
            return str(gettext("1 app password"))
        return str(gettext("%(num)d app passwords", num=count))

    def tokens_status(user: User) -> str:
        count = service.count_api_tokens(user)
        if count == 1:
            return str(gettext("1 API token"))
        return str(gettext("%(num)d API tokens", num=count))

    return [
        ReviewItem(N_("App passwords"), "credentials.index", app_passwords_status),
        ReviewItem(N_("API tokens"), "credentials.index", tokens_status),
    ]


def _erasers(service: CredentialService) -> list[AccountEraser]:
    # Revoked, then deleted with the account's row in the same transaction.
    def erase(user: User, ctx: RequestContext) -> None:
        service.revoke_all(user, ctx)

    return [AccountEraser(N_("Your app passwords and API tokens"), erase)]


CAPABILITY = Capability(
    name="credentials", slot=CREDENTIALS, build=build,
    blueprints=(pages_bp, forward_bp, api_bp),
    # Bearer tokens, not cookies, authenticate the API and forward auth: there is no ambient
    # credential to forge with.
    csrf_exempt=(api_bp, forward_bp),
    nav=_nav, review=_review, offers=_offers, erase_account=_erasers,
    tables="idp.stores.tables_credentials", migrations="credentials",
)
