"""partners: partner organisations, requests to manage a client, partnerships (at most one live
per client) and the collaborators assigned to a client

Revision ID: partners_0001
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from idp.stores.db import UTCDateTime

revision = "partners_0001"
down_revision = "0001"
branch_labels = None
depends_on = None

_LIVE = sa.text("status = 'active'")


def upgrade() -> None:
    op.create_table(
        "partner_orgs",
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("since", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["organisations.id"], name=op.f("fk_partner_orgs_org_id_organisations"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("org_id", name=op.f("pk_partner_orgs")),
    )
    op.create_table(
        "partner_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partner_org_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("full", sa.Boolean(), nullable=False),
        sa.Column("rights", sa.JSON(), nullable=False),
        sa.Column("payer_is_partner", sa.Boolean(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("auto_renew", sa.Boolean(), nullable=False),
        sa.Column("nonce_digest", sa.String(length=64), nullable=False),
        sa.Column("invited_by", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("client_org_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["partner_org_id"], ["organisations.id"],
                                name=op.f("fk_partner_requests_partner_org_id_organisations"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["client_org_id"], ["organisations.id"],
                                name=op.f("fk_partner_requests_client_org_id_organisations"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["invited_by"], ["users.id"], name=op.f("fk_partner_requests_invited_by_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_requests")),
    )
    op.create_index("ix_partner_requests_email", "partner_requests", ["email"])
    op.create_index("ix_partner_requests_partner_state", "partner_requests", ["partner_org_id", "state"])
    op.create_table(
        "partnerships",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partner_org_id", sa.Integer(), nullable=False),
        sa.Column("client_org_id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("contact_email", sa.String(length=320), nullable=False),
        sa.Column("full", sa.Boolean(), nullable=False),
        sa.Column("rights", sa.JSON(), nullable=False),
        sa.Column("payer_is_partner", sa.Boolean(), nullable=False),
        sa.Column("term_days", sa.Integer(), nullable=False),
        sa.Column("auto_renew", sa.Boolean(), nullable=False),
        sa.Column("starts_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("granted_by", sa.Integer(), nullable=True),
        sa.Column("ended_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["partner_org_id"], ["organisations.id"],
                                name=op.f("fk_partnerships_partner_org_id_organisations"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["client_org_id"], ["organisations.id"],
                                name=op.f("fk_partnerships_client_org_id_organisations"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["request_id"], ["partner_requests.id"],
                                name=op.f("fk_partnerships_request_id_partner_requests"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["granted_by"], ["users.id"], name=op.f("fk_partnerships_granted_by_users"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["ended_by"], ["users.id"], name=op.f("fk_partnerships_ended_by_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partnerships")),
    )
    op.create_index("uq_partnerships_live_client", "partnerships", ["client_org_id"], unique=True,
                    sqlite_where=_LIVE, postgresql_where=_LIVE)
    op.create_index("ix_partnerships_client", "partnerships", ["client_org_id"])
    op.create_index("ix_partnerships_partner_status", "partnerships", ["partner_org_id", "status"])
    op.create_index("ix_partnerships_status_ends", "partnerships", ["status", "ends_at"])
    op.create_table(
        "partner_assignments",
        sa.Column("partnership_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("assigned_by", sa.Integer(), nullable=True),
        sa.Column("assigned_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["partnership_id"], ["partnerships.id"],
                                name=op.f("fk_partner_assignments_partnership_id_partnerships"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_partner_assignments_user_id_users"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["assigned_by"], ["users.id"], name=op.f("fk_partner_assignments_assigned_by_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("partnership_id", "user_id", name=op.f("pk_partner_assignments")),
    )
    op.create_index("ix_partner_assignments_user_id", "partner_assignments", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_partner_assignments_user_id", table_name="partner_assignments")
    op.drop_table("partner_assignments")
    for name in ("ix_partnerships_status_ends", "ix_partnerships_partner_status", "ix_partnerships_client",
                 "uq_partnerships_live_client"):
        op.drop_index(name, table_name="partnerships")
    op.drop_table("partnerships")
    op.drop_index("ix_partner_requests_partner_state", table_name="partner_requests")
    op.drop_index("ix_partner_requests_email", table_name="partner_requests")
    op.drop_table("partner_requests")
    op.drop_table("partner_orgs")
