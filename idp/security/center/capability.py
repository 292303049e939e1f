"""The security center's declaration: its composition root."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from idp.capability import COMPROMISED_PASSWORD_URL
from idp.capability import REVOKE_CREDENTIALS
from idp.capability import REVOKE_GRANTS
from idp.capability import UNLOCK_LINKS
from idp.capability import Capability
from idp.capability import Offer
from idp.capability import Subscription
from idp.crypto import KeyedHash
from idp.crypto import Purpose
from idp.crypto import derive
from idp.errors import N_
from idp.foundation.breached import BreachedPasswordCheck
from idp.foundation.breached import FrequencyListCheck
from idp.foundation.breached import NullCheck
from idp.foundation.review import ReviewItem
from idp.model import User
from idp.security.activity import ActivityService
from idp.security.center import SECURITY
from idp.security.center import SecurityServices
from idp.security.center import views
from idp.security.center import views_activity
from idp.security.center import views_org
from idp.security.center import views_unlock
from idp.security.center import views_wizard
from idp.security.center.service import SecurityCenterService
from idp.security.notifications import NotificationService
from idp.security.notify_address import LINK_TTL
from idp.security.notify_address import NotificationAddressService
from idp.security.unlock import UnlockService
from idp.security.wizard import WizardService
from idp.stores.orgs import SqlOrganisationStore
from idp.stores.redis import Keys
from idp.stores.security import RedisNotifyThrottle
from idp.stores.security import SqlActivityStore
from idp.stores.security import SqlNotificationPrefStore
from idp.web.nav import NavEntry

if TYPE_CHECKING:
    from idp.container import Container


def build(container: Container) -> SecurityServices:
    settings = container.settings
    sec = settings.security
    base_url = settings.server.base_url
    keys = Keys(settings.redis.key_prefix)
    secret = settings.secret_key.get_secret_value() or "testing-only"
    breached: BreachedPasswordCheck = FrequencyListCheck() if sec.refuse_breached_passwords else NullCheck()

    activity = ActivityService(
        SqlActivityStore(container.db), container.events, container.clock,
        page_size=sec.activity_page_size, export_limit=sec.activity_export_limit,
    )
    notifications = NotificationService(
        SqlNotificationPrefStore(container.db), RedisNotifyThrottle(container.redis, keys),
        container.users, container.mail, container.events, container.clock,
        base_url=base_url, window=sec.failed_signin_mail_window,
        device_digest=KeyedHash([derive(secret, Purpose.SIGNIN_DEVICE)]).digest,
    )
    notify_address = NotificationAddressService(
        store=SqlNotificationPrefStore(container.db), mail=container.mail, events=container.events,
        clock=container.clock, secret=secret, base_url=base_url, ttl=LINK_TTL,
    )
    unlock = UnlockService(
        users=container.users, accounts=container.accounts, passwords=container.passwords,
        lockout=container.lockout, ratelimit=container.ratelimit, breached=breached,
        events=container.events, clock=container.clock,
        secret=settings.secret_key.get_secret_value() or "testing-only", base_url=base_url,
        ttl=sec.unlock_link_ttl, ip_limit=settings.ratelimit.signin_per_ip,
        ip_window=settings.ratelimit.signin_window,
    )
    center = SecurityCenterService(
        users=container.users, orgs=SqlOrganisationStore(container.db), lockout=container.lockout,
        events=container.events, clock=container.clock,
    )
    wizard = WizardService(
        accounts=container.accounts, passwords=container.passwords, breached=breached,
        lockout=container.lockout, sessions=container.sessions, events=container.events,
        mail=container.mail, clock=container.clock, review=container.review, base_url=base_url,
    )
    return SecurityServices(
        activity=activity, notifications=notifications, unlock=unlock, center=center, wizard=wizard,
        breached=breached, notify_address=notify_address,
    )


def _offers(services: SecurityServices) -> list[Offer]:
    return [
        UNLOCK_LINKS.offer(services.unlock.link_for),
        COMPROMISED_PASSWORD_URL.offer(views_wizard.public_url),
    ]


def _connect(services: SecurityServices, container: Container) -> None:
    # The wizard revokes what the other capabilities keep, when they are installed.
    services.wizard.credentials = container.find(REVOKE_CREDENTIALS)
    services.wizard.grants = container.find(REVOKE_GRANTS)


def _subscribers(services: SecurityServices) -> list[Subscription]:
    notifications = services.notifications
    return [(notifications.on_event, notifications.EVENT_TAGS)]


def _nav(services: SecurityServices) -> list[NavEntry]:
    return [
        NavEntry(N_("Security"), "security.index", order=10, top=True, sections=("security", "activity", "wizard"),
                 description=N_("A review of everything that protects your account.")),
        NavEntry(N_("Sessions and devices"), "security.sessions", order=11,
                 description=N_("Where your account is signed in; sign out a device you do not recognise.")),
        NavEntry(N_("Sign-in notifications"), "security.notifications", order=12,
                 description=N_("Which sign-ins we e-mail you about.")),
        NavEntry(N_("Lockout"), "security.lockout", order=13,
                 description=N_("How many wrong passwords lock your account, and how to unlock it.")),
        NavEntry(N_("Activity"), "activity.own", order=14,
                 description=N_("Sign-ins and changes to your account, with where they came from.")),
        NavEntry(N_("Compromised password?"), "wizard.password", order=15,
                 description=N_("Change your password and sign out everywhere, step by step.")),
    ]


def _combine_args(base: dict[str, object], extra: Mapping[str, object]) -> dict[str, object]:
    """URL arguments: the route's own, then the query's (first value of each)."""
    return {**{k: v for k, v in dict(extra).items() if k not in base}, **base}


def _review(services: SecurityServices) -> list[ReviewItem]:
    labels = {"failure": N_("Failed sign-ins"), "new": N_("New devices and networks"),
              "success": N_("Successful sign-ins"), "both": N_("Every sign-in"), "none": N_("Off")}
    notifications, sessions = services.notifications, services.wizard.sessions  # the foundation's

    def notification_status(user: User) -> str:
        return labels[notifications.get(user).choice]

    def threshold_status(user: User) -> str:
        return str(user.lockout_threshold)

    def sessions_status(user: User) -> str:
        return str(len(sessions.list(user.id)))

    return [
        ReviewItem(N_("Sign-in notifications"), "security.notifications", notification_status),
        ReviewItem(N_("Failed attempts before the account locks"), "security.lockout", threshold_status),
        ReviewItem(N_("Active sessions"), "security.sessions", sessions_status),
    ]


CAPABILITY = Capability(
    name="security center", slot=SECURITY, build=build,
    blueprints=(views.bp, views_activity.bp, views_wizard.bp, views_unlock.bp, views_org.bp, views_org.moved),
    template_filters={"combine_args": _combine_args},
    nav=_nav, org_pages=lambda _services: views_org.ORG_PAGES, review=_review, subscribers=_subscribers,
    offers=_offers, connect=_connect,
    tables="idp.stores.tables_security", migrations="security",
)
