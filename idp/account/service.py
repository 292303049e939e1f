"""Account and organisation rules: creating people, changing passwords, disabling accounts,
organisations and roles."""

from __future__ import annotations

import datetime as dt
import re
from typing import Protocol

from idp.auth.service import normalise_login
from idp.clock import Clock
from idp.errors import N_
from idp.errors import NotFoundError
from idp.errors import ValidationError
from idp.events import EventRecorder
from idp.events import EventTag
from idp.events import Product
from idp.foundation.passwords import Passwords
from idp.model import Membership
from idp.model import Organisation
from idp.model import RequestContext
from idp.model import Role
from idp.model import User
from idp.model import UserStatus
from idp.words import TIMEZONES

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
CLI = RequestContext(ip="cli", user_agent="")


class UserStore(Protocol):
    def create(
        self, *, email: str, display_name: str, password_hash: str | None, now: dt.datetime,
        locale: str | None = None, lockout_threshold: int = 10,
    ) -> User: ...
    def get(self, user_id: int) -> User | None: ...
    def by_email(self, email: str) -> User | None: ...
    def set_password_hash(self, user_id: int, password_hash: str, now: dt.datetime) -> User: ...
    def set_status(self, user_id: int, status: UserStatus, now: dt.datetime) -> User: ...
    def set_locale(self, user_id: int, locale: str | None, now: dt.datetime) -> User: ...
    def set_timezone(self, user_id: int, timezone: str | None, now: dt.datetime) -> User: ...


class SessionEnder(Protocol):
    """Ends an account's browser sessions (idp.foundation.sessions.SessionService)."""

    def end_all(
        self, user_id: int, ctx: RequestContext, *, actor_id: int | None = None, reason: str = ""
    ) -> int: ...


class OrgStore(Protocol):
    def create(self, *, slug: str, name: str, now: dt.datetime) -> Organisation: ...
    def by_slug(self, slug: str) -> Organisation | None: ...
    def set_membership(self, *, user_id: int, org_id: int, role: Role, now: dt.datetime) -> Membership: ...
    def memberships_of(self, user_id: int) -> list[Membership]: ...


def _display_name(name: str, email: str) -> str:
    name = " ".join(name.split())
    if len(name) > 200:
        raise ValidationError(N_("The name is too long (200 characters at most)."), field="display_name")
    return name or email.split("@", 1)[0]


