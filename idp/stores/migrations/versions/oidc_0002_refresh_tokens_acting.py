"""OpenID Provider: a grant made while its person acted for a client organisation keeps that
acting state (partnership, both organisations, rights), re-checked at each refresh

Revision ID: oidc_0002
Revises: oidc_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "oidc_0002"
down_revision = "oidc_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("oidc_refresh_tokens") as batch:
        batch.add_column(sa.Column("acting", sa.JSON(none_as_null=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("oidc_refresh_tokens") as batch:
        batch.drop_column("acting")
