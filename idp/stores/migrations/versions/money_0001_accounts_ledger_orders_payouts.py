"""money: prepaid accounts and their ledger, orders and their lines, payouts

The money rows name organisations by id without a foreign key (accounting records outlive what
they speak of); the foundation's 0013 makes sure an organisation's id is never given twice.

Revision ID: money_0001
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from idp.stores.db import UTCDateTime

revision = "money_0001"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "money_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_money_accounts")),
        sa.UniqueConstraint("org_id", "currency", name="uq_money_accounts_org_currency"),
    )
    op.create_table(
        "money_ledger",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=24), nullable=False),
        sa.Column("reference", sa.String(length=40), nullable=True),
        sa.Column("note", sa.String(length=300), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount_cents > 0", name=op.f("ck_money_ledger_positive")),
        sa.CheckConstraint("kind IN ('credit', 'debit')", name=op.f("ck_money_ledger_kind")),
        sa.ForeignKeyConstraint(["account_id"], ["money_accounts.id"],
                                name=op.f("fk_money_ledger_account_id_money_accounts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_money_ledger")),
    )
    op.create_index("ix_money_ledger_account_created", "money_ledger", ["account_id", "created_at"])
    op.create_table(
        "money_orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("method", sa.String(length=12), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("payer", sa.String(length=12), nullable=False),
        sa.Column("paying_org_id", sa.Integer(), nullable=False),
        sa.Column("partner_org_id", sa.Integer(), nullable=True),
        sa.Column("as_partner", sa.Boolean(), nullable=False),
        sa.Column("placed_by", sa.Integer(), nullable=True),
        sa.Column("total_cents", sa.BigInteger(), nullable=False),
        sa.Column("cashback_cents", sa.BigInteger(), nullable=False),
        sa.Column("transfer_sent", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("paid_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("credited_at", UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_money_orders")),
    )
    op.create_index("ix_money_orders_org_created", "money_orders", ["org_id", "created_at"])
    op.create_index("ix_money_orders_status", "money_orders", ["status"])
    op.create_table(
        "money_order_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("product_code", sa.String(length=40), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_cents", sa.BigInteger(), nullable=False),
        sa.Column("public_cents", sa.BigInteger(), nullable=False),
        sa.Column("partner_discount_bp", sa.Integer(), nullable=False),
        sa.Column("degressive_bp", sa.Integer(), nullable=False),
        sa.Column("total_cents", sa.BigInteger(), nullable=False),
        sa.Column("cashback_cents", sa.BigInteger(), nullable=False),
        sa.Column("rule", sa.String(length=24), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["money_orders.id"],
                                name=op.f("fk_money_order_lines_order_id_money_orders")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_money_order_lines")),
    )
    op.create_index(op.f("ix_money_order_lines_order_id"), "money_order_lines", ["order_id"])
    op.create_table(
        "money_payouts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("method", sa.String(length=12), nullable=False),
        sa.Column("destination_encrypted", sa.Text(), nullable=False),
        sa.Column("destination_hint", sa.String(length=80), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("requested_by", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=300), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("paid_at", UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_money_payouts")),
    )
    op.create_index("ix_money_payouts_org_created", "money_payouts", ["org_id", "created_at"])
    op.create_index("ix_money_payouts_state", "money_payouts", ["state"])


def downgrade() -> None:
    op.drop_table("money_payouts")
    op.drop_table("money_order_lines")
    op.drop_table("money_orders")
    op.drop_table("money_ledger")
    op.drop_table("money_accounts")
