"""kAuth's declaration: its composition root (the only place that builds its stores)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from idp.account.deletion import AccountEraser
from idp.auth.factors import FactorRegistry
from idp.capability import RECOVERY_CODES
from idp.capability import Capability
from idp.errors import N_
from idp.foundation.review import ReviewItem
from idp.kauth import KAUTH
from idp.kauth import first_recovery_codes
from idp.kauth import forget_recovery_codes
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

if TYPE_CHECKING:
    from idp.container import Container


def build(container: Container) -> KauthService:
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
    return service


def _connect(service: KauthService, container: Container) -> None:
    # Recovery codes come with the first device and go with the last, when idp.mfa keeps them.
    codes = container.find(RECOVERY_CODES)
    service.on_first_device.append(lambda user, ctx: first_recovery_codes(codes, user, ctx))
    service.on_last_device_removed.append(lambda user: forget_recovery_codes(codes, user))


def _factors(service: KauthService, registry: FactorRegistry) -> list[KauthFactor]:
    # The factor weighs the account's other factors (the hourly cap).
    return [KauthFactor(service, registry)]


def _review(_service: KauthService) -> list[ReviewItem]:
    return [ReviewItem(label=N_("kAuth devices"), endpoint="kauth.devices", status=review_status)]


def _factor_sections(_service: KauthService) -> list[FactorSection]:
    return [FactorSection(
        N_("kAuth on your phone"), N_("Approve a sign-in on your phone by choosing the number this page shows."),
        "kauth.devices", N_("Manage kAuth devices"), review_status,
    )]


def _erasers(service: KauthService) -> list[AccountEraser]:
    return [AccountEraser(N_("Your kAuth devices (each phone is told it was removed)"), service.erase)]


CAPABILITY = Capability(
    name="kauth", slot=KAUTH, build=build,
    blueprints=(bp, api_bp),
    # The device API authenticates by signature, not by a browser cookie: no CSRF token applies.
    csrf_exempt=(api_bp,),
    factors=_factors, review=_review, factor_sections=_factor_sections, connect=_connect,
    erase_account=_erasers,
    tables="idp.stores.tables_kauth", migrations="kauth",
)
