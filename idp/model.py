"""Plain value types shared by services and stores (no framework, no ORM)."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from dataclasses import field
from typing import Any


class UserStatus(enum.StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"
    # Signed up, its address not yet proven by the e-mailed link: it can do nothing until then.
    PENDING = "pending"


class Role(enum.StrEnum):
    LEGAL_REPRESENTATIVE = "legal_representative"
    ADMIN = "admin"
    COLLABORATOR = "collaborator"


@dataclass(frozen=True)
class User:
    id: int
    subject: str
    email: str
    display_name: str
    password_hash: str | None
    status: UserStatus
    locale: str | None
    lockout_threshold: int
    locked_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime
    # IANA time zone its pages and mail write moments in; None: UTC.
    timezone: str | None = None
    # The profile's names (OpenID given_name, family_name); display_name follows them unless the
    # person wrote another.
    given_name: str | None = None
    family_name: str | None = None
    # Bumped at each new picture, part of its address (cached for ever); None: no picture.
    avatar_version: int | None = None
    # The number applications get (OpenID phone_number): the first confirmed one, else None.
    phone_number: str | None = None
    # When the login e-mail was proven by a link sent to it (sign-up, invitation, e-mail change);
    # None: set by an operator or a directory, never proven here (OpenID email_verified false).
    email_verified_at: dt.datetime | None = None

    @property
    def is_active(self) -> bool:
        return self.status is UserStatus.ACTIVE


@dataclass(frozen=True)
class Organisation:
    id: int
    slug: str
    name: str
    created_at: dt.datetime
    # Members without a second factor are sent to enrol at their next sign-in.
    require_factor: bool = False


@dataclass(frozen=True)
class Membership:
    user_id: int
    org_id: int
    role: Role
    org_slug: str = ""
    org_name: str = ""


@dataclass(frozen=True)
class Invitation:
    """An e-mailed invitation to join an organisation with a role (state pending, accepted or revoked)."""

    id: int
    org_id: int
    email: str
    role: Role
    nonce_digest: str
    invited_by: int | None
    state: str
    created_at: dt.datetime
    expires_at: dt.datetime


@dataclass(frozen=True)
class Phone:
    """A phone number of the account, as E.164 (`+41446681800`), with the person's label."""

    id: int
    user_id: int
    label: str
    number: str
    verified_at: dt.datetime | None
    created_at: dt.datetime

    @property
    def verified(self) -> bool:
        return self.verified_at is not None


@dataclass(frozen=True)
class RequestContext:
    """Who is asking, as far as the network can tell; given to every service call."""

    ip: str = "unknown"
    user_agent: str = ""
    # The browser's device cookie (random, made by us; set again at each sign-in), so that the
    # sign-in notification can tell a known device from a new one. Never stored as such, and
    # kept out of repr so that no log line carries it.
    device_key: str = field(default="", repr=False)


@dataclass(frozen=True)
class Event:
    id: int
    created_at: dt.datetime
    tag: str
    product: str
    user_id: int | None
    org_id: int | None
    actor_id: int | None
    ip: str | None
    user_agent: str | None
    device: str | None
    details: dict[str, Any] = field(default_factory=dict)
    # The request's device cookie, handed to subscribers of the event just recorded; not a
    # column (an event read back from the log has none).
    device_key: str = field(default="", repr=False, compare=False)
