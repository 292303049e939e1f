"""Signing up: an account made pending by the sign-up page, activated by a signed single-use link
e-mailed to its address; the same page, and the same work, whether or not the address has one."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import time
from collections.abc import Callable
from collections.abc import Sequence
from contextlib import AbstractContextManager
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any
from typing import Protocol

from idp.account.passwords import Rules
from idp.account.passwords import sso_refusal
from idp.account.profile import MAX_NAME
from idp.account.profile import _clean
from idp.account.profile import composed
from idp.auth.service import PasswordPolicy
from idp.auth.service import normalise_login
from idp.clock import Clock
from idp.crypto import Purpose
from idp.crypto import derive
from idp.errors import N_
from idp.errors import ConflictError
from idp.errors import RateLimitedError
from idp.errors import ValidationError
from idp.events import EventRecorder
from idp.events import EventTag
from idp.events import Product
from idp.foundation.links import AccountLinks
from idp.foundation.ratelimit import RateLimiter
from idp.mail import MailService
from idp.model import Event
from idp.model import RequestContext
from idp.model import User
from idp.model import UserStatus
from idp.standing import Standing
from idp.standing import standing

VERIFY_PATH = "/signup/verify/"
LOGIN_PATH = "/login"
FORGOT_PATH = "/login/forgot"
# Accounts never confirmed are deleted this many link lifetimes after they signed up.
PRUNE_AFTER_LINKS = 7
NOT_VALID = N_("This activation link is not valid. Sign in with your e-mail address and password to get a new one.")
EXPIRED = N_("This activation link has expired. Sign in with your e-mail address and password to get a new one.")
USED = N_("This activation link was already used, or a newer one was sent since. Sign in, or open the newest link.")
WRONG_PASSWORD = N_("This is not the password chosen when signing up.")
SSO_DOMAIN = N_(
    "Your organisation requires single sign-on for addresses at this domain: there is no account to"
    " create here. Sign in with your organisation instead."
)


class SignupStore(Protocol):
    def get(self, user_id: int) -> User | None: ...
    def by_email(self, email: str) -> User | None: ...
    def create(
        self, *, email: str, display_name: str, password_hash: str | None, now: dt.datetime,
        locale: str | None = None, lockout_threshold: int = 10, status: UserStatus = UserStatus.ACTIVE,
        given_name: str | None = None, family_name: str | None = None, email_verified: bool = False,
    ) -> User: ...
    def replace_pending(
        self, user_id: int, old_hash: str | None, *, password_hash: str, display_name: str,
        given_name: str | None, family_name: str | None, locale: str | None, now: dt.datetime,
    ) -> bool: ...
    def activate(self, user_id: int, password_hash: str | None, now: dt.datetime) -> bool: ...
    def delete_pending(self, signed_up_before: dt.datetime) -> int: ...


@dataclass(frozen=True)
class SignupRequest:
    """What the person typed (the sign-up page; later an invitation's page)."""

    email: str
    given_name: str
    family_name: str
    password: str
    confirm: str
    locale: str | None = None


@dataclass(frozen=True)
class Candidate:
    """A request that follows every rule: the address normalised, the names cleaned, the hash made."""

    email: str
    given_name: str | None
    family_name: str | None
    display_name: str
    password_hash: str
    locale: str | None


@dataclass(frozen=True)
class SignupLimits:
    """Sign-ups per window from one IP and for one address (counted by its digest, whether or
    not an account has it); activations tried per window from one IP; at most one new link per
    account per `resend_window` when it signs in unconfirmed."""

    per_ip: int = 10
    per_address: int = 3
    window: int = 3600
    verify_per_ip: int = 30
    resend_window: int = 600
    # Seconds a sign-up takes at least. Every path hashes the password and renders one mail;
    # only a new account's row and the outbox row differ (a few ms), lost in this wait.
    floor: float = 0.5
    threshold: int = 10  # the new account's lockout threshold (lockout.default_threshold)


class SignupService:
    """A link is `<user id>.<signed [fingerprint, expiry s]>`, signed by itsdangerous (HMAC-SHA256)
    with the sign-up link key and a salt naming the account's id and address, as the reset link
    is (idp.account.reset). The fingerprint is a keyed hash of the account's status and password
    hash: activating it (status active) or a newer sign-up for the same pending address (a new
    hash) ends every link sent before, without storage; the activation is a compare-and-set on
    both, so of two submissions exactly one wins.

    Activating asks for the password chosen at sign-up, besides the link: someone who signs up
    with another person's address cannot have the owner activate an account whose password they
    know (pre-account takeover); the owner who did not sign up cannot, and the account is
    deleted unconfirmed (`prune_pending`). The owner's own new sign-up replaces a pending one."""

    def __init__(
        self, *, users: SignupStore, rules: Rules, ratelimit: RateLimiter, events: EventRecorder,
        mail: MailService, clock: Clock, policies: Sequence[PasswordPolicy], secret: str, base_url: str,
        ttl: int, limits: SignupLimits = SignupLimits(),
        unit: Callable[[], AbstractContextManager[None]] = nullcontext,
    ) -> None:
        self.users, self.rules, self.ratelimit, self.events = users, rules, ratelimit, events
        self.mail, self.clock, self.policies, self.base_url = mail, clock, policies, base_url.rstrip("/")
        self.ttl, self.limits, self.unit = ttl, limits, unit
        self._sleep: Callable[[float], None] = lambda seconds: time.sleep(seconds) if seconds > 0 else None
        self._key = derive(secret, Purpose.SIGNUP_LINK)
        self._links = AccountLinks(self._key, "idp sign-up link", clock, ttl)

    # -- the link ---------------------------------------------------------------------------


    def _fingerprint(self, user: User) -> str:
        state = f"{user.status.value}\x00{user.password_hash or 'no password'}"
        return hmac.new(self._key, state.encode(), hashlib.sha256).hexdigest()[:32]

    def token_for(self, user: User) -> str:
        return self._links.make(user, self._fingerprint(user))


    def check(self, token: str) -> User:
        """The pending account this link activates, or ValidationError: altered, forged or of a
        deleted account is not valid; past its expiry, expired; of an account no longer in the
        state it was sent for (activated, replaced by a newer sign-up, disabled), used."""
        verified = self._links.read(token, self.users.get, str)
        if verified is None:
            raise ValidationError(NOT_VALID)
        user, fingerprint, expires = verified
        if expires <= self.clock.now().timestamp():
            raise ValidationError(EXPIRED)
        if standing(user) is not Standing.PENDING or not hmac.compare_digest(fingerprint, self._fingerprint(user)):
            raise ValidationError(USED)
        return user

    def verify(self, token: str, password: str, ctx: RequestContext) -> User:
        """Activate the link's account (`account:user:verified`) when the password is the one
        chosen at sign-up; the person then signs in as anyone does (the link signs nobody in).
        Rate-limited per IP (RateLimitedError); ValidationError says what is wrong."""
        self.ratelimit.check("signup_verify", ctx.ip, limit=self.limits.verify_per_ip, window=self.limits.window)
        user = self.check(token)
        if not password:
            raise ValidationError(N_("Enter your password."), field="password")
        if len(password) > 1024 or not self.rules.passwords.verify(user.password_hash, password).ok:
            raise ValidationError(WRONG_PASSWORD, field="password")
        if not self.users.activate(user.id, user.password_hash, self.clock.now()):
            raise ValidationError(USED)
        self.events.record_event(EventTag.USER_VERIFIED, ctx=ctx, user_id=user.id, product=Product.SIGNIN)
        return user

    # -- signing up -------------------------------------------------------------------------

    def validate(self, request: SignupRequest) -> Candidate:
        """The request's values once every rule holds, else ValidationError naming the field: a
        valid address (field `email`), a first name, names that can be shown, an address whose
        organisation does not require single sign-on (that says only the domain's policy, as the
        sign-in's e-mail step does), and a new password by the change's and reset's rules."""
        try:
            email = normalise_login(request.email)
        except ValidationError as exc:
            exc.field = "email"
            raise
        given = _clean(request.given_name, "given_name", MAX_NAME)
        family = _clean(request.family_name, "family_name", MAX_NAME)
        if not given:
            raise ValidationError(N_("Enter your first name."), field="given_name")
        if sso_refusal(self.policies, email):
            raise ValidationError(SSO_DOMAIN, field="email")
        self.rules.check(dataclasses.replace(_NOBODY, email=email), request.password, request.confirm)
        return Candidate(
            email=email, given_name=given, family_name=family or None,
            display_name=composed(given, family or None, email),
            password_hash=self.rules.passwords.hash(request.password),
            locale=request.locale if request.locale in ("en", "fr") else None,
        )

    def open_account(self, candidate: Candidate, ctx: RequestContext, *, proven: bool, how: str = "signup") -> User:
        """Create the account (`account:user:signed_up`, details `how`): pending with its
        activation link mailed, or active when the address is already `proven` (an invitation
        opened from that mailbox). ConflictError when the address has an account (any case)."""
        user = self.users.create(
            email=candidate.email, display_name=candidate.display_name, password_hash=candidate.password_hash,
            now=self.clock.now(), locale=candidate.locale, lockout_threshold=self.limits.threshold,
            status=UserStatus.ACTIVE if proven else UserStatus.PENDING,
            given_name=candidate.given_name, family_name=candidate.family_name, email_verified=proven,
        )
        self.events.record_event(
            EventTag.USER_SIGNED_UP, ctx=ctx, user_id=user.id, product=Product.SIGNIN,
            details={"how": how, "outcome": "active" if proven else "pending"},
        )
        if not proven:
            self._mail_link(user, ctx)
        return user

    def sign_up(self, request: SignupRequest, ctx: RequestContext) -> None:
        """The sign-up page's one call; the page then says the same whatever happened, and the
        call takes at least `limits.floor` seconds whatever happened (the password is hashed on
        every path):

        - a new address gets a pending account and its activation link;
        - an address whose account is still pending: the new sign-up replaces it (names,
          password) and a new link goes out; links sent before stop working;
        - an active or locked account's address gets a mail saying it has an account, with the
          sign-in and "forgot your password?" links; nothing changes;
        - a disabled account's address gets nothing.
        Raises RateLimitedError past the limits per IP and per address, and ValidationError
        (before any account is looked up) for input that breaks a rule."""
        started = time.monotonic()
        try:
            self._sign_up(request, ctx)
        finally:
            self._sleep(self.limits.floor - (time.monotonic() - started))

    def _sign_up(self, request: SignupRequest, ctx: RequestContext) -> None:
        limits = self.limits
        self.ratelimit.check("signup", ctx.ip, limit=limits.per_ip, window=limits.window)
        candidate = self.validate(request)
        digest = hashlib.sha256(candidate.email.lower().encode()).hexdigest()
        self.ratelimit.check("signup_address", digest, limit=limits.per_address, window=limits.window)
        existing = self.users.by_email(candidate.email)
        with self.unit():
            if existing is None:
                try:
                    self.open_account(candidate, ctx, proven=False)
                    return
                except ConflictError:  # signed up a moment ago by a parallel request
                    existing = self.users.by_email(candidate.email)
            self._existing(existing, candidate, ctx, digest)

    def _existing(self, user: User | None, candidate: Candidate, ctx: RequestContext, digest: str) -> None:
        kind = standing(user)
        if user is not None and kind is Standing.PENDING:
            now = self.clock.now()
            if self.users.replace_pending(
                user.id, user.password_hash, password_hash=candidate.password_hash,
                display_name=candidate.display_name, given_name=candidate.given_name,
                family_name=candidate.family_name, locale=candidate.locale, now=now,
            ):
                replaced = self.users.get(user.id)
                assert replaced is not None  # noqa: S101 - just updated
                self.events.record_event(EventTag.USER_SIGNED_UP, ctx=ctx, user_id=user.id, product=Product.SIGNIN,
                                         details={"how": "signup", "outcome": "replaced"})
                self._mail_link(replaced, ctx)
            return
        # Not this account's event: the owner did nothing. Only a digest of the address is kept.
        outcome = "exists" if kind in (Standing.ACTIVE, Standing.LOCKED) else "refused"
        self.events.record_event(EventTag.USER_SIGNED_UP, ctx=ctx, product=Product.SIGNIN,
                                 details={"how": "signup", "outcome": outcome, "login_digest": digest[:16]})
        values: dict[str, Any] = {
            "when": self.clock.now(), "ip": ctx.ip, "login_url": self.base_url + LOGIN_PATH,
            "forgot_url": self.base_url + FORGOT_PATH,
        }
        if user is not None and outcome == "exists":
            self.mail.queue_for(user, "account_signup_exists", **values)
        else:  # rendered and dropped: only the outbox row is missing from the work
            self.mail.render("account_signup_exists", name="", **values)

    def _mail_link(self, user: User, ctx: RequestContext, *, again: bool = False) -> None:
        self.mail.queue_for(
            user, "account_signup_verify", link=self.base_url + VERIFY_PATH + self.token_for(user),
            hours=max(1, self.ttl // 3600), when=self.clock.now(), ip=ctx.ip, again=again,
        )

    # -- an unconfirmed account signing in ----------------------------------------------------

    def on_signin_failed(self, event: Event) -> None:
        """Subscriber of `account:signin:failed`: a pending account refused with its right
        password (reason `pending`; a wrong one says `password`) gets its link again, at most
        once per `limits.resend_window`. The sign-in page gives the same answer as to a wrong
        password, so nobody learns the address has an account; its owner finds the link."""
        if event.user_id is None or event.details.get("reason") != Standing.PENDING.value:
            return
        user = self.users.get(event.user_id)
        if user is None or standing(user) is not Standing.PENDING:
            return
        try:
            self.ratelimit.check("signup_resend", str(user.id), limit=1, window=self.limits.resend_window)
        except RateLimitedError:
            return
        self._mail_link(user, RequestContext(ip=event.ip or "unknown"), again=True)

    def prune_pending(self) -> int:
        """Delete the accounts never confirmed `PRUNE_AFTER_LINKS` link lifetimes after they
        signed up (a newer sign-up for the address restarts the count); returns how many."""
        return self.users.delete_pending(self.clock.now() - dt.timedelta(seconds=self.ttl * PRUNE_AFTER_LINKS))


# The account a new password is checked against before there is one (the rules read its address).
_NOBODY = User(
    id=0, subject="", email="nobody@invalid", display_name="", password_hash=None,
    status=UserStatus.PENDING, locale=None, lockout_threshold=0, locked_at=None,
    created_at=dt.datetime(1970, 1, 1, tzinfo=dt.UTC), updated_at=dt.datetime(1970, 1, 1, tzinfo=dt.UTC),
)
