"""OpenID Provider: a signing key signs from its activation time (two-phase rotation)

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import idp.stores.db

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("oidc_keys") as batch:
        batch.add_column(sa.Column("activates_at", idp.stores.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("oidc_keys") as batch:
        batch.drop_column("activates_at")
