"""kauth: enrolled devices

Revision ID: kauth_0001
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import idp.stores.db

revision = "kauth_0001"
down_revision = "0001"
branch_labels = ("kauth",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kauth_devices",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("platform", sa.String(length=40), nullable=False),
        sa.Column("public_key", sa.Text(), nullable=True),
        sa.Column("created_at", idp.stores.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", idp.stores.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("removed_at", idp.stores.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("removed_by", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_kauth_devices_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kauth_devices")),
    )
    with op.batch_alter_table("kauth_devices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kauth_devices_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("kauth_devices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kauth_devices_user_id"))
    op.drop_table("kauth_devices")
