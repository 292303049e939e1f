"""App passwords and personal API tokens: issued once, stored as keyed hashes, checked, revoked."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from typing import Protocol

from idp.clock import Clock
from idp.crypto import KeyedHash
from idp.errors import N_
from idp.errors import AuthenticationError
from idp.errors import IdpError
from idp.errors import NotFoundError
from idp.errors import RateLimitedError
from idp.errors import ValidationError
from idp.events import EventRecorder
from idp.events import EventTag
from idp.events import Product
from idp.foundation.ratelimit import RateLimiter
from idp.mail import MailService
from idp.model import RequestContext
from idp.model import User
from idp.security.credentials.formats import TOKEN_PREFIX
from idp.security.credentials.formats import new_api_token
from idp.security.credentials.formats import new_app_password
from idp.security.credentials.formats import normalise_app_password
from idp.security.credentials.formats import well_formed_token
from idp.standing import Act
from idp.standing import may
from idp.standing import standing
from idp.useragent import describe

MAX_NAME = 100

# What an API token may be allowed to do; the label is shown when creating one.
SCOPES: dict[str, str] = {
    "account:read": N_("Read your account details"),
    "activity:read": N_("Read your activity log"),
    "sessions:read": N_("List your sessions"),
    "sessions:manage": N_("List and end your sessions"),
    "proxy:access": N_("Pass the reverse proxy (forward authentication)"),
}
# A scope that includes another: managing sessions needs to see them.
IMPLIES = {"sessions:manage": {"sessions:read"}}


class InvalidTokenError(AuthenticationError):
    """Missing, malformed, unknown, expired or revoked token; says nothing about which."""

    code = "invalid_token"


class InsufficientScopeError(IdpError):
    status = 403
    code = "insufficient_scope"


@dataclass(frozen=True)
class AppPassword:
    id: int
    name: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    last_used_ip: str | None


@dataclass(frozen=True)
class ApiToken:
    id: int
    user_id: int
    name: str
    hint: str
    scopes: list[str]
    created_at: dt.datetime
    expires_at: dt.datetime
    last_used_at: dt.datetime | None
    last_used_ip: str | None

    def allows(self, scope: str) -> bool:
        granted = set(self.scopes)
        for scope_name in self.scopes:
            granted |= IMPLIES.get(scope_name, set())
        return scope in granted


class CredentialStore(Protocol):
    def add_app_password(self, *, user_id: int, name: str, secret_hash: str, now: dt.datetime) -> dict[str, Any]: ...
    def app_passwords(self, user_id: int) -> list[dict[str, Any]]: ...
    def app_password_by_hash(self, secret_hashes: Sequence[str]) -> dict[str, Any] | None: ...
    def rekey_app_password(self, item_id: int, old_hash: str, new_hash: str) -> None: ...
    def count_app_passwords(self, user_id: int) -> int: ...
    def revoke_app_password(self, user_id: int, item_id: int, now: dt.datetime) -> dict[str, Any] | None: ...
    def app_password_used(self, item_id: int, now: dt.datetime, ip: str) -> None: ...
    def add_api_token(
        self, *, user_id: int, name: str, hint: str, secret_hash: str, scopes: list[str],
        now: dt.datetime, expires_at: dt.datetime,
    ) -> dict[str, Any]: ...
    def api_tokens(self, user_id: int) -> list[dict[str, Any]]: ...
    def api_token_by_hash(self, secret_hashes: Sequence[str]) -> dict[str, Any] | None: ...
    def rekey_api_token(self, item_id: int, old_hash: str, new_hash: str) -> None: ...
    def count_api_tokens(self, user_id: int, now: dt.datetime) -> int: ...
    def revoke_api_token(self, user_id: int, item_id: int, now: dt.datetime) -> dict[str, Any] | None: ...
    def api_token_used(self, item_id: int, now: dt.datetime, ip: str) -> None: ...
    def revoke_all(self, user_id: int, now: dt.datetime) -> tuple[int, int]: ...


class FailureCounter(Protocol):
    def count(self, ip: str) -> tuple[int, int]: ...
    def add(self, ip: str, window: int) -> int: ...


class UserLookup(Protocol):
    def get(self, user_id: int) -> User | None: ...
    def by_email(self, email: str) -> User | None: ...


@dataclass(frozen=True)
class Limits:
    max_per_user: int
    token_max_days: int
    per_ip: int
    window: int
    failures_per_ip: int
    failure_window: int


def clean_name(name: str) -> str:
    value = " ".join((name or "").split())
    if not value:
        raise ValidationError(N_("Give it a name."), field="name")
    if len(value) > MAX_NAME:
        raise ValidationError(N_("The name can have at most %(count)s characters."), field="name", count=MAX_NAME)
    if any(ord(c) < 32 or ord(c) == 127 for c in value):  # NUL and the like: no name has them
        raise ValidationError(N_("The name cannot contain control characters."), field="name")
    return value


def _app_password(record: dict[str, Any]) -> AppPassword:
    return AppPassword(
        id=record["id"], name=record["name"], created_at=record["created_at"],
        last_used_at=record["last_used_at"], last_used_ip=record["last_used_ip"],
    )


def _api_token(record: dict[str, Any]) -> ApiToken:
    return ApiToken(
        id=record["id"], user_id=record["user_id"], name=record["name"], hint=record["hint"],
        scopes=list(record["scopes"]), created_at=record["created_at"], expires_at=record["expires_at"],
        last_used_at=record["last_used_at"], last_used_ip=record["last_used_ip"],
    )


class CredentialService:
    """Both credential kinds share the rules written here once: a secret leaves this service
    once, at creation; only HMAC-SHA256(server key, secret) is stored, so a copy of the
    database opens nothing; every check is rate-limited per client IP, and refusals are recorded.

    `keys`: the current server key first, then earlier ones (decision 0610). A secret is looked
    up under all of them in one query, and a row found under an earlier key is re-keyed when the
    secret is accepted, so the earlier keys serve only secrets not used since the upgrade."""

    def __init__(
        self, store: CredentialStore, failures: FailureCounter, users: UserLookup, ratelimit: RateLimiter,
        events: EventRecorder, mail: MailService, clock: Clock, *, keys: Sequence[bytes], limits: Limits,
    ) -> None:
        self.store, self.failures, self.users, self.ratelimit = store, failures, users, ratelimit
        self.events, self.mail, self.clock = events, mail, clock
        self.hashes, self.limits = KeyedHash(keys), limits

    def _hash(self, secret: str) -> str:
        return self.hashes.digest(secret)

    # -- app passwords --------------------------------------------------------------------

    def app_passwords(self, user: User) -> list[AppPassword]:
        return [_app_password(r) for r in self.store.app_passwords(user.id)]

    def count_app_passwords(self, user: User) -> int:
        return self.store.count_app_passwords(user.id)

    def create_app_password(self, user: User, name: str, ctx: RequestContext) -> tuple[AppPassword, str]:
        """A new app password; the secret is returned here and never again."""
        name = clean_name(name)
        if self.store.count_app_passwords(user.id) >= self.limits.max_per_user:
            raise ValidationError(
                N_("You already have %(count)s app passwords; revoke one first."), field="name",
                count=self.limits.max_per_user,
            )
        secret = new_app_password()
        record = self.store.add_app_password(
            user_id=user.id, name=name, secret_hash=self._hash(normalise_app_password(secret) or ""),
            now=self.clock.now(),
        )
        item = _app_password(record)
        self.events.record_event(
            EventTag.APP_PASSWORD_CREATED, ctx=ctx, user_id=user.id, details={"id": item.id, "name": name}
        )
        self._notify(user, "credentials_app_password_created", name, ctx)
        return item, secret

    def revoke_app_password(self, user: User, item_id: int, ctx: RequestContext) -> AppPassword:
        record = self.store.revoke_app_password(user.id, item_id, self.clock.now())
        if record is None:
            raise NotFoundError(N_("There is no such app password."))
        item = _app_password(record)
        self.events.record_event(
            EventTag.APP_PASSWORD_REVOKED, ctx=ctx, user_id=user.id, details={"id": item.id, "name": item.name}
        )
        return item

    def app_password(self, user: User, item_id: int) -> AppPassword:
        for item in self.app_passwords(user):
            if item.id == item_id:
                return item
        raise NotFoundError(N_("There is no such app password."))

    def check_app_password(self, login: str, secret: str, ctx: RequestContext) -> User:
        """The account behind (e-mail, app password), for clients that need a password.

        Rate-limited per IP before any lookup. Every refusal raises the same
        AuthenticationError and counts as a failed attempt from that IP; a refusal for a known
        account is recorded in its log. Refusals do not count toward the account's lockout: an
        app password cannot be guessed (120 bits), so the only effect would be to let anyone
        who knows the e-mail, or a forgotten phone with a revoked password, lock the owner out
        of the web sign-in. A locked or disabled account's app passwords are refused.
        """
        self._throttle(ctx.ip)
        user = self.users.by_email(login.strip()[:320]) if login.strip() else None
        value = normalise_app_password(secret)
        hashes = self.hashes.candidates(value) if value else []
        record = self.store.app_password_by_hash(hashes) if hashes else None
        reason = None
        if user is None:
            reason = "unknown_account"
        elif record is None or record["user_id"] != user.id:
            reason = "wrong"
        elif record["revoked_at"] is not None:
            reason = "revoked"
        elif not may(user, Act.APP_PASSWORD):
            reason = str(standing(user))
        if reason is not None or user is None or record is None:
            self._refused(
                EventTag.APP_PASSWORD_REFUSED, user.id if user else None, ctx,
                {"reason": reason} | ({"id": record["id"]} if record and user and record["user_id"] == user.id else {}),
            )
            raise AuthenticationError("wrong e-mail or app password")
        if record["secret_hash"] != hashes[0]:
            self.store.rekey_app_password(record["id"], record["secret_hash"], hashes[0])
        self.store.app_password_used(record["id"], self.clock.now(), ctx.ip)
        return user

    # -- API tokens -------------------------------------------------------------------------

    def api_tokens(self, user: User) -> list[ApiToken]:
        return [_api_token(r) for r in self.store.api_tokens(user.id)]

    def count_api_tokens(self, user: User) -> int:
        return self.store.count_api_tokens(user.id, self.clock.now())

    def api_token(self, user: User, item_id: int) -> ApiToken:
        for item in self.api_tokens(user):
            if item.id == item_id:
                return item
        raise NotFoundError(N_("There is no such API token."))

    def create_api_token(
        self, user: User, name: str, scopes: list[str], days: int, ctx: RequestContext
    ) -> tuple[ApiToken, str]:
        """A new token with these scopes, valid `days` days (1 to api_token_max_days); the
        token is returned here and never again."""
        name = clean_name(name)
        chosen = sorted(set(scopes))
        if not chosen:
            raise ValidationError(N_("Choose at least one permission."), field="scopes")
        unknown = [s for s in chosen if s not in SCOPES]
        if unknown:
            raise ValidationError(N_("Unknown permission: %(scope)s."), field="scopes", scope=unknown[0][:40])
        if not 1 <= days <= self.limits.token_max_days:
            raise ValidationError(
                N_("The lifetime must be between 1 and %(count)s days."), field="days",
                count=self.limits.token_max_days,
            )
        now = self.clock.now()
        if self.store.count_api_tokens(user.id, now) >= self.limits.max_per_user:
            raise ValidationError(
                N_("You already have %(count)s API tokens; revoke one first."), field="name",
                count=self.limits.max_per_user,
            )
        token = new_api_token()
        record = self.store.add_api_token(
            user_id=user.id, name=name, hint=token[: len(TOKEN_PREFIX) + 4], secret_hash=self._hash(token),
            scopes=chosen, now=now, expires_at=now + dt.timedelta(days=days),
        )
        item = _api_token(record)
        self.events.record_event(
            EventTag.API_TOKEN_CREATED, ctx=ctx, user_id=user.id,
            details={"id": item.id, "name": name, "scopes": chosen, "expires_at": item.expires_at.isoformat()},
        )
        self._notify(user, "credentials_api_token_created", name, ctx)
        return item, token

    def revoke_api_token(self, user: User, item_id: int, ctx: RequestContext) -> ApiToken:
        record = self.store.revoke_api_token(user.id, item_id, self.clock.now())
        if record is None:
            raise NotFoundError(N_("There is no such API token."))
        item = _api_token(record)
        self.events.record_event(
            EventTag.API_TOKEN_REVOKED, ctx=ctx, user_id=user.id, details={"id": item.id, "name": item.name}
        )
        return item

    def check_api_token(self, token: str, ctx: RequestContext, scope: str | None = None) -> tuple[User, ApiToken]:
        """The account and token behind a bearer token, if it is live and allows `scope`.

        Malformed, unknown, expired, revoked tokens and tokens of a disabled or deleted account
        raise InvalidTokenError and count as failures from the client's IP; a live token
        without the scope raises InsufficientScopeError. Refusals of a known token are recorded.
        """
        self._throttle(ctx.ip)
        hashes = self.hashes.candidates(token) if well_formed_token(token) else []
        record = self.store.api_token_by_hash(hashes) if hashes else None
        if record is None:
            self.failures.add(ctx.ip, self.limits.failure_window)
            raise InvalidTokenError("the token is not valid")
        item = _api_token(record)
        user = self.users.get(item.user_id)
        reason = None
        if record["revoked_at"] is not None:
            reason = "revoked"
        elif self.clock.now() >= item.expires_at:
            reason = "expired"
        elif not may(user, Act.API_TOKEN):
            reason = str(standing(user))
        if reason is not None or user is None:
            self._refused(EventTag.API_TOKEN_REFUSED, item.user_id, ctx, {"reason": reason, "id": item.id})
            raise InvalidTokenError("the token is not valid")
        if scope is not None and not item.allows(scope):
            self.events.record_event(
                EventTag.API_TOKEN_REFUSED, ctx=ctx, user_id=user.id, product=Product.API,
                details={"reason": "scope", "id": item.id, "scope": scope},
            )
            raise InsufficientScopeError(f"this token does not allow {scope}")
        if record["secret_hash"] != hashes[0]:
            self.store.rekey_api_token(item.id, record["secret_hash"], hashes[0])
        self.store.api_token_used(item.id, self.clock.now(), ctx.ip)
        return user, item

    # -- both -------------------------------------------------------------------------------

    def revoke_all(self, user: User, ctx: RequestContext) -> int:
        """Revoke every app password and API token of this person (compromised-password wizard);
        each kind that had any is recorded once with its count. Returns how many were revoked."""
        apps, tokens = self.store.revoke_all(user.id, self.clock.now())
        if apps:
            self.events.record_event(
                EventTag.APP_PASSWORD_REVOKED, ctx=ctx, user_id=user.id, details={"all": True, "count": apps}
            )
        if tokens:
            self.events.record_event(
                EventTag.API_TOKEN_REVOKED, ctx=ctx, user_id=user.id, details={"all": True, "count": tokens}
            )
        return apps + tokens

    # -- internals --------------------------------------------------------------------------

    def _throttle(self, ip: str) -> None:
        limits = self.limits
        failures, retry = self.failures.count(ip)
        if failures >= limits.failures_per_ip:
            raise RateLimitedError(retry_after=retry)
        self.ratelimit.check("credentials", ip, limit=limits.per_ip, window=limits.window)

    def _refused(self, tag: EventTag, user_id: int | None, ctx: RequestContext, details: dict[str, Any]) -> None:
        self.failures.add(ctx.ip, self.limits.failure_window)
        if user_id is not None:
            self.events.record_event(tag, ctx=ctx, user_id=user_id, product=Product.API, details=details)

    def _notify(self, user: User, template: str, name: str, ctx: RequestContext) -> None:
        self.mail.queue_for(
            user, template, label=name, ip=ctx.ip,
            device=describe(ctx.user_agent),
            when=self.clock.now(),
        )


def encode_basic(login: str, secret: str) -> str:
    """An HTTP Basic credential (for clients and tests)."""
    return "Basic " + base64.b64encode(f"{login}:{secret}".encode()).decode()
