"""domains: transfers of domain names and their numbered failures

Revision ID: domains_0001
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from idp.stores.db import UTCDateTime

revision = "domains_0001"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "domain_transfers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("open_domain", sa.String(length=253), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("fee_cents", sa.Integer(), nullable=True),
        sa.Column("fee_currency", sa.String(length=3), nullable=True),
        sa.Column("fee_charged", sa.Boolean(), nullable=False),
        sa.Column("charged_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("auth_code", sa.Text(), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("requested_by", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("completed_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["org_id"], ["organisations.id"],
                                name=op.f("fk_domain_transfers_org_id_organisations"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["requested_by"], ["users.id"],
                                name=op.f("fk_domain_transfers_requested_by_users"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_domain_transfers")),
        sa.UniqueConstraint("open_domain", name=op.f("uq_domain_transfers_open_domain")),
    )
    op.create_index(op.f("ix_domain_transfers_org_id"), "domain_transfers", ["org_id"])
    op.create_index(op.f("ix_domain_transfers_domain"), "domain_transfers", ["domain"])
    op.create_table(
        "domain_transfer_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("transfer_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.String(length=500), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_how", sa.String(length=8), nullable=True),
        sa.Column("resolved_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["transfer_id"], ["domain_transfers.id"],
                                name=op.f("fk_domain_transfer_failures_transfer_id_domain_transfers"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["resolved_by"], ["users.id"],
                                name=op.f("fk_domain_transfer_failures_resolved_by_users"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_domain_transfer_failures")),
        sa.UniqueConstraint("transfer_id", "number", name="uq_domain_transfer_failures_transfer_number"),
    )


def downgrade() -> None:
    op.drop_table("domain_transfer_failures")
    op.drop_index(op.f("ix_domain_transfers_domain"), table_name="domain_transfers")
    op.drop_index(op.f("ix_domain_transfers_org_id"), table_name="domain_transfers")
    op.drop_table("domain_transfers")
