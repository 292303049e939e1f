"""Tables of the security center: each person's sign-in notification choices and second
notification address, and the devices and networks they signed in from."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean
from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy import UniqueConstraint
from sqlalchemy import false
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from idp.stores.models import Base


class NotificationPrefRow(Base):
    """One row per person who changed the defaults; no row means the defaults (failed on)."""

    __tablename__ = "security_notification_prefs"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    on_success: Mapped[bool] = mapped_column(Boolean, default=False)
    on_failure: Mapped[bool] = mapped_column(Boolean, default=True)
    # Mail a successful sign-in from a device or a network not seen before on this account.
    on_new: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    updated_at: Mapped[dt.datetime]
    # A second address that receives the notifications too, once confirmed; the pending one
    # waits for its link, which names `pending_nonce` (a new address, a new nonce: the old link dies).
    address: Mapped[str | None] = mapped_column(String(254))
    pending_address: Mapped[str | None] = mapped_column(String(254))
    pending_nonce: Mapped[str | None] = mapped_column(String(32))


class KnownPlaceRow(Base):
    """A device (keyed digest of its cookie) or a network (IPv4 /24, IPv6 /48) an account signed
    in from; the most recent ones of each kind are kept (bounded per account)."""

    __tablename__ = "security_known_places"
    __table_args__ = (UniqueConstraint("user_id", "kind", "place", name="uq_security_known_places_user_kind_place"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8))  # "device" or "network"
    place: Mapped[str] = mapped_column(String(64))
    first_seen: Mapped[dt.datetime]
    last_seen: Mapped[dt.datetime]
