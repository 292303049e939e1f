"""Tables of the security center: each person's sign-in notification choices."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean
from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from idp.stores.models import Base


class NotificationPrefRow(Base):
    """One row per person who changed the defaults; no row means the defaults (failed on)."""

    __tablename__ = "security_notification_prefs"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    on_success: Mapped[bool] = mapped_column(Boolean, default=False)
    on_failure: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[dt.datetime]
