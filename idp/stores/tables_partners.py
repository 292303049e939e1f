"""Tables of the partners capability: partner organisations, requests to manage a client, the
partnerships clients grant, and which partner collaborators reach which client."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON
from sqlalchemy import Boolean
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import Integer
from sqlalchemy import String
from sqlalchemy import text
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from idp.stores.models import Base

# At most one live partnership per client organisation: the one its orders are settled with.
_LIVE = text("status = 'active'")


class PartnerOrgRow(Base):
    """An organisation an operator made a partner (`idp org set-partner`)."""

    __tablename__ = "partner_orgs"

    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True)
    since: Mapped[dt.datetime]


class PartnerRequestRow(Base):
    """A partner's request to manage a client, e-mailed to the client's address: the link carries
    the id and a nonce whose digest is kept here (single use, expiring, withdrawable)."""

    __tablename__ = "partner_requests"
    __table_args__ = (Index("ix_partner_requests_partner_state", "partner_org_id", "state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partner_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    # Lower-cased: requests to a person are found by their login address.
    email: Mapped[str] = mapped_column(String(320), index=True)
    full: Mapped[bool] = mapped_column(Boolean)
    rights: Mapped[list[str]] = mapped_column(JSON, default=list)
    payer_is_partner: Mapped[bool] = mapped_column(Boolean)
    days: Mapped[int] = mapped_column(Integer)
    auto_renew: Mapped[bool] = mapped_column(Boolean)
    nonce_digest: Mapped[str] = mapped_column(String(64))
    invited_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending, accepted, declined, cancelled
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    decided_at: Mapped[dt.datetime | None]
    client_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))


class PartnershipRow(Base):
    """A client organisation managed by a partner organisation, on the terms the client granted.
    Deleting either organisation deletes it (and its assignments)."""

    __tablename__ = "partnerships"
    __table_args__ = (
        Index("uq_partnerships_live_client", "client_org_id", unique=True,
              sqlite_where=_LIVE, postgresql_where=_LIVE),
        Index("ix_partnerships_client", "client_org_id"),
        Index("ix_partnerships_partner_status", "partner_org_id", "status"),
        Index("ix_partnerships_status_ends", "status", "ends_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partner_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    client_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("partner_requests.id", ondelete="SET NULL"))
    contact_email: Mapped[str] = mapped_column(String(320))
    full: Mapped[bool] = mapped_column(Boolean)
    rights: Mapped[list[str]] = mapped_column(JSON, default=list)
    payer_is_partner: Mapped[bool] = mapped_column(Boolean)
    term_days: Mapped[int] = mapped_column(Integer)
    auto_renew: Mapped[bool] = mapped_column(Boolean)
    starts_at: Mapped[dt.datetime]
    ends_at: Mapped[dt.datetime]
    status: Mapped[str] = mapped_column(String(16))  # active, ended, expired
    granted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    ended_at: Mapped[dt.datetime | None]
    ended_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class PartnerAssignmentRow(Base):
    """A partner collaborator who reaches one client (legal representatives and administrators
    reach every client without one)."""

    __tablename__ = "partner_assignments"

    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnerships.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)
    assigned_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    assigned_at: Mapped[dt.datetime]
