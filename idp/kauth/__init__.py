"""kAuth: sign-in approval on an enrolled device, with number matching."""

from __future__ import annotations

from typing import TYPE_CHECKING
from typing import Any

if TYPE_CHECKING:
    from idp.container import Container
    from idp.model import RequestContext
    from idp.model import User


def init_app(app: Any, container: Any) -> None:
    """Build the kAuth service, register its pages, device API, factor, nav entry and review item."""
    from idp.errors import N_
    from idp.foundation.review import ReviewItem
    from idp.kauth.api import bp as api_bp
    from idp.kauth.factor import KauthFactor
    from idp.kauth.push import LogPushSender
    from idp.kauth.push import PushSender
    from idp.kauth.push import WebhookPushSender
    from idp.kauth.service import KauthService
    from idp.kauth.views import bp
    from idp.kauth.views import review_status
    from idp.stores.kauth import RedisKauthStore
    from idp.stores.kauth import SqlKauthDeviceStore
    from idp.stores.redis import Keys
    from idp.web.nav import FactorSection

    settings = container.settings
    push: PushSender
    if settings.kauth.webhook_url:
        push = WebhookPushSender(settings.kauth.webhook_url, settings.kauth.webhook_secret.get_secret_value(),
                                 timeout=settings.kauth.webhook_timeout)
    else:
        push = LogPushSender()
    service = KauthService(
        devices=SqlKauthDeviceStore(container.db),
        state=RedisKauthStore(container.redis, Keys(settings.redis.key_prefix)),
        users=container.users, events=container.events, mail=container.mail, push=push, clock=container.clock,
        settings=settings.kauth, server_secret=settings.secret_key.get_secret_value() or "testing-only",
        site_name=settings.site_name,
    )
    service.on_first_device.append(lambda user, ctx: first_recovery_codes(container, user, ctx))
    service.on_last_device_removed.append(lambda user: forget_recovery_codes(container, user))
    container.ext["kauth"] = service
    container.factors.register(KauthFactor(service, container.factors))
    container.review.append(ReviewItem(label=N_("kAuth devices"), endpoint="kauth.devices", status=review_status))
    container.factor_sections.append(FactorSection(
        N_("kAuth on your phone"), N_("Approve a sign-in on your phone by choosing the number this page shows."),
        "kauth.devices", N_("Manage kAuth devices"), review_status,
    ))
    app.register_blueprint(bp)
    app.register_blueprint(api_bp)
    # The device API authenticates by signature, not by a browser cookie: no CSRF token applies.
    app.extensions["csrf"].exempt(api_bp)


def first_recovery_codes(container: Container, user: User, ctx: RequestContext) -> None:
    """With the first kAuth device, a first set of recovery codes when the second-factor
    capability offers them and the account has none: a lost phone must not lock anyone out."""
    codes = container.recovery_codes
    if codes is not None and codes.codes_left(user) == 0:
        codes.regenerate_codes(user, ctx)


def forget_recovery_codes(container: Container, user: User) -> None:
    """With the last kAuth device gone and no other second factor, the recovery codes go too,
    as when the last factor of the second-factor capability is removed."""
    codes = container.recovery_codes
    if codes is not None:
        codes.forget_codes_when_unprotected(user)


def fresh_recovery_codes(container: Container, user: User) -> str | None:
    """The page that shows this person the recovery codes just generated for them, while they
    wait to be shown; None otherwise (or without the second-factor capability)."""
    codes = container.recovery_codes
    return codes.endpoint if codes is not None and codes.shown_codes(user) is not None else None
