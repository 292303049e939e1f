"""The sign-in state machine, held server-side under a flow id: identify -> password -> factors -> session."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Callable
from concurrent.futures import Executor
from concurrent.futures import Future
from contextlib import AbstractContextManager
from contextlib import nullcontext
from typing import Any
from typing import Protocol

from idp.auth import policy as password_policy
from idp.auth.factors import Factor
from idp.auth.factors import FactorRegistry
from idp.auth.flow import Flow
from idp.auth.flow import Flows
from idp.auth.flow import FlowStore
from idp.auth.flow import Outcome
from idp.auth.flow import normalise_login
from idp.auth.limits import SignInLimits
from idp.auth.policy import PasswordPolicy
from idp.clock import Clock
from idp.errors import N_
from idp.errors import AuthenticationError
from idp.errors import FlowError
from idp.errors import PasswordLockedError
from idp.errors import ValidationError
from idp.events import EventRecorder
from idp.events import EventTag
from idp.events import Product
from idp.foundation.lockout import LockoutService
from idp.foundation.passwords import Passwords
from idp.foundation.ratelimit import RateLimiter
from idp.foundation.sessions import BrowserSession
from idp.foundation.sessions import SessionService
from idp.model import RequestContext
from idp.model import User
from idp.model import UserStatus
from idp.standing import Act
from idp.standing import first_factor_act
from idp.standing import may
from idp.standing import standing

# Stands in for the account when a login names none: its id names no row, so the background
# read of its factors (see SignInService._prefetch) finds nothing, after the same statements.
_NOBODY = User(
    id=0, subject="", email="", display_name="", password_hash=None, status=UserStatus.DISABLED, locale=None,
    lockout_threshold=0, locked_at=None, created_at=dt.datetime.fromtimestamp(0, dt.UTC),
    updated_at=dt.datetime.fromtimestamp(0, dt.UTC),
)

# Others import these from here.
__all__ = ["Flow", "Outcome", "PasswordPolicy", "SignInService", "UserLookup", "normalise_login"]

log = logging.getLogger(__name__)


class UserLookup(Protocol):
    def by_email(self, email: str) -> User | None: ...
    def get(self, user_id: int) -> User | None: ...
    def replace_password_hash(self, user_id: int, old_hash: str, new_hash: str) -> bool: ...


class SignInService:
    def __init__(
        self, *, flows: FlowStore, users: UserLookup, passwords: Passwords, lockout: LockoutService,
        ratelimit: RateLimiter, sessions: SessionService, events: EventRecorder, factors: FactorRegistry,
        clock: Clock, flow_ttl: int, ip_limit: int, ip_window: int, account_ip_limit: int = 20,
        unit: Callable[[], AbstractContextManager[None]] = nullcontext, background: Executor | None = None,
    ) -> None:
        self.flows = Flows(flows, flow_ttl)
        self.users, self.passwords = users, passwords
        # The database's `unit()`: what follows a verified proof (the account's factors, the
        # sign-in event and what its subscribers read and write) is one transaction, never
        # held across the password hash.
        self.unit = unit
        self.lockout, self.sessions = lockout, sessions
        self.events, self.factors, self.clock = events, factors, clock
        self.limits = SignInLimits(
            ratelimit, lockout, ip_limit=ip_limit, ip_window=ip_window, account_ip_limit=account_ip_limit
        )
        # Asked at the e-mail step whether that login may use a password (see PasswordPolicy).
        self.password_policies: list[PasswordPolicy] = []
        # Reads the account's second factors while its password is being hashed (see _prefetch).
        self.background = background

    def start(self, *, next_url: str | None = None, extra: dict[str, Any] | None = None) -> Flow:
        return self.flows.start(next_url=next_url, extra=extra)

    def load(self, flow_id: str | None) -> Flow:
        return self.flows.load(flow_id)

    # -- steps --------------------------------------------------------------------------

    def identify(self, flow_id: str | None, login: str) -> Flow:
        """Remember the e-mail and move to the password step. Says nothing about whether an
        account exists: the answer comes after the password, the same for both."""
        flow = self.load(flow_id)
        flow.login = normalise_login(login)
        flow.step = "password"
        flow.user_id, flow.amr, flow.factors, flow.methods = None, [], [], []
        password_policy.decide(flow, self.password_policies)
        self.flows.save(flow)
        return flow

    @staticmethod
    def password_refusal(flow: Flow, policy: str) -> dict[str, Any] | None:
        """The note `policy` kept in this flow when it refused the login a password."""
        return password_policy.refusal(flow, policy)

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
        flow, ttl_ms = self.flows.claim(flow_id)
        completing = False
        try:
            if flow.step not in ("password", "factor") or not flow.login:
                raise FlowError("enter your e-mail address first")
            held = self.limits.hold(ctx.ip)
            try:
                password_policy.allow_password(flow, self.password_policies, ctx)
                if not password:
                    raise ValidationError(N_("Enter your password."), field="password")
            except (ValidationError, FlowError):
                self.limits.release(held)  # no password was tried
                raise
            user = self.users.by_email(flow.login)
            self.limits.hold_account(user, flow.login, ctx.ip, held)
            factors = self._prefetch(user)
            verification = self.passwords.verify(user.password_hash if user else None, password)
            if user is None or not verification.ok or not may(user, Act.PASSWORD):
                if factors is not None:
                    factors.cancel()  # not waited for: the refusal does not depend on it
                self._refuse(user, flow.login, ctx, reason=_reason(user, verification.ok))
                raise AuthenticationError("wrong e-mail or password")
            if verification.needs_rehash and user.password_hash:
                self._rehash(user, user.password_hash, password, ctx)
            self.limits.succeeded(user, held)
            flow.user_id, flow.amr, flow.methods = user.id, ["pwd"], ["password"]
            outcome = self._after_first_factor(flow, user, ctx, claimed=True, prefetched=factors)
            completing = outcome.done
            return outcome  # asking a factor: given back below, at its new step
        finally:
            if not completing:
                self.flows.give_back(flow, ttl_ms)

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
        self.flows.abandon(flow_id)

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
        held = self.limits.hold(ctx.ip)
        self.limits.hold_account(user, user.email, ctx.ip, held)
        verification = self.passwords.verify(user.password_hash, password)
        if not verification.ok:
            self.events.record_event(EventTag.REAUTH_FAILED, ctx=ctx, user_id=user.id)
            self.lockout.register_failure(user, user.email, ctx)
            raise AuthenticationError("wrong password")
        self.limits.succeeded(user, held)
        self.events.record_event(EventTag.REAUTH_SUCCEEDED, ctx=ctx, user_id=user.id, details={"method": "pwd"})
        return self.sessions.reauthenticated(session, ["pwd"])

    # -- internals ----------------------------------------------------------------------

    def _prefetch(self, user: User | None) -> Future[list[Factor]] | None:
        """Start reading the account's second factors in the background, while its password is
        hashed (argon2 releases the GIL). A read only, on a connection of its own, outside any
        transaction. Nothing the answer shows, nor when it comes, depends on it: a refusal does
        not wait for it, and a login that names no account reads the factors of no account
        (`_NOBODY`), so that the same work runs beside the same hash (the dummy one)."""
        if self.background is None:
            return None
        return self.background.submit(self.factors.for_user, user or _NOBODY)

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
                    self.flows.save(flow)
                return Outcome(flow)
            return self._complete(flow, user, ctx, taken=claimed)

    def _complete(self, flow: Flow, user: User, ctx: RequestContext, *, taken: bool = False) -> Outcome:
        if not taken and not self.flows.take(flow.id):
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
            details={"reason": reason} | ({} if user else {"login_digest": _login_digest(login)}),
        )

    def _rehash(self, user: User, old_hash: str, password: str, ctx: RequestContext) -> None:
        if self.users.replace_password_hash(user.id, old_hash, self.passwords.hash(password)):
            self.events.record_event(EventTag.PASSWORD_REHASHED, ctx=ctx, user_id=user.id)


def _login_digest(login: str) -> str:
    return hashlib.sha256(login.encode()).hexdigest()[:16]


def _reason(user: User | None, password_ok: bool) -> str:
    if user is None:
        return "unknown_account"
    if not password_ok:
        return "password"
    return str(standing(user))  # locked or disabled
