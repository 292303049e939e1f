"""Tables of kAuth: the devices enrolled to approve sign-ins."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from idp.stores.models import Base


class KauthDeviceRow(Base):
    """One enrolled device. A removed device keeps its row (the id answers "removed" to the
    device) but loses its public key, so nothing it signs is accepted again."""

    __tablename__ = "kauth_devices"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    platform: Mapped[str] = mapped_column(String(40))
    # SubjectPublicKeyInfo (DER, base64url) of the device's P-256 key; NULL once removed.
    public_key: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime]
    last_seen_at: Mapped[dt.datetime | None]
    removed_at: Mapped[dt.datetime | None]
    # "account" (from the browser) or "device" (the device unenrolled itself).
    removed_by: Mapped[str | None] = mapped_column(String(16))
