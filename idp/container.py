"""The composition root: builds the long-lived services from settings, once per process."""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import TypeVar

from idp import metrics
from idp.account.deletion import AccountEraser
from idp.account.deletion import DeletionService
from idp.account.email_change import EmailChangeService
from idp.account.invitations import InvitationService
from idp.account.organisations import OrganisationService
from idp.account.passwords import Limits
from idp.account.passwords import PasswordService
from idp.account.passwords import Rules
from idp.account.phones import PhoneService
from idp.account.profile import ProfileService
from idp.account.reset import PasswordResetService
from idp.account.service import AccountService
from idp.account.signup import SignupLimits
from idp.account.signup import SignupService
from idp.auth.factors import Alternative
from idp.auth.factors import FactorRegistry
from idp.auth.factors import ReauthMethod
from idp.auth.service import SignInService
from idp.capability import COMPROMISED_PASSWORD_URL
from idp.capability import FACTOR_ENROLMENT
from idp.capability import UNLOCK_LINKS
from idp.capability import IdentifyRoute
from idp.capability import Pluggable
from idp.capability import Slot
from idp.capability import Slots
from idp.clock import Clock
from idp.clock import SystemClock
from idp.crypto import Purpose
from idp.crypto import SecretBox
from idp.crypto import derive
from idp.crypto import fernet_key
from idp.crypto import keys_for
from idp.errors import N_
from idp.events import EventRecorder
from idp.events import EventTag
from idp.foundation.breached import BreachedPasswordCheck
from idp.foundation.breached import FrequencyListCheck
from idp.foundation.breached import NullCheck
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
from idp.model import User
from idp.settings import Settings
from idp.sms import FileSmsSender
from idp.sms import NullSmsSender
from idp.sms import SmsSender
from idp.sms import WebhookSmsSender
from idp.stores import redis as redis_store
from idp.stores.avatars import SqlAvatarStore
from idp.stores.counters import RedisFailureCounter
from idp.stores.counters import RedisRateLimiter
from idp.stores.db import Database
from idp.stores.events import SqlEventStore
from idp.stores.events import SqlOutboxStore
from idp.stores.flows import RedisFlowStore
from idp.stores.orgs import SqlOrganisationStore
from idp.stores.phones import RedisPhoneCodes
from idp.stores.phones import SqlPhoneStore
from idp.stores.sessions import RedisSessionStore
from idp.stores.users import SqlUserStore
from idp.web.nav import FactorSection
from idp.web.nav import NavEntry
from idp.web.nav import OrgPage

