"""Tables of money: prepaid accounts and their append-only ledger, orders and their lines,
payouts. Amounts are integer cents (BIGINT), exact on every backend (decision 0901).

No foreign key points at an organisation or a person: these rows are accounting records and
outlive what they speak of, as the activity log does (organisation ids are never given twice,
migration 0013). Nothing here is deleted; ledger rows are never updated either.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger
from sqlalchemy import Boolean
from sqlalchemy import CheckConstraint
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import Integer
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from idp.stores.models import Base


class MoneyAccountRow(Base):
    """One prepaid account per organisation and currency: the row every write to its ledger
    locks first (SELECT ... FOR UPDATE), so that debits of one account happen one at a time."""

    __tablename__ = "money_accounts"
    __table_args__ = (UniqueConstraint("org_id", "currency", name="uq_money_accounts_org_currency"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[dt.datetime]


class LedgerEntryRow(Base):
    """A credit or a debit; the balance is their sum. Inserted, never updated nor deleted."""

    __tablename__ = "money_ledger"
    __table_args__ = (
        Index("ix_money_ledger_account_created", "account_id", "created_at"),
        CheckConstraint("amount_cents > 0", name="positive"),
        CheckConstraint("kind IN ('credit', 'debit')", name="kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("money_accounts.id"))
    kind: Mapped[str] = mapped_column(String(8))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(24))
    reference: Mapped[str | None] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(String(300))
    actor_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime]


class OrderRow(Base):
    __tablename__ = "money_orders"
    __table_args__ = (
        Index("ix_money_orders_org_created", "org_id", "created_at"),
        Index("ix_money_orders_status", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    kind: Mapped[str] = mapped_column(String(12))
    method: Mapped[str] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(String(24))
    payer: Mapped[str] = mapped_column(String(12))
    paying_org_id: Mapped[int] = mapped_column(Integer)
    partner_org_id: Mapped[int | None] = mapped_column(Integer)
    as_partner: Mapped[bool] = mapped_column(Boolean)
    placed_by: Mapped[int | None] = mapped_column(Integer)
    total_cents: Mapped[int] = mapped_column(BigInteger)
    cashback_cents: Mapped[int] = mapped_column(BigInteger)
    transfer_sent: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[dt.datetime]
    paid_at: Mapped[dt.datetime | None]
    cancelled_at: Mapped[dt.datetime | None]
    credited_at: Mapped[dt.datetime | None]


class OrderLineRow(Base):
    __tablename__ = "money_order_lines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("money_orders.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    product_code: Mapped[str] = mapped_column(String(40))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_cents: Mapped[int] = mapped_column(BigInteger)
    public_cents: Mapped[int] = mapped_column(BigInteger)
    # Percentages in hundredths of a percent (20 % = 2000): exact, as the settings allow two places.
    partner_discount_bp: Mapped[int] = mapped_column(Integer)
    degressive_bp: Mapped[int] = mapped_column(Integer)
    total_cents: Mapped[int] = mapped_column(BigInteger)
    cashback_cents: Mapped[int] = mapped_column(BigInteger)
    rule: Mapped[str] = mapped_column(String(24))


class PayoutRow(Base):
    __tablename__ = "money_payouts"
    __table_args__ = (
        Index("ix_money_payouts_org_created", "org_id", "created_at"),
        Index("ix_money_payouts_state", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    method: Mapped[str] = mapped_column(String(12))
    # The IBAN or the PayPal address, encrypted (idp.crypto.SecretBox); the hint is masked.
    destination_encrypted: Mapped[str] = mapped_column(Text)
    destination_hint: Mapped[str] = mapped_column(String(80))
    state: Mapped[str] = mapped_column(String(12))
    requested_by: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[dt.datetime]
    decided_at: Mapped[dt.datetime | None]
    paid_at: Mapped[dt.datetime | None]