class AccountService:
    def __init__(
        self, users: UserStore, orgs: OrgStore, passwords: Passwords, events: EventRecorder,
        clock: Clock, *, sessions: SessionEnder, default_threshold: int,
    ) -> None:
        self.users, self.orgs, self.passwords, self.sessions = users, orgs, passwords, sessions
        self.events, self.clock, self.default_threshold = events, clock, default_threshold

    def user(self, user_id: int) -> User:
        user = self.users.get(user_id)
        if user is None:
            raise NotFoundError("no such account")
        return user

    def find(self, email: str) -> User:
        user = self.users.by_email(email)
        if user is None:
            raise NotFoundError(f"no account with the e-mail {email}")
        return user

    def create_user(
        self, email: str, password: str | None, *, display_name: str = "", locale: str | None = None,
        ctx: RequestContext = CLI, actor_id: int | None = None,
    ) -> User:
        email = normalise_login(email)
        if password is not None:
            self.passwords.check_new(password, email=email)
        if locale not in (None, "en", "fr"):
            raise ValidationError(N_("The language must be en or fr."), field="locale")
        user = self.users.create(
            email=email,
            display_name=_display_name(display_name, email),
            password_hash=self.passwords.hash(password) if password is not None else None,
            now=self.clock.now(),
            locale=locale,
            lockout_threshold=self.default_threshold,
        )
        self.events.record_event(
            EventTag.USER_CREATED, ctx=ctx, user_id=user.id, actor_id=actor_id, product=Product.ADMIN
        )
        return user

    def set_password(
        self, user: User, password: str, *, ctx: RequestContext = CLI, actor_id: int | None = None
    ) -> User:
        self.passwords.check_new(password, email=user.email)
        updated = self.users.set_password_hash(user.id, self.passwords.hash(password), self.clock.now())
        self.events.record_event(
            EventTag.PASSWORD_CHANGED, ctx=ctx, user_id=user.id, actor_id=actor_id,
            details={"by": "owner" if actor_id == user.id else "admin"},
        )
        return updated

    def reset_password(
        self, user: User, password: str, *, ctx: RequestContext = CLI, actor_id: int | None = None
    ) -> int:
        """An administrator sets the account's password: it follows the password rules, and every
        browser session of the account ends (`account:session:ended`, reason `password_set`), so
        whoever knew the old one is signed out. Returns the number of sessions ended."""
        self.set_password(user, password, ctx=ctx, actor_id=actor_id)
        return self.sessions.end_all(user.id, ctx, actor_id=actor_id, reason="password_set")

    def disable(self, user: User, *, ctx: RequestContext = CLI, actor_id: int | None = None) -> int:
        """Turn the account off (`account:user:disabled`) and end every browser session it has
        (`account:session:ended`, reason `disabled`). Every other credential stops at its next
        use, since each check asks `idp.standing.may` (decision 0609); ending the sessions also
        frees their records at once. Returns the number of sessions ended."""
        self._set_status(user, UserStatus.DISABLED, EventTag.USER_DISABLED, ctx, actor_id)
        return self.sessions.end_all(user.id, ctx, actor_id=actor_id, reason="disabled")

    def enable(self, user: User, *, ctx: RequestContext = CLI, actor_id: int | None = None) -> User:
        """Turn a disabled account back on (`account:user:enabled`); its ended sessions stay ended."""
        return self._set_status(user, UserStatus.ACTIVE, EventTag.USER_ENABLED, ctx, actor_id)

    def _set_status(
        self, user: User, status: UserStatus, tag: EventTag, ctx: RequestContext, actor_id: int | None
    ) -> User:
        updated = self.users.set_status(user.id, status, self.clock.now())
        self.events.record_event(tag, ctx=ctx, user_id=user.id, actor_id=actor_id, product=Product.ADMIN)
        return updated

    def set_locale(self, user: User, locale: str) -> User:
        if locale not in ("en", "fr"):
            raise ValidationError(N_("The language must be en or fr."), field="locale")
        return self.users.set_locale(user.id, locale, self.clock.now())

    def set_timezone(self, user: User, timezone: str) -> User:
        """The IANA time zone the account's pages and mail use ("Europe/Zurich"); "UTC" too."""
        timezone = timezone.strip()
        if timezone not in TIMEZONES:
            raise ValidationError(N_("Choose a time zone from the list."), field="timezone")
        return self.users.set_timezone(user.id, None if timezone == "UTC" else timezone, self.clock.now())

    def create_org(self, slug: str, name: str, *, ctx: RequestContext = CLI) -> Organisation:
        slug = slug.strip().lower()
        if not SLUG.match(slug):
            raise ValidationError(
                N_("The short name takes 2 to 63 lower-case letters, digits and dashes."), field="slug"
            )
        name = " ".join(name.split()) or slug
        if len(name) > 200:
            raise ValidationError(N_("The name is too long (200 characters at most)."), field="name")
        org = self.orgs.create(slug=slug, name=name, now=self.clock.now())
        self.events.record_event(
            EventTag.ORG_CREATED, ctx=ctx, org_id=org.id, product=Product.ADMIN,
            details={"slug": slug},
        )
        return org

    def org(self, slug: str) -> Organisation:
        org = self.orgs.by_slug(slug.strip().lower())
        if org is None:
            raise NotFoundError(f"no organisation named {slug}")
        return org

    def add_member(
        self, org: Organisation, user: User, role: Role, *, ctx: RequestContext = CLI,
        actor_id: int | None = None,
    ) -> Membership:
        membership = self.orgs.set_membership(
            user_id=user.id, org_id=org.id, role=role, now=self.clock.now()
        )
        self.events.record_event(
            EventTag.ORG_MEMBER_SET, ctx=ctx, user_id=user.id, org_id=org.id, actor_id=actor_id,
            product=Product.ADMIN, details={"role": role.value},
        )
        return membership

    def memberships(self, user: User) -> list[Membership]:
        return self.orgs.memberships_of(user.id)
