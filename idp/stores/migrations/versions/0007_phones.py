"""Accounts' phone numbers (E.164, with a label), confirmed by a texted code; the first confirmed
one on the account row, for OpenID's phone_number

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from idp.stores.db import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("phone_number", sa.String(length=16), nullable=True))
    op.create_table(
        "phones",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("label", sa.String(length=40), nullable=False),
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("verified_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("user_id", "number", name="uq_phones_user_number"),
    )
    op.create_index("ix_phones_user_id", "phones", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_phones_user_id", table_name="phones")
    op.drop_table("phones")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("phone_number")