PACKAGE = Path(__file__).parent
T = TypeVar("T")


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
    redis: redis_store.Client
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
    profiles: ProfileService
    phones: PhoneService
    users: SqlUserStore
    secrets: SecretBox
    # What capabilities add (idp.capability.Capability.plug).
    # Ways to sign in from the sign-in page (passkey, SSO).
    alternatives: list[Alternative] = field(default_factory=list)
    # Other ways than the password to confirm it is you on /reauth.
    reauth: list[ReauthMethod] = field(default_factory=list)
    # Pages of signed-in people: the account home lists them, the top navigation shows those
    # marked `top` (ordered by `order`).
    nav: list[NavEntry] = field(default_factory=list)
    # Pages about one organisation that capabilities serve, linked from the organisation's page.
    org_pages: list[OrgPage] = field(default_factory=list)
    # Second factors of other capabilities, listed on the two-step verification page.
    factor_sections: list[FactorSection] = field(default_factory=list)
    # Consulted after the e-mail is typed: the URL to send the browser to instead of the
    # password page (an organisation that requires single sign-on), or None.
    identify_routes: list[IdentifyRoute] = field(default_factory=list)
    # Lines of the security review (security center, compromised-password wizard).
    review: list[ReviewItem] = field(default_factory=list)
    # What each capability erases when an account is deleted (the deletion service runs them).
    erasers: list[AccountEraser] = field(default_factory=list)
    # The account's own password pages (idp.account.passwords, idp.account.reset).
    account_passwords: PasswordService = field(init=False)
    password_reset: PasswordResetService = field(init=False)
    email_change: EmailChangeService = field(init=False)
    signup: SignupService = field(init=False)
    deletion: DeletionService = field(init=False)
    # Organisations as their members see them, and invitations to join them.
    organisations: OrganisationService = field(init=False)
    invitations: InvitationService = field(init=False)

    def compromised_password_link(self) -> str:
        """The wizard's address for mail, or the account page when the wizard is not installed."""
        hook = self.find(COMPROMISED_PASSWORD_URL)
        return hook() if hook is not None else self.settings.server.base_url + "/"

    # The capabilities' services and the hooks they offer each other, by typed slot.
    slots: Slots = field(default_factory=Slots)

    def get(self, slot: Slot[T]) -> T:
        """A capability's services (or a hook); LookupError when it is not installed."""
        return self.slots.get(slot)

    def find(self, slot: Slot[T]) -> T | None:
        """A capability's services (or a hook), or None when it is not installed."""
        return self.slots.find(slot)

    def install(self, capabilities: Iterable[Pluggable]) -> None:
        """Build every capability's services (each may offer hooks), then let each take what the
        others offer and add its contributions, in the order given."""
        capabilities = tuple(capabilities)
        for capability in capabilities:
            capability.build_into(self)
        for capability in capabilities:
            capability.plug(self)
        links = self.find(UNLOCK_LINKS)
        if links is not None:
            self.lockout.offer_unlock_links(links)
        self.nav.sort(key=lambda entry: entry.order)
        self.org_pages.sort(key=lambda page: page.order)

    @classmethod
    def build(
        cls, settings: Settings, *, clock: Clock | None = None, mailer: Mailer | None = None,
        capabilities: Iterable[Pluggable] = (),
    ) -> Container:
        """The foundation's services, then the given capabilities' (`install`)."""
        clock = clock or SystemClock()
        db = Database(settings.database_url, echo=settings.database.echo)
        client = redis_store.connect(settings.redis)
        keys = redis_store.Keys(settings.redis.key_prefix)
        users, orgs = SqlUserStore(db), SqlOrganisationStore(db)
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
        container = cls(
            settings=settings, clock=clock, db=db, redis=client, events=events, passwords=passwords,
            mail=mail, outbox=outbox, sessions=sessions, lockout=lockout, ratelimit=ratelimit,
            factors=factors, signin=signin, accounts=accounts, users=users,
            profiles=ProfileService(users, SqlAvatarStore(db), events, clock),
            phones=_phones(settings, db, client, keys, ratelimit, events, clock),
            secrets=SecretBox(_encryption_keys(settings)),
        )
        _account_pages(container, orgs)
        container.deletion = DeletionService(
            users=users, orgs=orgs, events=events, log=SqlEventStore(db), sessions=sessions, mail=mail,
            clock=clock, erasers=container.erasers, unit=db.unit,
        )
        container.install(capabilities)
        return container

    def close(self) -> None:
        self.outbox.stop()
        if self.signin.background is not None:
            self.signin.background.shutdown(wait=True)
        self.db.dispose()
        redis_store.close(self.redis)

    def ready(self) -> dict[str, bool]:
        probe = redis_store.Keys(self.settings.redis.key_prefix).probe()
        return {"database": self.db.ping(), "redis": redis_store.ready(self.redis, probe)}


def build_sms(settings: Settings) -> SmsSender:
    sms = settings.sms
    if sms.backend == "webhook":
        return WebhookSmsSender(sms.webhook_url, sms.webhook_secret.get_secret_value(), timeout=sms.timeout)
    if sms.backend == "file":
        return FileSmsSender(settings.instance_path / "sms")
    return NullSmsSender()


def _phones(
    settings: Settings, db: Database, client: object, keys: redis_store.Keys, ratelimit: RateLimiter,
    events: EventRecorder, clock: Clock,
) -> PhoneService:
    sms = settings.sms
    secret = settings.secret_key.get_secret_value() or "testing-only"
    return PhoneService(
        SqlPhoneStore(db), RedisPhoneCodes(client, keys), build_sms(settings), ratelimit,  # type: ignore[arg-type]
        events, clock, key=derive(secret, Purpose.PHONE_CODES), region=sms.default_region, code_ttl=sms.code_ttl,
        attempts=sms.code_attempts, per_hour=sms.codes_per_hour,
    )


