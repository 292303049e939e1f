"""Tables of domain transfers and their numbered failures; the fee in cents (exact, no float)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean
from sqlalchemy import ForeignKey
from sqlalchemy import Integer
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from idp.stores.models import Base


class DomainTransferRow(Base):
    __tablename__ = "domain_transfers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    # The ASCII (IDNA) form of the name.
    domain: Mapped[str] = mapped_column(String(253), index=True)
    # The name while the transfer is not completed, NULL after: unique, so one domain has one
    # open transfer at a time (NULLs are distinct on SQLite and PostgreSQL alike).
    open_domain: Mapped[str | None] = mapped_column(String(253), unique=True)
    status: Mapped[str] = mapped_column(String(16))
    # The fee in cents of fee_currency; NULL when the catalogue priced no transfer.
    fee_cents: Mapped[int | None] = mapped_column(Integer)
    fee_currency: Mapped[str | None] = mapped_column(String(3))
    fee_charged: Mapped[bool] = mapped_column(Boolean)
    charged_at: Mapped[dt.datetime | None]
    # The authorisation code, encrypted (idp.crypto.SecretBox), kept only until completion.
    auth_code: Mapped[str | None] = mapped_column(Text)
    # How many failures were reported: the number of the last one.
    failures: Mapped[int] = mapped_column(Integer, default=0)
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    completed_at: Mapped[dt.datetime | None]


class DomainFailureRow(Base):
    __tablename__ = "domain_transfer_failures"
    __table_args__ = (UniqueConstraint("transfer_id", "number", name="uq_domain_transfer_failures_transfer_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    transfer_id: Mapped[int] = mapped_column(ForeignKey("domain_transfers.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str | None] = mapped_column(String(500))
    source: Mapped[str] = mapped_column(String(16))  # registrar, operator
    created_at: Mapped[dt.datetime]
    resolved_at: Mapped[dt.datetime | None]
    resolved_how: Mapped[str | None] = mapped_column(String(8))  # link, page
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
