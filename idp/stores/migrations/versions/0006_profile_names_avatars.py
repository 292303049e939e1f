"""Profiles: first and last names, and the picture (its bytes in `avatars`, its version on the account)

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from idp.stores.db import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("given_name", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("family_name", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("avatar_version", sa.Integer(), nullable=True))
    op.create_table(
        "avatars",
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("small", sa.LargeBinary(), nullable=False),
        sa.Column("large", sa.LargeBinary(), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("avatars")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("avatar_version")
        batch.drop_column("family_name")
        batch.drop_column("given_name")
