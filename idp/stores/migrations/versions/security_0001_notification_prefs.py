"""security center: notification preferences

Revision ID: security_0001
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import idp.stores.db

revision = "security_0001"
down_revision = "0001"
branch_labels = ("security",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "security_notification_prefs",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("on_success", sa.Boolean(), nullable=False),
        sa.Column("on_failure", sa.Boolean(), nullable=False),
        sa.Column("updated_at", idp.stores.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_security_notification_prefs_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_security_notification_prefs")),
    )


def downgrade() -> None:
    op.drop_table("security_notification_prefs")
