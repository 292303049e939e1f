"""SQL tables as SQLAlchemy 2 typed models; Alembic migrations are written from these."""

from __future__ import annotations

import datetime as dt
from typing import Any
from typing import ClassVar

from sqlalchemy import JSON
from sqlalchemy import Boolean
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import Integer
from sqlalchemy import LargeBinary
from sqlalchemy import MetaData
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import UniqueConstraint
from sqlalchemy import false
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from idp.stores.db import UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dt.datetime: UTCDateTime, dict[str, Any]: JSON}


class UserRow(Base):
    __tablename__ = "users"
    # SQLite gives a deleted row's id again unless the table says AUTOINCREMENT (migration 0009);
    # a deleted account's id must never name another account.
    __table_args__ = {"sqlite_autoincrement": True}  # noqa: RUF012 - SQLAlchemy's own attribute

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Opaque, stable identifier handed to applications (OIDC `sub`); never the row id.
    subject: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(320))
    # Lower-cased login e-mail: the unique key, so uniqueness is case-insensitive everywhere.
    email_key: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(512))
    status: Mapped[str] = mapped_column(String(16), default="active")
    locale: Mapped[str | None] = mapped_column(String(8))
    timezone: Mapped[str | None] = mapped_column(String(64))
    given_name: Mapped[str | None] = mapped_column(String(100))
    family_name: Mapped[str | None] = mapped_column(String(100))
    avatar_version: Mapped[int | None] = mapped_column(Integer)
    # The first confirmed of the account's phones, kept here so the claims read one row.
    phone_number: Mapped[str | None] = mapped_column(String(16))
    lockout_threshold: Mapped[int] = mapped_column(Integer, default=10)
    locked_at: Mapped[dt.datetime | None]
    password_changed_at: Mapped[dt.datetime | None]
    # When the login e-mail was proven by a link sent to it (OpenID email_verified); None: never.
    email_verified_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]


class OrganisationRow(Base):
    __tablename__ = "organisations"
    # Money rows name an organisation by id and outlive it (migration 0013): SQLite must
    # never give a deleted organisation's id to another.
    __table_args__ = {"sqlite_autoincrement": True}  # noqa: RUF012 - SQLAlchemy's own attribute

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime]
    require_factor: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class AvatarRow(Base):
    """A person's picture, re-encoded at the sizes the pages use: in SQL, so every host serves it."""

    __tablename__ = "avatars"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    small: Mapped[bytes] = mapped_column(LargeBinary)
    large: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[dt.datetime]


class PhoneRow(Base):
    """A phone number of an account (E.164), confirmed by a texted code or not yet."""

    __tablename__ = "phones"
    __table_args__ = (UniqueConstraint("user_id", "number", name="uq_phones_user_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(40))
    number: Mapped[str] = mapped_column(String(16))
    verified_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime]


class MembershipRow(Base):
    __tablename__ = "memberships"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    org_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[dt.datetime]


class InvitationRow(Base):
    """An e-mailed invitation to join an organisation: the link carries its id and a nonce whose
    digest is kept here, so it works once (state) and can be withdrawn."""

    __tablename__ = "org_invitations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(32))
    nonce_digest: Mapped[str] = mapped_column(String(64))
    invited_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending, accepted, revoked
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]


class EventRow(Base):
    __tablename__ = "events"
    __table_args__ = (Index("ix_events_user_created", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(index=True)
    tag: Mapped[str] = mapped_column(String(64), index=True)
    product: Mapped[str] = mapped_column(String(64))
    # No foreign keys: the log outlives what it speaks of.
    user_id: Mapped[int | None]
    org_id: Mapped[int | None] = mapped_column(index=True)
    actor_id: Mapped[int | None]
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(512))
    device: Mapped[str | None] = mapped_column(String(200))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class OutboxRow(Base):
    __tablename__ = "mail_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[dt.datetime]
    to_addr: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    # Which mail it was (the template's name), kept once the body is gone.
    template: Mapped[str | None] = mapped_column(String(64))
    # The body holds links that act for the recipient (unlock, sign-in codes): it is dropped as
    # soon as the message is delivered or given up. Delivered and given-up rows are deleted
    # after `mail.retention_days`.
    body_text: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(index=True)
    lease_until: Mapped[dt.datetime | None]
    sent_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    failed_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    last_error: Mapped[str | None] = mapped_column(String(500))


def _load_feature_tables() -> None:
    """Import every `idp/stores/tables_<feature>.py`, so that Base.metadata (Alembic, tests) knows
    all tables while each feature keeps its tables in its own module."""
    import importlib
    import pkgutil

    import idp.stores

    for module in pkgutil.iter_modules(idp.stores.__path__):
        if module.name.startswith("tables_"):
            importlib.import_module(f"idp.stores.{module.name}")


_load_feature_tables()
