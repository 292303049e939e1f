"""The sign-in state machine, held server-side under a flow id: identify -> password -> factors -> session."""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable
from concurrent.futures import Executor
from concurrent.futures import Future
from contextlib import AbstractContextManager
from contextlib import nullcontext
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import Protocol

from email_validator import EmailNotValidError
from email_validator import validate_email

from idp.auth.factors import Factor
from idp.auth.factors import FactorRegistry
from idp.clock import Clock
from idp.errors import N_
from idp.errors import AuthenticationError
from idp.errors import FlowError
from idp.errors import PasswordLockedError
from idp.errors import RateLimitedError
from idp.errors import ValidationError
from idp.events import EventRecorder
from idp.events import EventTag
from idp.events import Product
from idp.foundation.lockout import LockoutService
from idp.foundation.passwords import Passwords
from idp.foundation.ratelimit import Hold
from idp.foundation.ratelimit import RateLimiter
from idp.foundation.sessions import BrowserSession
from idp.foundation.sessions import SessionService
from idp.model import RequestContext
from idp.model import User
from idp.standing import Act
from idp.standing import first_factor_act
from idp.standing import may
from idp.standing import standing

log = logging.getLogger(__name__)

MAX_LOGIN_LENGTH = 320
# The flow's `extra` key under which a PasswordPolicy's refusal is kept.
REFUSAL_KEY = "password_refused"


class FlowStore(Protocol):
    def put(self, digest: str, state: dict[str, Any], ttl: int) -> None: ...
    def get(self, digest: str) -> dict[str, Any] | None: ...
    def replace(self, digest: str, state: dict[str, Any]) -> bool: ...
    def take(self, digest: str) -> dict[str, Any] | None: ...
    def claim(self, digest: str) -> tuple[dict[str, Any], int] | None: ...
    def give_back(self, digest: str, state: dict[str, Any], ttl_ms: int) -> None: ...


class PasswordPolicy(Protocol):
    """Decides at the e-mail step whether a login may use a password at all (e.g. a domain
    whose organisation requires single sign-on). The decision is kept in the flow, so the
    password step asks no store again: a change of policy applies to sign-ins that start
    after it (a flow lives `session.signin_flow_ttl` seconds at most)."""

    name: str

    def check(self, login: str) -> dict[str, Any] | None:
        """None when `login` may use a password; else a note (JSON values) for `refuse`."""
        ...

    def refuse(self, login: str, note: dict[str, Any], ctx: RequestContext) -> ValidationError:
        """A password was sent anyway: record it, and give the error the person reads."""
        ...


class UserLookup(Protocol):
    def by_email(self, email: str) -> User | None: ...
    def get(self, user_id: int) -> User | None: ...
    def replace_password_hash(self, user_id: int, old_hash: str, new_hash: str) -> bool: ...


@dataclass
class Flow:
    """Where one sign-in attempt stands. `step` is identify, password or factor."""

    id: str
    step: str = "identify"
    login: str = ""
    user_id: int | None = None
    next: str | None = None
    amr: list[str] = field(default_factory=list)
    factors: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    # The ways this sign-in was proven, in order, for people ("password", "recovery"...: the
    # labels are in idp.words); `amr` says the same to applications in RFC 8176's coarser terms.
    methods: list[str] = field(default_factory=list)

    def state(self) -> dict[str, Any]:
        return {
            "step": self.step, "login": self.login, "user_id": self.user_id, "next": self.next,
            "amr": self.amr, "factors": self.factors, "extra": self.extra, "methods": self.methods,
        }


@dataclass(frozen=True)
class Outcome:
    """What the page does next: ask for a factor, or set the session cookie and go on."""

    flow: Flow
    session_id: str | None = None
    session: BrowserSession | None = None

    @property
    def done(self) -> bool:
        return self.session_id is not None


def _digest(flow_id: str) -> str:
    return hashlib.sha256(flow_id.encode()).hexdigest()


def normalise_login(login: str) -> str:
    """A syntactically valid e-mail address, or ValidationError (no DNS lookup)."""
    login = login.strip()
    if not login:
        raise ValidationError(N_("Enter your e-mail address."), field="login")
    if len(login) > MAX_LOGIN_LENGTH:
        raise ValidationError(N_("This e-mail address is too long."), field="login")
    try:
        return validate_email(login, check_deliverability=False).normalized
    except EmailNotValidError:
        raise ValidationError(N_("Enter a valid e-mail address."), field="login") from None


