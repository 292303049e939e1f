"""The composition root: builds the long-lived services from settings, once per process."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

from idp import metrics
from idp.account.service import AccountService
from idp.auth.factors import Alternative
from idp.auth.factors import FactorRegistry
from idp.auth.factors import RecoveryCodes
from idp.auth.service import SignInService
from idp.clock import Clock
from idp.clock import SystemClock
from idp.crypto import Purpose
from idp.crypto import SecretBox
from idp.crypto import fernet_key
from idp.crypto import keys_for
from idp.events import EventRecorder
from idp.foundation.lockout import LockoutService
from idp.foundation.passwords import Passwords
from idp.foundation.ratelimit import RateLimiter
from idp.foundation.review import ReviewItem
from idp.foundation.sessions import SessionService
from idp.mail import FileMailer
from idp.mail import Mailer
from idp.mail import MailService
from idp.mail import NullMailer
from idp.mail import OutboxWorker
from idp.mail import SmtpMailer
from idp.settings import Settings
from idp.stores import redis as redis_store
from idp.stores.counters import RedisFailureCounter
from idp.stores.counters import RedisRateLimiter
from idp.stores.db import Database
from idp.stores.events import SqlEventStore
from idp.stores.events import SqlOutboxStore
from idp.stores.flows import RedisFlowStore
from idp.stores.sessions import RedisSessionStore
from idp.stores.users import SqlOrgStore
from idp.stores.users import SqlUserStore
from idp.web.nav import FactorSection
from idp.web.nav import NavEntry

PACKAGE = Path(__file__).parent


def resource_dir(name: str) -> Path:
    """templates/, static/, translations/: inside the wheel, or at the top of a source checkout."""
    inside = PACKAGE / name
    return inside if inside.is_dir() else PACKAGE.parent / name


def build_mailer(settings: Settings) -> Mailer:
    if settings.mail.backend == "smtp":
        smtp = settings.smtp
        return SmtpMailer(
            smtp.host, smtp.port, username=smtp.username,
            password=smtp.password.get_secret_value(), starttls=smtp.starttls, timeout=smtp.timeout,
        )
    if settings.mail.backend == "file":
        return FileMailer(settings.instance_path / "mail")
    return NullMailer()


@dataclass
class Container:
    settings: Settings
    clock: Clock
    db: Database
    redis: object
    events: EventRecorder
    passwords: Passwords
    mail: MailService
    outbox: OutboxWorker
    sessions: SessionService
    lockout: LockoutService
    ratelimit: RateLimiter
    factors: FactorRegistry
    signin: SignInService
    accounts: AccountService
    users: SqlUserStore
    secrets: SecretBox
    alternatives: list[Alternative] = field(default_factory=list)
    # Pages of signed-in people, added by features: the account home lists them, the top
    # navigation shows those marked `top` (ordered by `order`).
    nav: list[NavEntry] = field(default_factory=list)
    # Second factors of other capabilities, listed on the two-step verification page.
    factor_sections: list[FactorSection] = field(default_factory=list)
    # Consulted after the e-mail is typed: a callable (login, flow) -> URL to send the browser to
    # instead of the password page (an organisation that requires single sign-on), or None.
    identify_routes: list[Callable[[str, Any], str | None]] = field(default_factory=list)
    # Lines of the security review (security center, compromised-password wizard).
    review: list[ReviewItem] = field(default_factory=list)
    # Services built by features (`init_app`), by feature name.
    ext: dict[str, Any] = field(default_factory=dict)
    # Hooks one capability offers others, each set by the capability that owns it and None when
    # that capability is not installed (read them when used, not at start-up: capabilities start
    # in any order).
    # The compromised-password wizard's public address (idp.security.center); called while a
    # request is handled.
    compromised_password_url: Callable[[], str] | None = None
    # Recovery codes, for other capabilities' second factors (idp.mfa).
    recovery_codes: RecoveryCodes | None = None

    @classmethod
    def build(cls, settings: Settings, *, clock: Clock | None = None, mailer: Mailer | None = None) -> Container:
        clock = clock or SystemClock()
        db = Database(settings.database_url, echo=settings.database.echo)
        client = redis_store.connect(settings.redis)
        keys = redis_store.Keys(settings.redis.key_prefix)
        users, orgs = SqlUserStore(db), SqlOrgStore(db)
        outbox_store = SqlOutboxStore(db)
        events = EventRecorder(SqlEventStore(db), clock)
        events.subscribe(metrics.on_event, metrics.EVENT_TAGS)
        pw = settings.password
        passwords = Passwords(
            time_cost=pw.time_cost, memory_cost=pw.memory_cost, parallelism=pw.parallelism,
            min_length=pw.min_length,
        )
        mail = MailService(
            outbox_store, clock, templates=resource_dir("templates"),
            translations=resource_dir("translations"),
            context={"site_name": settings.site_name, "base_url": settings.server.base_url},
        )
        outbox = OutboxWorker(
            outbox_store, mailer or build_mailer(settings), clock, sender=settings.mail.sender,
            max_attempts=settings.mail.max_attempts, retention_days=settings.mail.retention_days,
        )
        sessions = SessionService(
            RedisSessionStore(client, keys), events, clock,
            idle_timeout=settings.session.idle_timeout,
            absolute_lifetime=settings.session.absolute_lifetime,
        )
        lockout = LockoutService(
            RedisFailureCounter(client, keys), users, events, mail, clock,
            window=settings.lockout.failure_window,
        )
        ratelimit = RateLimiter(RedisRateLimiter(client, keys), clock)
        factors = FactorRegistry()
        signin = SignInService(
            flows=RedisFlowStore(client, keys), users=users, passwords=passwords, lockout=lockout,
            ratelimit=ratelimit, sessions=sessions, events=events, factors=factors, clock=clock,
            flow_ttl=settings.session.signin_flow_ttl, ip_limit=settings.ratelimit.signin_per_ip,
            ip_window=settings.ratelimit.signin_window,
            account_ip_limit=settings.ratelimit.signin_per_account_ip, unit=db.unit,
            # As many as the request threads (IDP_THREADS' default); a read that finds no free
            # thread is cancelled and done by the request itself, after the hash.
            background=ThreadPoolExecutor(max_workers=4, thread_name_prefix="idp-signin"),
        )
        accounts = AccountService(
            users, orgs, passwords, events, clock, sessions=sessions,
            default_threshold=settings.lockout.default_threshold,
        )
        return cls(
            settings=settings, clock=clock, db=db, redis=client, events=events, passwords=passwords,
            mail=mail, outbox=outbox, sessions=sessions, lockout=lockout, ratelimit=ratelimit,
            factors=factors, signin=signin, accounts=accounts, users=users,
            secrets=SecretBox(_encryption_keys(settings)),
        )

    def close(self) -> None:
        self.outbox.stop()
        if self.signin.background is not None:
            self.signin.background.shutdown(wait=True)
        self.db.dispose()
        redis_store.close(self.redis)  # type: ignore[arg-type]

    def ready(self) -> dict[str, bool]:
        probe = redis_store.Keys(self.settings.redis.key_prefix).probe()
        return {"database": self.db.ping(), "redis": redis_store.ready(self.redis, probe)}  # type: ignore[arg-type]


def _encryption_keys(settings: Settings) -> list[bytes]:
    explicit = [k.strip().encode() for k in settings.encryption_keys.get_secret_value().split(",") if k.strip()]
    if explicit:
        return explicit
    # Derived: the current key encrypts; the pre-0610 one still decrypts what it encrypted.
    secret = settings.secret_key.get_secret_value() or "testing-only"
    return [fernet_key(key) for key in keys_for(secret, Purpose.AT_REST)]