def _account_pages(c: Container, orgs: SqlOrganisationStore) -> None:
    """The account's own pages beyond the profile's services: the password (change or set it,
    reset a forgotten one by e-mail), the login e-mail's change, and their nav entries."""
    settings, rl = c.settings, c.settings.ratelimit
    # The same check as the compromised-password wizard's and the unlock page's.
    breached: BreachedPasswordCheck = (
        FrequencyListCheck() if settings.security.refuse_breached_passwords else NullCheck()
    )
    rules = Rules(c.passwords, breached)
    c.account_passwords = PasswordService(
        users=c.users, limits=Limits(rl.signin_per_ip, rl.signin_per_account_ip, rl.signin_window), rules=rules,
        lockout=c.lockout, ratelimit=c.ratelimit, sessions=c.sessions, events=c.events, mail=c.mail,
        clock=c.clock, policies=c.signin.password_policies, wizard_url=c.compromised_password_link,
    )
    c.password_reset = PasswordResetService(
        users=c.users, secret=settings.secret_key.get_secret_value() or "testing-only",
        base_url=settings.server.base_url, ttl=settings.security.password_reset_link_ttl, unit=c.db.unit,
        rules=rules, lockout=c.lockout, ratelimit=c.ratelimit, sessions=c.sessions, events=c.events,
        mail=c.mail, clock=c.clock, policies=c.signin.password_policies, wizard_url=c.compromised_password_link,
    )

    def status(user: User) -> str:
        return N_("Set") if user.password_hash else N_("Not set")

    c.email_change = EmailChangeService(
        users=c.users, mail=c.mail, events=c.events, ratelimit=c.ratelimit, clock=c.clock,
        policies=c.signin.password_policies, secret=settings.secret_key.get_secret_value() or "testing-only",
        base_url=settings.server.base_url, ttl=settings.security.email_change_link_ttl,
        wizard_url=c.compromised_password_link,
    )
    up = settings.signup
    c.signup = SignupService(
        users=c.users, rules=rules, ratelimit=c.ratelimit, events=c.events, mail=c.mail, clock=c.clock,
        policies=c.signin.password_policies, secret=settings.secret_key.get_secret_value() or "testing-only",
        base_url=settings.server.base_url, ttl=up.link_ttl, unit=c.db.unit,
        limits=SignupLimits(per_ip=up.per_ip, per_address=up.per_address, window=up.window,
                            threshold=settings.lockout.default_threshold),
    )
    c.organisations = OrganisationService(
        orgs=orgs, factors=c.factors, events=c.events, clock=c.clock,
        enrolment=lambda: c.find(FACTOR_ENROLMENT),
    )
    c.invitations = InvitationService(
        orgs=orgs, users=c.users, signup=c.signup, mail=c.mail, events=c.events, ratelimit=c.ratelimit,
        clock=c.clock, secret=settings.secret_key.get_secret_value() or "testing-only",
        base_url=settings.server.base_url, ttl=settings.security.org_invitation_ttl, unit=c.db.unit,
    )
    c.nav.append(NavEntry(N_("Organisations"), "orgs.index", order=60, sections=("orgs", "org_invitations"),
                          description=N_("The organisations you belong to: their members and invitations, and for "
                                         "their administrators locked accounts, activity and single sign-on.")))
    # An unconfirmed account that signs in with its right password gets its link again.
    c.events.subscribe(c.signup.on_signin_failed, [EventTag.SIGNIN_FAILED])
    c.nav.append(NavEntry(
        N_("Your profile"), "profile.profile", order=1, sections=("profile", "phones", "email"),
        description=N_("Your name, your picture, and the language and time zone of your pages and e-mails."),
    ))
    c.nav.append(NavEntry(N_("Password"), "password.change", order=5,
                          description=N_("Change your password, and sign out your other devices.")))
    c.review.append(ReviewItem(N_("Password"), "password.change", status))


def _encryption_keys(settings: Settings) -> list[bytes]:
    explicit = [k.strip().encode() for k in settings.encryption_keys.get_secret_value().split(",") if k.strip()]
    if explicit:
        return explicit
    # Derived: the current key encrypts; the pre-0610 one still decrypts what it encrypted.
    secret = settings.secret_key.get_secret_value() or "testing-only"
    return [fernet_key(key) for key in keys_for(secret, Purpose.AT_REST)]