class SignInService:
    def __init__(
        self, *, flows: FlowStore, users: UserLookup, passwords: Passwords, lockout: LockoutService,
        ratelimit: RateLimiter, sessions: SessionService, events: EventRecorder, factors: FactorRegistry,
        clock: Clock, flow_ttl: int, ip_limit: int, ip_window: int, account_ip_limit: int = 20,
        unit: Callable[[], AbstractContextManager[None]] = nullcontext, background: Executor | None = None,
    ) -> None:
        self.flows, self.users, self.passwords = flows, users, passwords
        # The database's `unit()`: what follows a verified proof (the account's factors, the
        # sign-in event and what its subscribers read and write) is one transaction, never
        # held across the password hash.
        self.unit = unit
        self.lockout, self.ratelimit, self.sessions = lockout, ratelimit, sessions
        self.events, self.factors, self.clock = events, factors, clock
        # Failed password attempts allowed per window: from one IP (ip_limit), and from one IP
        # on one account (account_ip_limit, ratelimit.signin_per_account_ip). Successes are not
        # counted: an office behind one address signs in all day.
        self.flow_ttl, self.ip_limit, self.ip_window = flow_ttl, ip_limit, ip_window
        self.account_ip_limit = account_ip_limit
        # Asked at the e-mail step whether that login may use a password (see PasswordPolicy).
        self.password_policies: list[PasswordPolicy] = []
        # Reads the account's second factors while its password is being hashed (see _prefetch).
        self.background = background

    # -- flow storage -------------------------------------------------------------------

    def start(self, *, next_url: str | None = None, extra: dict[str, Any] | None = None) -> Flow:
        flow = Flow(id=secrets.token_urlsafe(24), next=next_url, extra=extra or {})
        self.flows.put(_digest(flow.id), flow.state(), self.flow_ttl)
        return flow

    def load(self, flow_id: str | None) -> Flow:
        if not flow_id or len(flow_id) > 64:
            raise FlowError("this sign-in has expired")
        state = self.flows.get(_digest(flow_id))
        if state is None:
            raise FlowError("this sign-in has expired")
        return Flow(id=flow_id, **state)

    def _save(self, flow: Flow) -> None:
        if not self.flows.replace(_digest(flow.id), flow.state()):
            raise FlowError("this sign-in has expired")

    # -- steps --------------------------------------------------------------------------

    def identify(self, flow_id: str | None, login: str) -> Flow:
        """Remember the e-mail and move to the password step. Says nothing about whether an
        account exists: the answer comes after the password, the same for both."""
        flow = self.load(flow_id)
        flow.login = normalise_login(login)
        flow.step = "password"
        flow.user_id, flow.amr, flow.factors, flow.methods = None, [], [], []
        flow.extra.pop(REFUSAL_KEY, None)
        for policy in self.password_policies:
            note = policy.check(flow.login)
            if note is not None:
                flow.extra[REFUSAL_KEY] = {"by": policy.name, "note": note}
                break
        self._save(flow)
        return flow

    @staticmethod
    def password_refusal(flow: Flow, policy: str) -> dict[str, Any] | None:
        """The note `policy` kept in this flow when it refused the login a password."""
        refused = flow.extra.get(REFUSAL_KEY)
        return refused["note"] if isinstance(refused, dict) and refused.get("by") == policy else None

    def check_password(self, flow_id: str | None, password: str, ctx: RequestContext) -> Outcome:
        """Verify the password of the identified account.

        The sign-in limits come first (RateLimitedError: failed attempts from this IP, and from
        this IP on this login, whether or not it names an account). Then one argon2
        verification always runs (against a dummy hash when there is no account), and unknown,
        disabled and locked accounts all get the same AuthenticationError as a wrong password,
        after the same work. Only failures stay counted against the limits.
        """
        # The attempt holds the flow (read and removed in one step) and gives it back unless it
        # opens the session: two racing attempts never both complete, and a success costs no
        # second round trip to take it.
        flow, ttl_ms = self._claim(flow_id)
        completing = False
        try:
            if flow.step not in ("password", "factor") or not flow.login:
                raise FlowError("enter your e-mail address first")
            held = self.ratelimit.hold("signin", ctx.ip, limit=self.ip_limit, window=self.ip_window)
            try:
                self._password_allowed(flow, ctx)
                if not password:
                    raise ValidationError(N_("Enter your password."), field="password")
            except (ValidationError, FlowError):
                self.ratelimit.release(held)  # no password was tried
                raise
            user = self.users.by_email(flow.login)
            self._hold_account(user, flow.login, ctx, held)
            factors = self._prefetch(user)
            verification = self.passwords.verify(user.password_hash if user else None, password)
            if user is None or not verification.ok or not may(user, Act.PASSWORD):
                if factors is not None:
                    factors.cancel()  # not waited for: the refusal does not depend on it
                self._refuse(user, flow.login, ctx, reason=_reason(user, verification.ok))
                raise AuthenticationError("wrong e-mail or password")
            if verification.needs_rehash and user.password_hash:
                self._rehash(user, user.password_hash, password, ctx)
            self._succeeded(user, held)
            flow.user_id, flow.amr, flow.methods = user.id, ["pwd"], ["password"]
            outcome = self._after_first_factor(flow, user, ctx, claimed=True, prefetched=factors)
            completing = outcome.done
            return outcome  # asking a factor: given back below, at its new step
        finally:
            if not completing:
                self.flows.give_back(_digest(flow.id), flow.state(), ttl_ms)

    def factor_passed(
        self, flow_id: str | None, factor: str, amr: list[str], ctx: RequestContext, *, method: str | None = None,
    ) -> Outcome:
        """Called by a factor's page once it verified its proof; completes the sign-in. `method`
        names the proof for people when the factor has several (a security key or a passkey)."""
        flow = self.load(flow_id)
        if flow.step != "factor" or factor not in flow.factors or flow.user_id is None:
            raise FlowError("this step is not expected now")
        with self.unit():
            user = self.users.get(flow.user_id)
            if not may(user, first_factor_act(flow.amr)):
                raise FlowError("this sign-in has expired")
            assert user is not None  # noqa: S101 - may() refuses a missing account
            flow.amr = sorted({*flow.amr, *amr, "mfa"})
            flow.methods = [*flow.methods, method or factor]
            return self._complete(flow, user, ctx)

    def first_factor_passed(self, flow_id: str | None, user_id: int, amr: list[str], ctx: RequestContext) -> Outcome:
        """Complete a sign-in proven by something other than the password (a passkey with user
        verification), found by the credential rather than a typed e-mail. A locked account
        may (the lock stops the password only: idp.standing); a disabled or deleted one gets the
        same AuthenticationError as a wrong password."""
        flow = self.load(flow_id)
        user = self.users.get(user_id)
        if user is None or not may(user, Act.PASSKEY):
            self.events.record_event(
                EventTag.SIGNIN_FAILED, ctx=ctx, user_id=user.id if user else None, product=Product.SIGNIN,
                details={"reason": str(standing(user)), "amr": amr},
            )
            raise AuthenticationError("this account cannot sign in")
        self.lockout.register_success(user)
        flow.user_id, flow.login, flow.amr, flow.methods = user.id, user.email, sorted(set(amr)), ["passkey"]
        with self.unit():
            return self._complete(flow, user, ctx)

    def complete_federated(
        self, flow_id: str | None, user: User, amr: list[str], ctx: RequestContext, extra: dict[str, Any]
    ) -> Outcome:
        """Called once an upstream directory vouched for `user` (single sign-on): the same path
        as after a password, so the account's factors, the lockout reset, the session and the
        sign-in event stay in one place. `extra` is kept on the session (the connection used)."""
        flow = self.load(flow_id)
        if not may(user, Act.SSO):
            raise FlowError("this account cannot sign in now")
        self.lockout.register_success(user)
        flow.login = flow.login or user.email
        flow.user_id, flow.amr, flow.methods = user.id, sorted({"fed", *amr}), ["sso"]
        flow.extra = {**flow.extra, "session_extra": extra}
        return self._after_first_factor(flow, user, ctx)

    def abandon(self, flow_id: str | None) -> None:
        """End a sign-in attempt: its next step needs a new start (and the password again)."""
        if flow_id and len(flow_id) <= 64:
            self.flows.take(_digest(flow_id))

    def factor_failed(self, flow_id: str | None, factor: str, ctx: RequestContext) -> int:
        """A wrong second factor counts toward the account's lockout like a wrong password."""
        flow = self.load(flow_id)
        user = self.users.get(flow.user_id) if flow.user_id else None
        if user is None:
            raise FlowError("this sign-in has expired")
        self.events.record_event(
            EventTag.SIGNIN_FAILED, ctx=ctx, user_id=user.id, product=Product.SIGNIN,
            details={"reason": "factor", "factor": factor},
        )
        return self.lockout.register_failure(user, user.email, ctx)

    def reauthenticate(self, user: User, session: BrowserSession, password: str, ctx: RequestContext) -> BrowserSession:
        """Prove again, with the password, who holds this session (before a sensitive change).

        Limited like sign-in (failures per IP, and per IP on this account); a wrong password
        counts toward the account's lockout.
        """
        if not may(user, Act.PASSWORD):
            raise PasswordLockedError("the password is locked until the account is unlocked")
        held = self.ratelimit.hold("signin", ctx.ip, limit=self.ip_limit, window=self.ip_window)
        self._hold_account(user, user.email, ctx, held)
        verification = self.passwords.verify(user.password_hash, password)
        if not verification.ok:
            self.events.record_event(EventTag.REAUTH_FAILED, ctx=ctx, user_id=user.id)
            self.lockout.register_failure(user, user.email, ctx)
            raise AuthenticationError("wrong password")
        self._succeeded(user, held)
        self.events.record_event(EventTag.REAUTH_SUCCEEDED, ctx=ctx, user_id=user.id, details={"method": "pwd"})
        return self.sessions.reauthenticated(session, ["pwd"])

    # -- internals ----------------------------------------------------------------------

    def _password_allowed(self, flow: Flow, ctx: RequestContext) -> None:
        refused = flow.extra.get(REFUSAL_KEY)
        if not refused:
            return
        policy = next((p for p in self.password_policies if p.name == refused.get("by")), None)
        if policy is None:  # a policy no longer installed: decide again from the e-mail step
            raise FlowError("this sign-in has expired")
        raise policy.refuse(flow.login, refused.get("note") or {}, ctx)

    def _hold_account(self, user: User | None, login: str, ctx: RequestContext, held: Hold) -> None:
        """Count this attempt on the account from this IP, or give the per-IP place back and
        raise RateLimitedError. A login that names no account is counted by its digest: the
        answer, and the work before it, are the same as for an account."""
        try:
            self.ratelimit.hold_account(
                user.id if user else None, login, ctx.ip, limit=self.account_ip_limit, window=self.ip_window
            )
        except RateLimitedError:
            self.ratelimit.release(held)  # a refused attempt is not counted, so one who stops recovers
            raise

    def _succeeded(self, user: User, held: Hold) -> None:
        """The right password: this attempt was no failure, and the account's failures (from
        every IP) are forgotten, as after an unlock."""
        self.lockout.register_success(user, release=held)

    def _prefetch(self, user: User | None) -> Future[list[Factor]] | None:
        """Start reading a known account's second factors in the background, while its password
        is hashed (argon2 releases the GIL). A read only, on a connection of its own, outside any
        transaction. Nothing the answer shows, nor when it comes, depends on it: a refusal does
        not wait for it, so an unknown login (no read) and a wrong password take the same time."""
        if user is None or self.background is None:
            return None
        return self.background.submit(self.factors.for_user, user)

    def _after_first_factor(
        self, flow: Flow, user: User, ctx: RequestContext, *, claimed: bool = False,
        prefetched: Future[list[Factor]] | None = None,
    ) -> Outcome:
        """Ask for a second factor when the account has one, else open the session. A `claimed`
        flow (check_password) is the caller's to give back, and needs no taking. `prefetched`: the
        factors being read already; read here when that read has not started yet."""
        found = prefetched.result() if prefetched is not None and not prefetched.cancel() else None
        with self.unit():
            flow.factors = [f.name for f in (self.factors.for_user(user) if found is None else found)]
            if flow.factors:
                flow.step = "factor"
                if not claimed:
                    self._save(flow)
                return Outcome(flow)
            return self._complete(flow, user, ctx, taken=claimed)

    def _claim(self, flow_id: str | None) -> tuple[Flow, int]:
        if not flow_id or len(flow_id) > 64:
            raise FlowError("this sign-in has expired")
        claimed = self.flows.claim(_digest(flow_id))
        if claimed is None:
            raise FlowError("this sign-in has expired")
        state, ttl_ms = claimed
        return Flow(id=flow_id, **state), ttl_ms

    def _complete(self, flow: Flow, user: User, ctx: RequestContext, *, taken: bool = False) -> Outcome:
        if not taken and self.flows.take(_digest(flow.id)) is None:
            raise FlowError("this sign-in has already completed")
        session_id, session = self.sessions.create(
            user.id, ctx, amr=flow.amr, methods=flow.methods, extra=flow.extra.get("session_extra") or None
        )
        self.events.record_event(
            EventTag.SIGNIN_SUCCEEDED, ctx=ctx, user_id=user.id, product=Product.SIGNIN,
            details={"amr": flow.amr, "methods": flow.methods, "session": session.handle},
        )
        return Outcome(flow, session_id=session_id, session=session)

    def _refuse(self, user: User | None, login: str, ctx: RequestContext, *, reason: str) -> None:
        self.lockout.register_failure(user, login, ctx)
        self.events.record_event(
            EventTag.SIGNIN_FAILED, ctx=ctx, user_id=user.id if user else None,
            product=Product.SIGNIN,
            # An unknown login is kept only as a digest: people type passwords into the
            # e-mail field, and the log must not keep them.
            details={"reason": reason} | ({} if user else {"login_digest": _digest(login)[:16]}),
        )

    def _rehash(self, user: User, old_hash: str, password: str, ctx: RequestContext) -> None:
        if self.users.replace_password_hash(user.id, old_hash, self.passwords.hash(password)):
            self.events.record_event(EventTag.PASSWORD_REHASHED, ctx=ctx, user_id=user.id)


def _reason(user: User | None, password_ok: bool) -> str:
    if user is None:
        return "unknown_account"
    if not password_ok:
        return "password"
    return str(standing(user))  # locked or disabled
