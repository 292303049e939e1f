"""App passwords, personal API tokens, forward authentication for reverse proxies, the JSON account API."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_babel import gettext

from idp.crypto import Purpose
from idp.crypto import keys_for
from idp.errors import N_
from idp.foundation.review import ReviewItem
from idp.model import User
from idp.security.credentials.service import CredentialService
from idp.security.credentials.service import Limits
from idp.stores.credentials import RedisCredentialFailures
from idp.stores.credentials import SqlCredentialStore
from idp.stores.redis import Keys
from idp.web.nav import NavEntry


def init_app(app: Flask, container: Any) -> None:
    from idp.security.credentials.api import bp as api_bp
    from idp.security.credentials.forwardauth import bp as forward_bp
    from idp.security.credentials.views import bp as pages_bp

    settings = container.settings
    security = settings.security
    service = CredentialService(
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
    # The compromised-password wizard calls revoke_all(user, ctx) through this name.
    container.ext["credentials"] = service
    app.register_blueprint(pages_bp)
    app.register_blueprint(forward_bp)
    app.register_blueprint(api_bp)
    # Bearer tokens, not cookies, authenticate the API: there is no ambient credential to forge with.
    app.extensions["csrf"].exempt(api_bp)
    app.extensions["csrf"].exempt(forward_bp)
    container.nav.append(NavEntry(
        N_("App passwords and API tokens"), "credentials.index", order=30, top=True,
        description=N_("For mail clients, scripts and tools that cannot use two-step verification."),
    ))

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

    container.review.append(ReviewItem(N_("App passwords"), "credentials.index", app_passwords_status))
    container.review.append(ReviewItem(N_("API tokens"), "credentials.index", tokens_status))
